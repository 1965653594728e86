"""Hostile input at the callback endpoint: forgeries, wrong money, reused receipts, parser bombs.

Every request targets a real payment that is waiting for its answer, and every test checks the
HTTP status, that the payment row and the outbox did not change (or changed exactly as they
should), and that nothing answered 500.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from daraja.emulator import Emulator
from offline.fake_telegram import FakeUser
from payments.models import Notification, NotificationKind, Payment, PaymentEvent
from payments.states import PaymentStatus
from tests.support.figures import FIGURES
from tests.support.harness import (
    CALLBACK_PATH,
    SAFARICOM_PEER,
    Instance,
    TelegramSeam,
    local_phone,
    phone_for,
)

S = PaymentStatus
OUTSIDER = "203.0.113.9"
ADMIN = 1000  # make_settings' ADMIN_IDS


def success_body(
    payment: Payment, *, amount: int | None = None, receipt: str = "UKS1234567"
) -> dict[str, Any]:
    items: list[dict[str, Any]] = [
        {"Name": "Amount", "Value": payment.amount if amount is None else amount},
        {"Name": "MpesaReceiptNumber", "Value": receipt},
        {"Name": "Balance"},
        {"Name": "TransactionDate", "Value": 20261128071502},
        {"Name": "PhoneNumber", "Value": int(payment.phone)},
    ]
    return {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": payment.merchant_request_id,
                "CheckoutRequestID": payment.checkout_request_id,
                "ResultCode": 0,
                "ResultDesc": "The service request is processed successfully.",
                "CallbackMetadata": {"Item": items},
            }
        }
    }


async def waiting_payment(lipabot: Instance, user: FakeUser, index: int) -> Payment:
    draft = await lipabot.start_payment(user, "1000", local_phone(phone_for(index)))
    payment = await lipabot.confirm(user, draft.id)
    assert payment.status is S.PENDING and payment.checkout_request_id
    return payment


@pytest.fixture
async def pending(lipabot: Instance, customer: FakeUser, emu: Emulator) -> AsyncIterator[Payment]:
    emu.set_callback_delay(3600.0)  # the real answer is not coming during the test
    yield await waiting_payment(lipabot, customer, 90)


async def snapshot(payment_id: int) -> tuple[dict[str, Any], int]:
    row = await Payment.get(id=payment_id)
    fields = {
        name: getattr(row, name)
        for name in ("status", "receipt", "paid_amount", "result_code", "flagged_reason")
    }
    return fields, await Notification.all().count()


async def post(
    lipabot: Instance,
    *,
    peer: str = SAFARICOM_PEER,
    path: str = CALLBACK_PATH,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    async with lipabot.client(peer) as client:
        return await client.post(path, headers=headers, **kwargs)


async def test_forged_token_is_not_found(lipabot: Instance, pending: Payment) -> None:
    before = await snapshot(pending.id)
    response = await post(
        lipabot, path="/payments/callback/guessed-token-guessed-token", json=success_body(pending)
    )
    assert response.status_code == 404
    assert await snapshot(pending.id) == before
    FIGURES.injected("hostile: forged token")


@pytest.mark.parametrize(
    ("peer", "forwarded"),
    [
        (OUTSIDER, None),  # straight from the internet
        (OUTSIDER, SAFARICOM_PEER),  # claims to be Safaricom through a header nobody trusts
        ("127.0.0.1", f"{SAFARICOM_PEER}, {OUTSIDER}"),  # our proxy saw the outsider
    ],
    ids=["direct", "untrusted-proxy", "spoofed-left-of-trusted-proxy"],
)
async def test_forged_body_from_outside_the_allowlist_is_refused(
    lipabot: Instance, pending: Payment, peer: str, forwarded: str | None
) -> None:
    before = await snapshot(pending.id)
    headers = {"X-Forwarded-For": forwarded} if forwarded else None
    response = await post(lipabot, peer=peer, headers=headers, json=success_body(pending))
    assert response.status_code == 403
    assert await snapshot(pending.id) == before
    FIGURES.injected("hostile: forged callback from outside the allowlist")


async def test_callback_through_our_proxy_from_safaricom_is_accepted(
    lipabot: Instance, pending: Payment, telegram: TelegramSeam, customer: FakeUser
) -> None:
    """The control for the refusals above: the same body, really from Safaricom, counts."""
    headers = {"X-Forwarded-For": SAFARICOM_PEER}
    response = await post(lipabot, peer="127.0.0.1", headers=headers, json=success_body(pending))
    assert response.status_code == 200
    assert (await Payment.get(id=pending.id)).status is S.PAID
    await lipabot.deliver()
    assert len(telegram.outcomes(customer.id)) == 1
    FIGURES.drove("hostile input")


async def test_success_for_a_different_amount_is_flagged_not_paid(
    lipabot: Instance, pending: Payment, telegram: TelegramSeam, customer: FakeUser
) -> None:
    response = await post(lipabot, json=success_body(pending, amount=1))
    assert response.status_code == 200
    await lipabot.deliver()

    row = await Payment.get(id=pending.id)
    assert row.status is not S.PAID
    assert row.flagged_reason == "amount_mismatch"
    assert telegram.outcomes(customer.id) == [], "the customer must not be told it is paid"
    alerts = telegram.texts_to(ADMIN)
    assert len(alerts) == 1 and str(pending.id) in alerts[0]
    assert "M-Pesa reports KES 1 paid, but KES 1,000 was asked" in alerts[0]
    # The same forged success again: still one alert, still not paid.
    assert (await post(lipabot, json=success_body(pending, amount=1))).status_code == 200
    await lipabot.deliver()
    assert len(telegram.texts_to(ADMIN)) == 1
    assert (await Payment.get(id=pending.id)).status is not S.PAID
    FIGURES.drove("hostile input")
    FIGURES.injected("hostile: amount mismatch", 2)


async def test_receipt_already_used_by_another_payment_is_flagged(
    lipabot: Instance,
    pending: Payment,
    other_customer: FakeUser,
    customer: FakeUser,
    telegram: TelegramSeam,
) -> None:
    assert (
        await post(lipabot, json=success_body(pending, receipt="UKSREUSED1"))
    ).status_code == 200
    second = await waiting_payment(lipabot, other_customer, 91)
    response = await post(lipabot, json=success_body(second, receipt="UKSREUSED1"))
    assert response.status_code == 200
    await lipabot.deliver()

    first_row, second_row = await Payment.get(id=pending.id), await Payment.get(id=second.id)
    assert first_row.status is S.PAID and first_row.receipt == "UKSREUSED1"
    assert second_row.status is not S.PAID and second_row.receipt is None
    assert second_row.flagged_reason == "receipt_conflict"
    assert len(telegram.outcomes(customer.id)) == 1
    assert telegram.outcomes(other_customer.id) == []
    alerts = await Notification.filter(kind=NotificationKind.ADMIN_ALERT, chat_id=ADMIN)
    assert [a.payment_id for a in alerts] == [second.id]
    assert any(
        "receipt UKSREUSED1, which already belongs to another payment" in text
        for text in telegram.texts_to(ADMIN)
    )
    FIGURES.drove("hostile input", 2)
    FIGURES.injected("hostile: reused receipt")


def nested_list(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_dict(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


async def chunks(data: bytes, size: int = 16_384) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (nested_list(20_000), JSON, 400),
        (nested_dict(2_000), JSON, 400),
        (b'{"Body": {"stkCallback": ' + b"[" * 40 + b"]" * 40 + b"}}", JSON, 400),
        (b'{"pad": "' + b"x" * 2_000_000 + b'"}', JSON, 413),
        (b"[" + b"1," * 200_000 + b"1]", JSON, 413),
        (b'{"Body": {}}', {"Content-Type": "text/plain"}, 400),
        (b'{"Body": {}}', {"Content-Type": "application/x-www-form-urlencoded"}, 400),
        (b'{"Body": {"stkCallback": "\xff\xfe\xfd"}}', JSON, 400),
        (b"\xef\xbb\xbf\xc3\x28", JSON, 400),
        (b"", JSON, 400),
        (b"null", JSON, 400),
        (b'"just a string"', JSON, 400),
        (b'{"Body": {"stkCallback": {"CheckoutRequestID": 12, "ResultCode": "x"}}}', JSON, 400),
    ],
    ids=[
        "deep-list",
        "deep-dict",
        "deep-inside-callback",
        "huge-string",
        "huge-array",
        "text-plain",
        "form",
        "invalid-utf8",
        "invalid-utf8-after-bom",
        "empty",
        "null",
        "string",
        "wrong-types",
    ],
)
async def test_malformed_bodies_get_a_4xx_and_change_nothing(
    lipabot: Instance, pending: Payment, content: bytes, headers: dict[str, str], status: int
) -> None:
    before = await snapshot(pending.id)
    response = await post(lipabot, content=content, headers=headers)
    kept = await PaymentEvent.filter(kind="callback_rejected").exists()
    FIGURES.hostile_callback(response.status_code, kept=kept)
    assert response.status_code == status, response.text
    assert kept, "a refused body with the right token is kept for audit"
    assert await snapshot(pending.id) == before
    FIGURES.injected("hostile: malformed callback body")


async def test_huge_body_without_content_length_is_cut_off(
    lipabot: Instance, pending: Payment
) -> None:
    before = await snapshot(pending.id)
    body = json.dumps({"pad": "x" * 1_000_000}).encode()
    response = await post(lipabot, content=chunks(body), headers=JSON)
    assert response.status_code == 413
    assert await snapshot(pending.id) == before
    FIGURES.injected("hostile: chunked huge body")


async def test_lying_content_length_is_refused(lipabot: Instance, pending: Payment) -> None:
    before = await snapshot(pending.id)
    headers = {**JSON, "Content-Length": "not-a-number"}
    response = await post(lipabot, content=b"{}", headers=headers)
    assert response.status_code == 400
    assert await snapshot(pending.id) == before
    FIGURES.injected("hostile: bad Content-Length")


# ------------------------------------------------------------------ values that are not Daraja's
# Each body carries the right token and the shape of a success for a waiting payment of KES
# 1,000, with one value no M-Pesa callback carries. Before these rules some of them reached the
# database as a varchar overflow (503, body lost) and others were taken at face value.


def _with(payment: Payment, path: tuple[str, ...], value: Any) -> bytes:
    body = success_body(payment)
    target: Any = body["Body"]["stkCallback"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(body).encode()


def _item(payment: Payment, name: str, value: Any) -> bytes:
    body = success_body(payment)
    for item in body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]:
        if item["Name"] == name:
            item["Value"] = value
    return json.dumps(body).encode()


def _written_as(payment: Payment, name: str, literal: str) -> bytes:
    """The success body with item `name`'s value written as `literal`, as is (JSON or not)."""
    marker = 987654321  # a value no other item carries
    return _item(payment, name, marker).replace(str(marker).encode(), literal.encode())


