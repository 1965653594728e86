"""Password and timestamp: Nairobi time from the injected clock, as Daraja checks them."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from daraja.client import STK_PUSH_PATH, STK_QUERY_PATH, DarajaClient
from daraja.config import SANDBOX_PASSKEY
from daraja.timestamps import stk_password
from tests.support.clock import Clock
from tests.support.scripted_daraja import PASSKEY, FakeDaraja

PUSH = {
    "phone": "254708374149",
    "amount": 10,
    "account_reference": "INV42",
    "description": "Order 42",
    "callback_url": "https://lipabot.test/payments/callback/abc",
}


def test_password_matches_the_daraja_docs_sample() -> None:
    # A Password published with the Daraja simulator sample, for timestamp 20210709162329.
    sample = (
        "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGExZW"
        "QyYzkxOTIwMjEwNzA5MTYyMzI5"
    )
    assert stk_password("174379", SANDBOX_PASSKEY, "20210709162329") == sample


async def test_push_at_2230_utc_uses_tomorrows_nairobi_date(
    client: DarajaClient, fake: FakeDaraja, clock: Clock
) -> None:
    clock.now = datetime(2026, 3, 1, 22, 30, 5, tzinfo=UTC)

    await client.stk_push(**PUSH)

    (sent,) = fake.sent(STK_PUSH_PATH)
    assert sent["Timestamp"] == "20260302013005"
    decoded = base64.b64decode(sent["Password"]).decode()
    assert decoded == "174379" + PASSKEY + "20260302013005"


async def test_query_password_uses_the_same_clock(
    client: DarajaClient, fake: FakeDaraja, clock: Clock
) -> None:
    clock.now = datetime(2026, 12, 31, 21, 0, 0, tzinfo=UTC)

    await client.stk_query("ws_CO_080920202236494435")

    (sent,) = fake.sent(STK_QUERY_PATH)
    assert sent["Timestamp"] == "20270101000000"
    assert base64.b64decode(sent["Password"]).decode().endswith(PASSKEY + "20270101000000")
    assert sent["CheckoutRequestID"] == "ws_CO_080920202236494435"
    assert sent["BusinessShortCode"] == 174379
