"""The OAuth token: cached, refreshed a minute early, fetched once under load, replaced when
Daraja refuses it."""

from __future__ import annotations

import asyncio
import base64
import logging

import httpx
import pytest

from daraja.client import STK_PUSH_PATH, DarajaClient
from daraja.errors import AuthError, ConnectFailed
from daraja.token import OAUTH_PATH
from tests.support.clock import Clock
from tests.support.scripted_daraja import KEY, SECRET, FakeDaraja, fixture_response, make_config

from .test_password import PUSH


async def test_token_request_uses_basic_auth_and_client_credentials(
    client: DarajaClient, fake: FakeDaraja
) -> None:
    await client.stk_push(**PUSH)

    oauth = [s for s in fake.seen if s.path == OAUTH_PATH]
    assert len(oauth) == 1
    assert oauth[0].method == "GET"
    assert oauth[0].params == {"grant_type": "client_credentials"}
    expected = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert oauth[0].headers["authorization"] == f"Basic {expected}"


@pytest.mark.parametrize("expires_in", ["3599", 3599])
async def test_token_is_reused_until_a_minute_before_expiry(
    client: DarajaClient, fake: FakeDaraja, clock: Clock, expires_in: object
) -> None:
    fake.expires_in = expires_in

    await client.stk_push(**PUSH)
    clock.advance(3599 - 60 - 1)
    await client.stk_push(**PUSH)
    assert client.stats.oauth_requests == 1

    clock.advance(1)
    await client.stk_push(**PUSH)

    assert client.stats.oauth_requests == 2
    tokens = [s.headers["authorization"] for s in fake.seen if s.path == STK_PUSH_PATH]
    assert tokens == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


@pytest.mark.parametrize("garbage", ["soon", None, -5, 0, "", [3599]])
async def test_garbage_expires_in_falls_back_to_an_hour_with_a_warning(
    client: DarajaClient,
    fake: FakeDaraja,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    garbage: object,
) -> None:
    fake.expires_in = garbage

    await client.stk_push(**PUSH)
    clock.advance(3000)
    await client.stk_push(**PUSH)
    assert client.stats.oauth_requests == 1
    clock.advance(540)
    await client.stk_push(**PUSH)

    assert client.stats.oauth_requests == 2
    assert "expires_in" in caplog.text
    assert any(r.levelno == logging.WARNING for r in caplog.records)


async def test_short_lived_token_is_refreshed_at_half_its_life(
    client: DarajaClient, fake: FakeDaraja, clock: Clock
) -> None:
    fake.expires_in = "60"

    await client.stk_push(**PUSH)
    clock.advance(29)
    await client.stk_push(**PUSH)
    clock.advance(1)
    await client.stk_push(**PUSH)

    assert client.stats.oauth_requests == 2


async def test_fifty_concurrent_pushes_fetch_exactly_one_token(
    client: DarajaClient, fake: FakeDaraja
) -> None:
    fake.oauth_delay = 0.01  # the token request is slow: everyone piles up behind it

    results = await asyncio.gather(*(client.stk_push(**PUSH) for _ in range(50)))

    assert len(results) == 50
    assert fake.count(OAUTH_PATH) == 1
    assert client.stats.oauth_requests == 1
    assert client.stats.push_requests == 50
    tokens = {s.headers["authorization"] for s in fake.seen if s.path == STK_PUSH_PATH}
    assert tokens == {"Bearer token-1"}


@pytest.mark.parametrize(
    "refusal",
    [
        ("stkpush_error_07.json", 404),
        ("stkpush_error_08.json", 404),
    ],
)
async def test_refused_token_is_replaced_and_the_push_sent_once_more(
    client: DarajaClient, fake: FakeDaraja, refusal: tuple[str, int]
) -> None:
    fake.script(STK_PUSH_PATH, fixture_response(*refusal))

    accepted = await client.stk_push(**PUSH)

    assert accepted.checkout_request_id.startswith("ws_CO_")
    assert fake.count(OAUTH_PATH) == 2
    assert fake.count(STK_PUSH_PATH) == 2
    tokens = [s.headers["authorization"] for s in fake.seen if s.path == STK_PUSH_PATH]
    assert tokens == ["Bearer token-1", "Bearer token-2"]