def _duplicate_result_code(payment: Payment) -> bytes:
    """`ResultCode` twice: 1032 first, 0 last. Parsers disagree about which one counts."""
    text = json.dumps(success_body(payment))
    return text.replace('"ResultCode": 0', '"ResultCode": 1032, "ResultCode": 0').encode()


HOSTILE_VALUES: dict[str, Any] = {
    "long-checkout-id": lambda p: _with(
        p, ("CheckoutRequestID",), p.checkout_request_id + "9" * 60
    ),
    "long-merchant-id": lambda p: _with(p, ("MerchantRequestID",), "f0b7-410a-" * 10),
    "long-result-code": lambda p: _with(p, ("ResultCode",), "1" * 40),
    "long-numeric-result-code": lambda p: _with(p, ("ResultCode",), 10**40),
    "long-receipt": lambda p: _item(p, "MpesaReceiptNumber", "UKS" + "1" * 40),
    "lower-case-receipt": lambda p: _item(p, "MpesaReceiptNumber", "uks1234567"),
    "arabic-indic-digits-amount": lambda p: _item(p, "Amount", "١٠٠٠"),
    "exponent-string-amount": lambda p: _item(p, "Amount", "1e3"),
    "exponent-number-amount": lambda p: _written_as(p, "Amount", "1e3"),
    "exponent-decimal-amount": lambda p: _written_as(p, "Amount", "1.0E+3"),
    "huge-amount": lambda p: _item(p, "Amount", 10**12),
    "duplicate-keys": _duplicate_result_code,
    "nul-in-description": lambda p: _with(p, ("ResultDesc",), "ok\u0000"),
    "lone-surrogate-in-description": lambda p: _with(p, ("ResultDesc",), "ok\ud800"),
    "nul-in-unread-item": lambda p: _item(p, "Balance", "0\u0000"),
    "year-1-transaction-date": lambda p: _item(p, "TransactionDate", "00010101000000"),
    "nan-balance": lambda p: _written_as(p, "Balance", "NaN"),
    "infinite-balance": lambda p: _written_as(p, "Balance", "1e400"),
}


