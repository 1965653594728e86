"""Retry policy: only what certainly was not processed is repeated, with capped backoff."""

from __future__ import annotations

import pytest

from daraja.client import STK_PUSH_PATH, STK_QUERY_PATH, DarajaClient
from daraja.errors import RateLimited, TimedOut
from tests.support.clock import Clock
from tests.support.scripted_daraja import FakeDaraja, connect_error, make_config, timeout_error

from .test_errors import envelope
from .test_password import PUSH

SPIKE = envelope("500.003.02", "Error Occurred: Spike Arrest Violation")
BUSY = envelope("500.003.02", "System is busy. Please try again in few minutes.")


async def test_spike_arrest_is_retried_with_backoff_then_succeeds(
    client: DarajaClient, fake: FakeDaraja, sleeps: list[float]
) -> None:
    fake.script(STK_PUSH_PATH, SPIKE, BUSY)

    accepted = await client.stk_push(**PUSH)

    assert accepted.checkout_request_id == "ws_CO_22112022152650652700000029"
    assert fake.count(STK_PUSH_PATH) == 3
    assert sleeps == [0.2, 0.4]
    assert client.stats.push_requests == 3
    assert client.stats.errors == 2
    assert client.stats.oauth_requests == 1


async def test_retries_stop_after_the_configured_attempts(
    client: DarajaClient, fake: FakeDaraja, sleeps: list[float]
) -> None:
    fake.script(STK_PUSH_PATH, SPIKE, SPIKE, SPIKE, SPIKE)

    with pytest.raises(RateLimited) as caught:
        await client.stk_push(**PUSH)

    assert caught.value.code == "500.003.02"
    assert fake.count(STK_PUSH_PATH) == 3
    assert sleeps == [0.2, 0.4]
    assert client.stats.errors == 3


async def test_connect_error_is_retried_and_a_fresh_timestamp_is_used(
    client: DarajaClient, fake: FakeDaraja, clock: Clock, sleeps: list[float]
) -> None:
    async def move_clock(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds + 1)

    client._sleep = move_clock
    fake.script(STK_PUSH_PATH, connect_error)

    await client.stk_push(**PUSH)

    first, second = fake.sent(STK_PUSH_PATH)
    assert first["Timestamp"] != second["Timestamp"]
    assert first["Password"] != second["Password"]
    assert sleeps == [0.2]


async def test_backoff_is_capped(fake: FakeDaraja, clock: Clock) -> None:
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    fake.script(STK_PUSH_PATH, *([connect_error] * 6))
    async with fake.client() as http:
        client = DarajaClient(
            make_config(),
            http,
            clock=clock,
            retry_attempts=7,
            backoff_base=0.5,
            backoff_cap=3.0,
            sleep=record,
        )
        await client.stk_push(**PUSH)

    assert sleeps == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert fake.count(STK_PUSH_PATH) == 7


async def test_single_attempt_means_no_retry(fake: FakeDaraja, clock: Clock) -> None:
    fake.script(STK_PUSH_PATH, SPIKE)
    async with fake.client() as http:
        client = DarajaClient(make_config(), http, clock=clock, retry_attempts=1)
        with pytest.raises(RateLimited):
            await client.stk_push(**PUSH)

    assert fake.count(STK_PUSH_PATH) == 1


async def test_retry_attempts_must_count_the_first_try(fake: FakeDaraja) -> None:
    async with fake.client() as http:
        with pytest.raises(ValueError):
            DarajaClient(make_config(), http, retry_attempts=0)


async def test_timeout_after_a_throttled_attempt_still_stops_at_once(
    client: DarajaClient, fake: FakeDaraja, sleeps: list[float]
) -> None:
    fake.script(STK_PUSH_PATH, SPIKE, timeout_error())

    with pytest.raises(TimedOut):
        await client.stk_push(**PUSH)

    assert fake.count(STK_PUSH_PATH) == 2
    assert sleeps == [0.2]


async def test_query_retries_on_connect_error_and_spike_arrest(
    client: DarajaClient, fake: FakeDaraja, sleeps: list[float]
) -> None:
    fake.script(STK_QUERY_PATH, connect_error, BUSY)

    result = await client.stk_query("ws_CO_080920202236494435")

    assert result is not None
    assert result.result_code == "1032"
    assert fake.count(STK_QUERY_PATH) == 3
    assert client.stats.query_requests == 3
    assert sleeps == [0.2, 0.4]
