"""Identifier formats and the callback bodies the emulator POSTs, per magic phone number."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import httpx
import pytest

from daraja.emulator import Emulator, Scenario
from daraja.emulator.ids import receipt_number
from daraja.timestamps import NAIROBI, parse_daraja_timestamp
from tests.support.daraja import (
    CallbackReceiver,
    bearer,
    emulator_http_client,
    make_emulator_app,
    push_body,
)

PUSH = "/mpesa/stkpush/v1/processrequest"

# The formats production Daraja uses (captured ids in tests/data/daraja).
MERCHANT_REQUEST_ID_RE = re.compile(r"^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\d+$")
CHECKOUT_REQUEST_ID_RE = re.compile(r"^ws_CO_(\d{2})(\d{2})(\d{4})(\d{6})(\d{3})(254[17]\d{8})$")
RECEIPT_RE = re.compile(r"^[A-Z][A-L][1-9A-V][0-9A-Z]{7}$")
RECEIPT_DAYS = "123456789ABCDEFGHIJKLMNOPQRSTUV"  # 1..9, then A=10 … V=31


def receipt_date(receipt: str) -> tuple[int, int, int]:
    """(year, month, day) a receipt's first three characters encode (A=2006, A=January)."""
    return (
        ord(receipt[0]) - ord("A") + 2006,
        ord(receipt[1]) - ord("A") + 1,
        RECEIPT_DAYS.index(receipt[2]) + 1,
    )


async def push_and_drain(
    client: httpx.AsyncClient, emulator: Emulator, phone: str, amount: int = 10
) -> dict:
    response = await client.post(PUSH, json=push_body(phone, amount), headers=await bearer(client))
    assert response.status_code == 200, response.text
    await emulator.drain()
    return response.json()


async def test_ids_have_production_formats(
    daraja_http: httpx.AsyncClient, emulator: Emulator
) -> None:
    before = datetime.now(UTC).astimezone(NAIROBI)
    accepted = await push_and_drain(daraja_http, emulator, "254712345678")
    assert MERCHANT_REQUEST_ID_RE.match(accepted["MerchantRequestID"])
    match = CHECKOUT_REQUEST_ID_RE.match(accepted["CheckoutRequestID"])
    assert match is not None
    day, month, year, hms, _ms, msisdn = match.groups()
    assert msisdn == "254712345678"
    # The time part is Nairobi time, not UTC.
    stamped = datetime.strptime(f"{year}{month}{day}{hms}", "%Y%m%d%H%M%S")
    assert abs((stamped - before.replace(tzinfo=None)).total_seconds()) < 5