@pytest.fixture
async def pending_on_each_db(
    lipabot_on_each_db: Instance, customer: FakeUser, emu: Emulator
) -> AsyncIterator[Payment]:
    emu.set_callback_delay(3600.0)
    yield await waiting_payment(lipabot_on_each_db, customer, 92)


@pytest.mark.parametrize("case", list(HOSTILE_VALUES))
async def test_values_daraja_never_sends_get_400_and_an_audit_row(
    lipabot_on_each_db: Instance, pending_on_each_db: Payment, case: str
) -> None:
    payment = pending_on_each_db
    content = HOSTILE_VALUES[case](payment)
    before = await snapshot(payment.id)
    response = await post(lipabot_on_each_db, content=content, headers=JSON)
    rejected = await PaymentEvent.filter(kind="callback_rejected").order_by("-id").first()
    FIGURES.hostile_callback(response.status_code, kept=rejected is not None)

    assert response.status_code == 400, response.text
    reason = response.json()["ResultDesc"]
    assert reason and response.json()["ResultCode"] == 1
    assert await snapshot(payment.id) == before
    assert rejected is not None and rejected.payment_id is None
    assert rejected.detail["reason"] == reason
    # The body is kept: as JSON when it was JSON we could read, else as its text.
    kept = rejected.raw_body if rejected.raw_body is not None else rejected.detail["text"]
    assert kept == (json.loads(content) if rejected.raw_body is not None else content.decode())
    FIGURES.injected(f"hostile: {case}")
