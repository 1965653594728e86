"""Every synchronous check of the emulated STK push, with Daraja's exact codes and messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from daraja.config import SANDBOX_PASSKEY
from daraja.emulator import Emulator
from daraja.timestamps import daraja_timestamp, stk_password
from tests.support.daraja import bearer, push_body

PUSH = "/mpesa/stkpush/v1/processrequest"


async def push(client: httpx.AsyncClient, body: Any, **headers: str) -> httpx.Response:
    auth = headers or await bearer(client)
    return await client.post(PUSH, json=body, headers=auth)


def assert_fault(response: httpx.Response, status: int, code: str, message: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"requestId", "errorCode", "errorMessage"}
    assert body["errorCode"] == code
    assert body["errorMessage"] == message


async def test_valid_push_is_accepted(daraja_http: httpx.AsyncClient) -> None:
    response = await push(daraja_http, push_body())
    assert response.status_code == 200
    body = response.json()
    assert body["ResponseCode"] == "0"
    assert body["ResponseDescription"] == "Success. Request accepted for processing"
    assert body["CustomerMessage"] == "Success. Request accepted for processing"


async def test_missing_or_bad_token(daraja_http: httpx.AsyncClient) -> None:
    no_token = await daraja_http.post(PUSH, json=push_body())
    bad_token = await push(daraja_http, push_body(), Authorization="Bearer forged")
    for response in (no_token, bad_token):
        assert_fault(response, 404, "404.001.03", "Invalid Access Token")


async def test_wrong_passkey(daraja_http: httpx.AsyncClient) -> None:
    response = await push(daraja_http, push_body(passkey="not-the-passkey"))
    assert_fault(response, 500, "500.001.1001", "Wrong credentials")


async def test_password_for_another_timestamp(daraja_http: httpx.AsyncClient) -> None:
    body = push_body()
    earlier = datetime.now(UTC) - timedelta(seconds=5)
    body["Password"] = stk_password("174379", SANDBOX_PASSKEY, daraja_timestamp(earlier))
    response = await push(daraja_http, body)
    assert_fault(response, 500, "500.001.1001", "Wrong credentials")


async def test_unknown_shortcode(daraja_http: httpx.AsyncClient) -> None:
    response = await push(daraja_http, push_body(shortcode="600984"))
    assert_fault(response, 500, "500.001.1001", "Merchant does not exist")


async def test_shortcode_as_json_number_is_fine(daraja_http: httpx.AsyncClient) -> None:
    response = await push(daraja_http, push_body(BusinessShortCode=174379, Amount="1"))
    assert response.status_code == 200


def _utc_timestamp_body() -> dict[str, Any]:
    # The classic bug: the timestamp in UTC instead of Nairobi time (3 hours off).
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return push_body(Timestamp=stamp, Password=stk_password("174379", "p", stamp))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"BusinessShortCode": "17"}, "BusinessShortCode"),
        ({"BusinessShortCode": None}, "BusinessShortCode"),
        ({"Timestamp": "2024-01-01 10:00"}, "Timestamp"),
        ({"Timestamp": "20241399250000"}, "Timestamp"),
        ({"TransactionType": "CustomerPayBill"}, "TransactionType"),
        ({"Amount": 0}, "Amount"),
        ({"Amount": 250_001}, "Amount"),
        ({"Amount": 10.5}, "Amount"),
        ({"Amount": "ten"}, "Amount"),
        ({"Amount": None}, "Amount"),
        ({"PartyA": "0712345678"}, "PartyA"),
        ({"PartyB": "abc"}, "PartyB"),
        ({"PhoneNumber": "0712345678"}, "PhoneNumber"),
        ({"PhoneNumber": "+254712345678"}, "PhoneNumber"),
        ({"PhoneNumber": "254812345678"}, "PhoneNumber"),
        ({"PhoneNumber": "25471234567"}, "PhoneNumber"),
        ({"CallBackURL": "ftp://example.com/cb"}, "CallBackURL"),
        ({"CallBackURL": "/payments/callback"}, "CallBackURL"),
        ({"CallBackURL": " https://example.com/cb"}, "CallBackURL"),
        ({"CallBackURL": None}, "CallBackURL"),
        ({"AccountReference": ""}, "AccountReference"),
        ({"TransactionDesc": None}, "Remarks"),
        ({"TransactionDesc": "  "}, "Remarks"),
    ],
)
async def test_invalid_field(
    daraja_http: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    response = await push(daraja_http, push_body(**overrides))
    assert_fault(response, 400, "400.002.02", f"Bad Request - Invalid {field}")


async def test_stale_and_utc_timestamps(daraja_http: httpx.AsyncClient) -> None:
    stale = push_body(at=datetime.now(UTC) - timedelta(hours=1))
    for body in (stale, _utc_timestamp_body()):
        response = await push(daraja_http, body)
        assert_fault(response, 400, "400.002.02", "Bad Request - Invalid Timestamp")


async def test_amount_limits_and_forms_accepted(
    daraja_http: httpx.AsyncClient, emulator: Emulator
) -> None:
    phones = ["254700000011", "254700000012", "254100000013", "254700000014"]
    for phone, amount in zip(phones, [1, 250_000, "5", 7.0], strict=True):
        response = await push(daraja_http, push_body(phone, amount))
        assert response.status_code == 200, (amount, response.text)
    assert [r.push.amount for r in emulator.requests.values()] == [1, 250_000, 5, 7]


async def test_not_json_body(daraja_http: httpx.AsyncClient) -> None:
    headers = await bearer(daraja_http)
    response = await daraja_http.post(PUSH, content=b"not json", headers=headers)
    assert_fault(response, 400, "400.002.05", "Invalid Request Payload")


async def test_long_account_reference_accepted_then_fails_with_1025(
    daraja_http: httpx.AsyncClient, emulator: Emulator, callback_receiver
) -> None:
    twelve_plus = await push(daraja_http, push_body(AccountReference="MkoposafiLoans"))
    assert twelve_plus.status_code == 200
    await emulator.drain()
    very_long = await push(daraja_http, push_body(AccountReference="X" * 150))
    assert very_long.status_code == 200
    await emulator.drain()
    codes = [cb["ResultCode"] for cb in callback_receiver.callbacks]
    assert codes == [0, 1025]
    desc = callback_receiver.callbacks[1]["ResultDesc"]
    assert desc == "Error Occurred while sending push request"


async def test_second_push_to_locked_subscriber(
    daraja_http: httpx.AsyncClient, emulator: Emulator
) -> None:
    emulator.set_callback_delay(30)
    first = await push(daraja_http, push_body("254712340000"))
    second = await push(daraja_http, push_body("254712340000"))
    other_phone = await push(daraja_http, push_body("254712340009"))
    assert first.status_code == 200
    assert_fault(
        second,
        500,
        "500.001.1001",
        "Unable to lock subscriber, a transaction is already in process for the current subscriber",
    )
    assert other_phone.status_code == 200
    # Once the first request finishes the subscriber is free again.
    await emulator.complete_now(first.json()["CheckoutRequestID"])
    await emulator.complete_now(other_phone.json()["CheckoutRequestID"])
    await emulator.drain()
    third = await push(daraja_http, push_body("254712340000"))
    assert third.status_code == 200
    assert third.json()["CheckoutRequestID"] != first.json()["CheckoutRequestID"]
