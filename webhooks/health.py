"""`GET /healthz` (is this instance able to work?) and `GET /metrics` (Prometheus text).

Both are on the public port, so what a stranger gets is only what a load balancer needs:
`/healthz` answers `{"status": "ok"}` (200) or `{"status": "unavailable"}` (503) from one
database ping shared by every request within a second (100 concurrent health checks used to run
100 sets of queries and pushed callback latency from 6 ms to 900 ms). With
`Authorization: Bearer $METRICS_TOKEN` it adds the details (database, Daraja environment,
pending payments, notification backlog). `/metrics` needs that same header: without it, 404 as
for any unknown path; with no METRICS_TOKEN set it is not served at all.

Health answers 503 when the database does not answer, which is what a load balancer or uptime
check should act on; Daraja and Telegram being slow are reported by metrics, not by health,
because restarting this instance would not fix them.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from tortoise.functions import Count

from payments import db
from payments.models import Payment
from payments.service import WAITING_STATES

if TYPE_CHECKING:
    from config import Settings
    from webhooks.wiring import Runtime

log = logging.getLogger(__name__)

#: How long one health probe answers for every request.
HEALTH_CACHE_SECONDS = 1.0


class HealthProbe:
    """`db.ping()` at most once per `ttl` seconds, however many requests ask meanwhile."""

    def __init__(
        self,
        probe: Callable[[], Awaitable[bool]] = db.ping,
        *,
        ttl: float = HEALTH_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probe = probe
        self._ttl = ttl
        self._clock = clock
        self._checked_at = -float("inf")
        self._healthy = False
        self._running: asyncio.Future[bool] | None = None

    async def healthy(self) -> bool:
        if self._clock() - self._checked_at < self._ttl:
            return self._healthy
        if self._running is None:
            self._running = asyncio.ensure_future(self._check())
        # shield: one caller going away must not cancel the probe the others wait for.
        return await asyncio.shield(self._running)

    async def _check(self) -> bool:
        try:
            self._healthy = await self._probe()
        finally:
            self._checked_at = self._clock()
            self._running = None
        return self._healthy


def authorised(request: Request, settings: Settings) -> bool:
    """True when the request carries `Authorization: Bearer $METRICS_TOKEN` (token set)."""
    token = settings.metrics_token
    if token is None or not token.get_secret_value():
        return False
    given = request.headers.get("authorization", "")
    expected = f"Bearer {token.get_secret_value()}"
    return hmac.compare_digest(given.encode(), expected.encode())


async def _payment_counts() -> dict[str, int]:
    rows = await Payment.all().group_by("status").annotate(n=Count("id")).values_list("status", "n")
    return {str(status): int(n) for status, n in rows}


async def healthz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    probe: HealthProbe = request.app.state.health
    if not authorised(request, runtime.settings):
        if await probe.healthy():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return await _health_details(runtime)


async def _health_details(runtime: Runtime) -> Response:
    body: dict[str, object] = {
        "status": "ok",
        "database": "ok",
        "daraja_env": str(runtime.settings.daraja_env),
        "telegram": runtime.telegram_mode,
    }
    healthy = await db.ping()
    if healthy:
        try:
            counts = await _payment_counts()
            body["pending_payments"] = sum(counts.get(str(s), 0) for s in WAITING_STATES)
            body["outbox_backlog"] = await runtime.outbox.backlog() if runtime.outbox else None
            # Telegram updates acknowledged and not processed yet (by any instance).
            body["inbox_backlog"] = (
                await runtime.inbox.inbox.backlog() if runtime.application else None
            )
        except Exception:
            log.warning("health: database query failed", exc_info=True)
            healthy = False
    if not healthy:
        body.update(status="unavailable", database="unreachable")
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    if not authorised(request, runtime.settings):
        return PlainTextResponse("Not Found", status_code=404)
    try:
        runtime.metrics.set_payment_counts(await _payment_counts())
        if runtime.outbox is not None:
            runtime.metrics.outbox_backlog.set(await runtime.outbox.backlog())
    except Exception:
        # A scrape must still show the counters when the database is away.
        log.warning("metrics: database gauges not refreshed", exc_info=True)
    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)


def routes_for(settings: Settings) -> list[Route]:
    """/healthz always; /metrics only when METRICS_TOKEN is set."""
    out = [Route("/healthz", healthz, methods=["GET"])]
    if settings.metrics_token is not None and settings.metrics_token.get_secret_value():
        out.append(Route("/metrics", metrics, methods=["GET"]))
    return out
