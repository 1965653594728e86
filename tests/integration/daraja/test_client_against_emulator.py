"""The Daraja client (daraja.client) against the emulator: what production traffic would do."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from daraja.callbacks import parse_stk_callback
from daraja.client import DarajaClient
from daraja.emulator import Emulator
from daraja.errors import AuthError, RateLimited, SubscriberLocked, TimedOut
from daraja.types import Outcome
from tests.support.daraja import (
    RECEIVER_URL,
    CallbackReceiver,
    emulator_daraja_config,
    emulator_http_client,
    make_emulator_app,
)


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
def client(daraja_http: httpx.AsyncClient) -> DarajaClient:
    return DarajaClient(emulator_daraja_config(timeout=0.5), daraja_http, sleep=_no_sleep)


async def push(client: DarajaClient, phone: str = "254708374149", amount: int = 250):
    return await client.stk_push(
        phone=phone,
        amount=amount,
        account_reference="INV-42",
        description="Payment",
        callback_url=RECEIVER_URL,
    )


async def test_push_and_callback_parse(
    client: DarajaClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    accepted = await push(client)
    assert accepted.response_code == "0"
    assert accepted.checkout_request_id.endswith("254708374149")
    await emulator.drain()
    [body] = callback_receiver.bodies
    result = parse_stk_callback(body)
    assert result.checkout_request_id == accepted.checkout_request_id
    assert result.merchant_request_id == accepted.merchant_request_id
    assert result.outcome is Outcome.PAID
    assert result.amount == 250
    assert result.phone == "254708374149"
    assert result.receipt and len(result.receipt) == 10
    assert result.transaction_date is not None
    assert abs((result.transaction_date - datetime.now(UTC)).total_seconds()) < 5
    assert client.stats.oauth_requests == 1 and client.stats.push_requests == 1


@pytest.mark.parametrize(
    ("phone", "code", "outcome"),
    [
        ("254712341032", "1032", Outcome.CANCELLED),
        ("254712341037", "1037", Outcome.EXPIRED),
        ("254712340001", "1", Outcome.FAILED),
        ("254712342001", "2001", Outcome.FAILED),
        ("254712341019", "1019", Outcome.EXPIRED),
        ("254712348006", "8006", Outcome.FAILED),
        ("254712341025", "1025", Outcome.FAILED),
    ],
)
async def test_failure_callbacks_parse(
    client: DarajaClient,
    emulator: Emulator,
    callback_receiver: CallbackReceiver,
    phone: str,
    code: str,
    outcome: Outcome,
) -> None:
    await push(client, phone)
    await emulator.drain()
    result = parse_stk_callback(callback_receiver.bodies[0])
    assert result.result_code == code
    assert result.amount is None and result.receipt is None
    assert result.outcome is outcome


async def test_query_pending_then_final(client: DarajaClient, emulator: Emulator) -> None:
    emulator.set_callback_delay(60)
    accepted = await push(client, "254712341032")
    assert await client.stk_query(accepted.checkout_request_id) is None
    await emulator.complete_now(accepted.checkout_request_id)
    await emulator.drain()
    result = await client.stk_query(accepted.checkout_request_id)
    assert result is not None
    assert result.source == "query"
    assert result.result_code == "1032"
    assert result.outcome is Outcome.CANCELLED
    assert client.stats.query_requests == 2


async def test_wrong_passkey_is_auth_error(daraja_http: httpx.AsyncClient) -> None:
    client = DarajaClient(emulator_daraja_config(passkey="wrong"), daraja_http)
    with pytest.raises(AuthError) as caught:
        await push(client)
    assert caught.value.code == "500.001.1001"
    assert "Wrong credentials" in caught.value.message


async def test_wrong_consumer_secret_is_auth_error(callback_receiver: CallbackReceiver) -> None:
    app = make_emulator_app(consumer_key="ck", consumer_secret="cs")
    async with emulator_http_client(app) as http:
        client = DarajaClient(emulator_daraja_config(consumer_key="ck"), http)
        with pytest.raises(AuthError):
            await push(client)
    assert app.state.emulator.requests == {}


async def test_locked_subscriber(client: DarajaClient, emulator: Emulator) -> None:
    emulator.set_callback_delay(60)
    await push(client)
    with pytest.raises(SubscriberLocked) as caught:
        await push(client)
    assert caught.value.code == "500.001.1001"
    assert len(emulator.requests) == 1


async def test_spike_arrest_retried_and_succeeding(
    client: DarajaClient, emulator: Emulator
) -> None:
    emulator.spike_arrest(2)
    accepted = await push(client)
    assert emulator.get(accepted.checkout_request_id) is not None
    assert client.stats.push_requests == 3
    assert len(emulator.requests) == 1


async def test_spike_arrest_beyond_retries(client: DarajaClient, emulator: Emulator) -> None:
    emulator.spike_arrest(5, busy=True)
    with pytest.raises(RateLimited):
        await push(client)
    assert emulator.requests == {}


async def test_expired_token_is_refreshed(client: DarajaClient, emulator: Emulator) -> None:
    await push(client, "254700000011")
    emulator.expire_tokens()
    await push(client, "254700000012")
    assert client.stats.oauth_requests == 2
    assert len(emulator.requests) == 2


async def test_push_timeout_is_not_retried(
    client: DarajaClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    emulator.hang_next_push(30)
    with pytest.raises(TimedOut) as caught:
        await push(client)
    assert caught.value.maybe_processed
    assert client.stats.push_requests == 1
    # The push reached "Daraja": the customer was prompted and the result still arrives.
    [request] = emulator.requests.values()
    await emulator.drain()
    assert parse_stk_callback(callback_receiver.bodies[0]).checkout_request_id == (
        request.checkout_request_id
    )


async def test_late_second_callback_both_parse(
    client: DarajaClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    emulator.late_second_callback("1019", after=0.01)
    await push(client, "254712341037")
    await emulator.drain()
    first, second = (parse_stk_callback(body) for body in callback_receiver.bodies)
    assert (first.result_code, second.result_code) == ("1037", "1019")
    assert first.checkout_request_id == second.checkout_request_id
    assert first.merchant_request_id != second.merchant_request_id
