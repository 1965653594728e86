"""/healthz (public: status only; details with the metrics token) and /metrics (token only)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from tests.support.webhooks import CALLBACK, Service, ServiceFactory, callback_body, pending_payment
from webhooks.health import HealthProbe

METRICS_TOKEN = "metrics-token-7c1e9a3b5d"
AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
async def service(make_service: ServiceFactory) -> AsyncIterator[Service]:
    async with make_service(metrics_token=SecretStr(METRICS_TOKEN)) as opened:
        opened.client.headers.update(AUTH)
        yield opened


async def test_public_health_is_status_only(make_service: ServiceFactory) -> None:
    async with make_service(metrics_token=SecretStr(METRICS_TOKEN)) as service:
        await pending_payment(service)
        response = await service.client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        wrong = await service.client.get("/healthz", headers={"Authorization": "Bearer nope"})
        assert wrong.json() == {"status": "ok"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": ""}])
async def test_metrics_refused_without_the_token(
    make_service: ServiceFactory, headers: dict[str, str]
) -> None:
    async with make_service(metrics_token=SecretStr(METRICS_TOKEN)) as service:
        response = await service.client.get("/metrics", headers=headers)
    assert response.status_code == 404
    assert "lipabot_" not in response.text


async def test_no_metrics_token_no_metrics_and_no_details(make_service: ServiceFactory) -> None:
    async with make_service(metrics_token=None) as service:
        assert (await service.client.get("/metrics", headers=AUTH)).status_code == 404
        assert (await service.client.get("/healthz", headers=AUTH)).json() == {"status": "ok"}


async def test_health_probes_the_database_once_a_second_however_many_ask() -> None:
    calls = 0
    now = [100.0]

    async def probe() -> bool:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return True

    health = HealthProbe(probe, ttl=1.0, clock=lambda: now[0])
    assert all(await asyncio.gather(*(health.healthy() for _ in range(100))))
    assert calls == 1
    now[0] += 0.9
    assert await health.healthy() and calls == 1
    now[0] += 0.2
    assert await health.healthy() and calls == 2


async def test_health_details_with_the_token(service: Service) -> None:
    await pending_payment(service)
    response = await service.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "daraja_env": "emulator",
        "telegram": "webhook",
        "pending_payments": 1,
        "outbox_backlog": 0,
        "inbox_backlog": 0,
    }


async def test_metrics_expose_the_series(service: Service) -> None:
    payment = await pending_payment(service)
    await service.client.post(CALLBACK, json=callback_body(payment, 2001))
    await service.client.post(CALLBACK, content=b"nope", headers={"content-type": "text/plain"})
    await service.client.post("/payments/callback/wrong", json={})
    response = await service.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'lipabot_payments{state="failed"} 1.0' in text
    assert 'lipabot_payments{state="pending"} 0.0' in text
    assert 'lipabot_callbacks_received_total{result="applied"} 1.0' in text
    assert (
        'lipabot_callbacks_rejected_total{reason="content type must be application/json"} 1.0'
        in text
    )
    assert 'lipabot_callbacks_rejected_total{reason="wrong token"} 1.0' in text
    assert 'lipabot_daraja_request_seconds_count{endpoint="stk_push"} 1.0' in text
    assert 'lipabot_daraja_request_seconds_count{endpoint="oauth"} 1.0' in text
    assert "lipabot_notification_backlog" in text
    assert "lipabot_daraja_errors_total" in text


async def test_two_apps_in_one_process_count_separately(make_service: ServiceFactory) -> None:
    token = SecretStr(METRICS_TOKEN)
    async with make_service(metrics_token=token) as first:
        await first.client.post("/payments/callback/wrong", json={})
        first_metrics = (await first.client.get("/metrics", headers=AUTH)).text
    async with make_service(metrics_token=token) as second:
        second_metrics = (await second.client.get("/metrics", headers=AUTH)).text
    assert 'lipabot_callbacks_rejected_total{reason="wrong token"} 1.0' in first_metrics
    assert 'reason="wrong token"' not in second_metrics


async def test_daraja_failures_are_counted(service: Service) -> None:
    service.emulator.spike_arrest(count=5)
    user = 8800
    await service.runtime.service.start_payment(  # type: ignore[union-attr]
        user_id=user, chat_id=user, language="en", amount=10, phone="0712000111"
    )
    text = (await service.client.get("/metrics")).text
    assert 'lipabot_daraja_errors_total{endpoint="stk_push",kind="http_500"}' in text


@pytest.mark.postgres
async def test_health_is_503_when_the_database_is_gone(make_service: ServiceFactory) -> None:
    from tests.support.db import (
        PostgresUnavailable,
        create_postgres_database,
        drop_postgres_database,
        postgres_required,
    )

    try:
        url = await create_postgres_database()
    except PostgresUnavailable as exc:
        if postgres_required():
            raise
        pytest.skip(str(exc))
    try:
        async with make_service(
            database_url=url, metrics_token=SecretStr(METRICS_TOKEN)
        ) as service:
            assert (await service.client.get("/healthz")).status_code == 200
            await drop_postgres_database(url)  # terminates our connections too
            response = await service.client.get("/healthz", headers=AUTH)
            assert response.status_code == 503
            assert response.json()["database"] == "unreachable"
            await asyncio.sleep(1.1)  # the public answer is a second old at most
            public = await service.client.get("/healthz")
            assert public.status_code == 503 and public.json() == {"status": "unavailable"}
            metrics = await service.client.get("/metrics", headers=AUTH)
            assert metrics.status_code == 200  # counters still readable
    finally:
        await drop_postgres_database(url)
