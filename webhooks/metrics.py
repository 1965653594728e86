"""Prometheus metrics for one app instance, on its own registry.

A per-app `CollectorRegistry` (not prometheus-client's global one) lets tests, the demo and two
apps in one process each count their own. Gauges that mirror the database (payments by state,
outbox backlog) are refreshed by the /metrics route at scrape time; counters are bumped where
things happen. Daraja latency comes from httpx event hooks on the Daraja client's AsyncClient,
plus a transport wrapper for requests that never got a response (connect errors, timeouts).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from payments.states import PaymentStatus

_START = "lipabot_started_at"


def daraja_endpoint(path: str) -> str:
    """A small, fixed label set for Daraja URLs (never the raw path)."""
    if path.endswith("/oauth/v1/generate"):
        return "oauth"
    if path.endswith("/stkpushquery/v1/query"):
        return "stk_query"
    if path.endswith("/stkpush/v1/processrequest"):
        return "stk_push"
    return "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.payments = Gauge(
            "lipabot_payments", "Payments by state", ["state"], registry=self.registry
        )
        self.outbox_backlog = Gauge(
            "lipabot_notification_backlog",
            "Notifications waiting to be sent",
            registry=self.registry,
        )
        self.callbacks_received = Counter(
            "lipabot_callbacks_received",
            "Daraja callbacks accepted and handed to the payments service, by what it did",
            ["result"],
            registry=self.registry,
        )
        self.callbacks_rejected = Counter(
            "lipabot_callbacks_rejected",
            "Requests to the callback route that were refused, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.telegram_updates = Counter(
            "lipabot_telegram_updates",
            "Telegram webhook requests by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.daraja_latency = Histogram(
            "lipabot_daraja_request_seconds",
            "Daraja request latency",
            ["endpoint"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
        )
        self.daraja_errors = Counter(
            "lipabot_daraja_errors",
            "Daraja requests that failed (HTTP error status or no response)",
            ["endpoint", "kind"],
            registry=self.registry,
        )
        for state in PaymentStatus:
            self.payments.labels(state=str(state)).set(0)

    # ------------------------------------------------------------------ httpx hooks

    def event_hooks(self) -> dict[str, list[Any]]:
        return {"request": [self._on_request], "response": [self._on_response]}

    async def _on_request(self, request: httpx.Request) -> None:
        request.extensions[_START] = time.perf_counter()

    async def _on_response(self, response: httpx.Response) -> None:
        request = response.request
        endpoint = daraja_endpoint(request.url.path)
        started = request.extensions.get(_START)
        if started is not None:
            self.daraja_latency.labels(endpoint=endpoint).observe(time.perf_counter() - started)
        if response.status_code >= 400:
            self.daraja_errors.labels(endpoint=endpoint, kind=f"http_{response.status_code}").inc()

    def wrap_transport(self, transport: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return _CountingTransport(transport, self)

    # ------------------------------------------------------------------ scrape

    def set_payment_counts(self, counts: dict[str, int]) -> None:
        for state in PaymentStatus:
            self.payments.labels(state=str(state)).set(counts.get(str(state), 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests that end without any response; the event hooks never see those."""

    def __init__(self, inner: httpx.AsyncBaseTransport, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self.inner.handle_async_request(request)
        except httpx.TransportError as exc:
            endpoint = daraja_endpoint(request.url.path)
            kind = type(exc).__name__
            self.metrics.daraja_errors.labels(endpoint=endpoint, kind=kind).inc()
            started = request.extensions.get(_START)
            if started is not None:
                elapsed = time.perf_counter() - started
                self.metrics.daraja_latency.labels(endpoint=endpoint).observe(elapsed)
            raise

    async def aclose(self) -> None:
        await self.inner.aclose()