@pytest.mark.parametrize(
    "body",
    [
        {"requestId": "a-1", "errorCode": "400.003.01", "errorMessage": "Invalid Access Token"},
        {"requestId": "a-2", "errorCode": "404.001.04", "errorMessage": "Invalid Authentication"},
    ],
)
async def test_other_token_refusal_codes_also_refresh(
    client: DarajaClient, fake: FakeDaraja, body: dict[str, str]
) -> None:
    fake.script(STK_PUSH_PATH, httpx.Response(400, json=body))

    await client.stk_push(**PUSH)

    assert fake.count(OAUTH_PATH) == 2
    assert fake.count(STK_PUSH_PATH) == 2


async def test_token_refused_twice_is_an_auth_error_after_one_retry(
    client: DarajaClient, fake: FakeDaraja
) -> None:
    fake.script(
        STK_PUSH_PATH,
        fixture_response("stkpush_error_07.json", 404),
        fixture_response("stkpush_error_08.json", 404),
        fixture_response("stkpush_success_01.json", 200),
    )

    with pytest.raises(AuthError) as caught:
        await client.stk_push(**PUSH)

    assert caught.value.code == "404.001.03"
    assert caught.value.request_id == "5115-78674050-1"
    assert fake.count(STK_PUSH_PATH) == 2
    assert fake.count(OAUTH_PATH) == 2


async def test_revoked_token_in_the_fake_is_refreshed(
    client: DarajaClient, fake: FakeDaraja
) -> None:
    await client.stk_push(**PUSH)
    fake.revoked.add("token-1")  # e.g. another process fetched a token and invalidated ours

    await client.stk_push(**PUSH)

    tokens = [s.headers["authorization"] for s in fake.seen if s.path == STK_PUSH_PATH]
    assert tokens == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


@pytest.mark.parametrize(
    ("response", "code"),
    [
        (fixture_response("stkpush_error_09.json", 400), "400.008.02"),
        (httpx.Response(400, json={"errorCode": "400.008.01", "errorMessage": "x"}), "400.008.01"),
        (httpx.Response(401, content=b""), None),
        (httpx.Response(400, content=b"Bad Request"), None),
        (httpx.Response(200, json={"expires_in": "3599"}), None),
        (httpx.Response(200, content=b"<html>ok</html>"), None),
    ],
)
async def test_oauth_failures_are_auth_errors_and_nothing_is_pushed(
    client: DarajaClient, fake: FakeDaraja, response: httpx.Response, code: str | None
) -> None:
    fake.script(OAUTH_PATH, response)

    with pytest.raises(AuthError) as caught:
        await client.stk_push(**PUSH)

    assert caught.value.code == code
    assert fake.count(STK_PUSH_PATH) == 0


async def test_wrong_consumer_key_is_refused_by_the_fake_daraja(
    fake: FakeDaraja, clock: Clock
) -> None:
    async with fake.client() as http:
        client = DarajaClient(make_config(consumer_key="wrong"), http, clock=clock)
        with pytest.raises(AuthError):
            await client.stk_push(**PUSH)

    assert fake.count(STK_PUSH_PATH) == 0


async def test_oauth_connection_failure_is_connect_failed_and_retried(
    client: DarajaClient, fake: FakeDaraja, sleeps: list[float]
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    fake.script(OAUTH_PATH, refuse, slow)

    accepted = await client.stk_push(**PUSH)

    assert accepted.checkout_request_id
    assert fake.count(OAUTH_PATH) == 3
    assert fake.count(STK_PUSH_PATH) == 1
    assert sleeps == [0.2, 0.4]


async def test_oauth_failure_alone_raises_connect_failed(
    client: DarajaClient, fake: FakeDaraja
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    fake.script(OAUTH_PATH, refuse, refuse, refuse)

    with pytest.raises(ConnectFailed):
        await client.stk_push(**PUSH)
    assert fake.count(STK_PUSH_PATH) == 0
