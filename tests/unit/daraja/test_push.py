"""What an STK push sends and returns: PayBill vs Buy Goods, trimming, input validation."""

from __future__ import annotations

import logging

import httpx
import pytest

from daraja.client import STK_PUSH_PATH, STK_QUERY_PATH, DarajaClient
from daraja.errors import Unavailable
from daraja.masking import mask_checkout_id, redact
from daraja.token import OAUTH_PATH
from tests.support.clock import Clock
from tests.support.scripted_daraja import (
    KEY,
    PASSKEY,
    SECRET,
    FakeDaraja,
    fixture_response,
    make_config,
)

from .test_password import PUSH


async def test_paybill_push_sends_the_docs_shape_and_returns_the_ids(
    client: DarajaClient, fake: FakeDaraja
) -> None:
    accepted = await client.stk_push(**PUSH)

    assert accepted.checkout_request_id == "ws_CO_22112022152650652700000029"
    assert accepted.merchant_request_id == "68444-143235050-2"
    assert accepted.response_code == "0"
    assert accepted.customer_message == "Success. Request accepted for processing"
    (sent,) = fake.sent(STK_PUSH_PATH)
    assert sent["BusinessShortCode"] == 174379  # a JSON number, as in the docs sample
    assert sent["TransactionType"] == "CustomerPayBillOnline"
    assert sent["PartyB"] == 174379
    assert sent["PartyA"] == sent["PhoneNumber"] == 254708374149
    assert sent["Amount"] == 10
    assert sent["CallBackURL"] == PUSH["callback_url"]
    assert sent["AccountReference"] == "INV42"
    assert sent["TransactionDesc"] == "Order 42"
    push_request = next(s for s in fake.seen if s.path == STK_PUSH_PATH)
    assert push_request.headers["authorization"] == "Bearer token-1"


async def test_buy_goods_push_sends_the_till_as_party_b(fake: FakeDaraja, clock: Clock) -> None:
    config = make_config(
        shortcode="5150101", transaction_type="CustomerBuyGoodsOnline", party_b="8812345"
    )
    async with fake.client() as http:
        await DarajaClient(config, http, clock=clock).stk_push(**PUSH)

    (sent,) = fake.sent(STK_PUSH_PATH)
    assert sent["TransactionType"] == "CustomerBuyGoodsOnline"
    assert sent["BusinessShortCode"] == 5150101
    assert sent["PartyB"] == 8812345


async def test_reference_and_description_are_trimmed_to_daraja_limits(
    client: DarajaClient, fake: FakeDaraja
) -> None:
    await client.stk_push(
        **{
            **PUSH,
            "account_reference": "  MkoposafiLoans-2026 ",
            "description": "Payment for order number 42",
        }
    )

    (sent,) = fake.sent(STK_PUSH_PATH)
    assert sent["AccountReference"] == "MkoposafiLoa"
    assert len(sent["AccountReference"]) == 12
    assert sent["TransactionDesc"] == "Payment for o"
    assert len(sent["TransactionDesc"]) == 13


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", 10.0),
        ("amount", 10.5),
        ("amount", "10"),
        ("amount", 0),
        ("amount", -5),
        ("amount", True),
        ("phone", "0708374149"),
        ("phone", "+254708374149"),
        ("phone", "25470837414"),
        ("account_reference", "   "),
        ("description", ""),
        ("callback_url", "https://lipabot.test/cb /x"),
        ("callback_url", "ftp://lipabot.test/cb"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    client: DarajaClient, fake: FakeDaraja, field: str, value: object
) -> None:
    with pytest.raises(ValueError):
        await client.stk_push(**{**PUSH, field: value})

    assert fake.seen == []
    assert client.stats.push_requests == 0


async def test_logs_mask_the_phone_and_hide_every_secret(
    client: DarajaClient, fake: FakeDaraja, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    await client.stk_push(**PUSH)

    text = caplog.text
    assert "2547•••••149" in text
    for secret in ("254708374149", KEY, SECRET, PASSKEY, "token-1"):
        assert secret not in text
    sent = fake.sent(STK_PUSH_PATH)[0]
    assert sent["Password"] not in text
    assert fake.count(OAUTH_PATH) == 1
    # The CheckoutRequestID ends with the payer's number: logged masked.
    assert "ws_CO_22112022152650652700000029" not in text
    assert "ws_CO_22112022152650652••••••029" in text


async def test_failure_logs_are_masked_too(
    client: DarajaClient, fake: FakeDaraja, caplog: pytest.LogCaptureFixture
) -> None:
    fake.script(STK_PUSH_PATH, httpx.Response(500, content=b""))
    fake.script(STK_QUERY_PATH, fixture_response("stkquery_error_01.json", 500))
    fake.script(
        STK_QUERY_PATH,
        httpx.Response(
            500,
            json={
                "requestId": "ws_CO_02122025105112663100000011",
                "errorCode": "500.003.1001",
                "errorMessage": "Internal Server Error",
            },
        ),
    )
    caplog.set_level(logging.INFO)

    with pytest.raises(Unavailable):
        await client.stk_push(**PUSH)
    assert await client.stk_query("ws_CO_02122025105112663100000011") is None
    with pytest.raises(Unavailable):
        await client.stk_query("ws_CO_02122025105112663100000011")

    assert "254708374149" not in caplog.text
    assert "663100000011" not in caplog.text
    assert "ws_CO_02122025105112663••••••011" in caplog.text
    assert "2547•••••149" in caplog.text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("ws_CO_22112022152650652700000029", "ws_CO_22112022152650652••••••029"),
        ("ws_CO_250120221936525017", "ws_CO_250120221936525017"),  # old format: no number
        ("ws_CO_DMZ_264695293_11032019122104433", "ws_CO_DMZ_264695293_11032019122104433"),
        ("payer 254712345678 paid", "payer 2547•••••678 paid"),
    ],
)
def test_redact(text: str, masked: str) -> None:
    assert redact(text) == masked
    assert mask_checkout_id(text) == masked


def test_config_repr_hides_secrets() -> None:
    text = repr(make_config())
    assert "174379" in text
    for secret in (KEY, SECRET, PASSKEY):
        assert secret not in text