async def test_success_callback_shape(
    daraja_http: httpx.AsyncClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    accepted = await push_and_drain(daraja_http, emulator, "254708374149", amount=150)
    assert callback_receiver.paths == ["/callback"]
    callback = callback_receiver.callbacks[0]
    assert callback["MerchantRequestID"] == accepted["MerchantRequestID"]
    assert callback["CheckoutRequestID"] == accepted["CheckoutRequestID"]
    assert callback["ResultCode"] == 0
    assert callback["ResultDesc"] == "The service request is processed successfully."
    items = callback["CallbackMetadata"]["Item"]
    assert [item["Name"] for item in items] == [
        "Amount",
        "MpesaReceiptNumber",
        "Balance",
        "TransactionDate",
        "PhoneNumber",
    ]
    values = {item["Name"]: item.get("Value") for item in items}
    assert items[2] == {"Name": "Balance"}
    assert values["Amount"] == 150 and isinstance(values["Amount"], int)
    assert values["PhoneNumber"] == 254708374149
    assert isinstance(values["TransactionDate"], int)
    receipt = values["MpesaReceiptNumber"]
    assert RECEIPT_RE.match(receipt)
    when = parse_daraja_timestamp(values["TransactionDate"])
    assert receipt_date(receipt) == (when.year, when.month, when.day)
    assert abs((when - datetime.now(UTC)).total_seconds()) < 5


@pytest.mark.parametrize(
    ("phone", "code", "desc"),
    [
        ("254712341032", 1032, "Request cancelled by user"),
        ("254712341037", 1037, "DS timeout user cannot be reached"),
        ("254712340001", 1, "The balance is insufficient for the transaction."),
        ("254712342001", 2001, "The initiator information is invalid."),
        ("254712341019", 1019, "Transaction has expired"),
        ("254112348006", 8006, "The security credential is locked."),
        ("254712341025", 1025, "Error Occurred while sending push request"),
    ],
)
async def test_failure_callback_per_magic_number(
    daraja_http: httpx.AsyncClient,
    emulator: Emulator,
    callback_receiver: CallbackReceiver,
    phone: str,
    code: int,
    desc: str,
) -> None:
    accepted = await push_and_drain(daraja_http, emulator, phone)
    assert callback_receiver.callbacks == [
        {
            "MerchantRequestID": accepted["MerchantRequestID"],
            "CheckoutRequestID": accepted["CheckoutRequestID"],
            "ResultCode": code,
            "ResultDesc": desc,
        }
    ]


@pytest.mark.parametrize(
    ("at", "expected_prefix"),
    [
        (datetime(2019, 12, 19, 7, 21, tzinfo=UTC), "NLJ"),  # the docs' NLJ7RT61SV
        (datetime(2025, 2, 15, 9, 0, tzinfo=UTC), "TBF"),
        (datetime(2023, 11, 20, 9, 0, tzinfo=UTC), "RKK"),
        (datetime(2026, 1, 31, 9, 0, tzinfo=UTC), "UAV"),
        # 22:30 UTC on 31 Dec is already 1 Jan in Nairobi: the receipt follows EAT.
        (datetime(2025, 12, 31, 22, 30, tzinfo=UTC), "UA1"),
    ],
)
def test_receipt_date_letters(at: datetime, expected_prefix: str) -> None:
    receipt = receipt_number(at)
    assert receipt.startswith(expected_prefix)
    assert RECEIPT_RE.match(receipt)


async def test_receiver_down_is_recorded_not_retried(
    daraja_http: httpx.AsyncClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    callback_receiver.status_code = 503
    await push_and_drain(daraja_http, emulator, "254708374149")
    assert len(callback_receiver.bodies) == 1
    [request] = emulator.requests.values()
    assert [d.status_code for d in request.deliveries] == [503]


async def test_unreachable_receiver_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as down:
        app = make_emulator_app(callback_http=down)
        emulator = app.state.emulator
        async with emulator_http_client(app) as client:
            await push_and_drain(client, emulator, "254708374149")
    [request] = emulator.requests.values()
    assert len(request.deliveries) == 1  # not retried
    assert request.deliveries[0].status_code is None
    assert "ConnectError" in (request.deliveries[0].error or "")
    assert "callback" in caplog.text and "failed" in caplog.text
    assert "254708374149" not in caplog.text  # phones are masked in logs
    assert request.status == "completed"


ZERO_BALANCE = {"Name": "Balance", "Value": 0}


@pytest.mark.parametrize(
    ("style", "amount_literal", "balance_items"),
    [
        ({"amount": "decimal", "balance": "absent"}, b'"Value": 150.00}', []),
        ({"amount": "integer", "balance": "zero"}, b'"Value": 150}', [ZERO_BALANCE]),
        ({}, b'"Value": 150}', [{"Name": "Balance"}]),
    ],
)
async def test_callback_style_of_other_eras(
    style: dict, amount_literal: bytes, balance_items: list
) -> None:
    raw: list[bytes] = []

    async def record(request: httpx.Request) -> httpx.Response:
        raw.append(request.content)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as http:
        app = make_emulator_app(callback_http=http)
        async with emulator_http_client(app) as client:
            control = await client.post("/emulator/callback-style", json=style)
            assert control.status_code == 200
            await push_and_drain(client, app.state.emulator, "254708374149", amount=150)
    [body] = raw
    assert b'{"Name": "Amount", ' + amount_literal in body
    items = json.loads(body)["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    assert [item for item in items if item["Name"] == "Balance"] == balance_items


async def test_custom_scenario_table(callback_receiver: CallbackReceiver) -> None:
    table = {"4149": Scenario("17", "Rule limited.")}
    app = make_emulator_app(callback_app=callback_receiver.app, scenarios=table)
    async with emulator_http_client(app) as client:
        await push_and_drain(client, app.state.emulator, "254708374149")
        await push_and_drain(client, app.state.emulator, "254712341032")  # not in this table
    codes = [cb["ResultCode"] for cb in callback_receiver.callbacks]
    assert codes == [17, 0]
