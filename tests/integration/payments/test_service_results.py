"""Applying M-Pesa's answers: every move once, duplicates, late and contradictory results."""

from __future__ import annotations

import pytest

from payments.models import Notification, NotificationKind, Payment, PaymentEvent
from payments.service import ApplyKind
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.gateway import FakeDaraja
from tests.support.payments import ADMINS, callback, make_service, start

S = PaymentStatus
K = NotificationKind


async def _kinds(payment_id: int) -> list[tuple[str, int]]:
    rows = await Notification.filter(payment_id=payment_id).order_by("id")
    return [(str(n.kind), n.chat_id) for n in rows]


@pytest.mark.parametrize(
    ("code", "status", "notice"),
    [
        ("0", S.PAID, K.PAID),
        ("1032", S.CANCELLED, K.CANCELLED),
        ("1", S.FAILED, K.FAILED),
        ("2001", S.FAILED, K.FAILED),
        ("1037", S.EXPIRED, K.EXPIRED),
        ("1019", S.EXPIRED, K.EXPIRED),
        ("SFC_IC0003", S.FAILED, K.FAILED),
        ("4242", S.FAILED, K.FAILED),  # a code nobody has seen: a failure, not a hang
    ],
)
async def test_callback_moves_the_payment_and_queues_one_message(
    db: TestDatabase, code: str, status: PaymentStatus, notice: NotificationKind
) -> None:
    clock = Clock()
    service = make_service(clock=clock)
    payment = await start(service, language="sw")
    clock.advance(20)
    applied = await service.apply_result(callback(payment.checkout_request_id, code))
    assert applied.kind is ApplyKind.APPLIED
    stored = applied.payment
    assert stored.status is status
    assert stored.result_code == code
    assert stored.completed_at == clock.now
    assert stored.next_check_at is None
    notes = await Notification.filter(payment_id=payment.id)
    assert [(n.kind, n.chat_id, n.user_id, n.language) for n in notes] == [(notice, 107, 7, "sw")]
    event = (await service.timeline(payment.id))[-1]
    assert (event.kind, event.from_status, event.to_status) == ("callback", "pending", status)
    assert event.raw_body["Body"]["stkCallback"]["ResultCode"] == code
    assert event.source == "callback"


async def test_success_stores_receipt_amount_and_time(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    paid = (await service.apply_result(callback(payment.checkout_request_id))).payment
    assert paid.receipt == "TC2ABCDE12"
    assert paid.paid_amount == 1500
    assert paid.transaction_time is not None
    assert paid.transaction_time.isoformat().startswith("2026-03-02T12:00:30")
    assert paid.flagged_reason is None


async def test_the_same_result_twice_is_a_duplicate(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    result = callback(payment.checkout_request_id)
    assert (await service.apply_result(result)).kind is ApplyKind.APPLIED
    again = await service.apply_result(result)
    assert again.kind is ApplyKind.DUPLICATE
    assert again.payment.status is S.PAID
    assert await _kinds(payment.id) == [("paid", 107)]
    assert [e.kind for e in await service.timeline(payment.id)][-2:] == ["callback", "duplicate"]

    failed = await start(service, user_id=8, phone="0722000000")
    for _ in range(3):
        await service.apply_result(callback(failed.checkout_request_id, "1032"))
    assert await _kinds(failed.id) == [("cancelled", 108)]


@pytest.mark.parametrize(
    ("first", "second", "status"),
    [
        ("1037", "1019", S.EXPIRED),  # seen in production: 1019 follows 1037
        ("2001", "1019", S.FAILED),  # and after a wrong PIN
        ("0", "1032", S.PAID),  # failure after paid
        ("0", "1019", S.PAID),
        ("1032", "2001", S.CANCELLED),
    ],
)
async def test_a_later_contradictory_result_is_recorded_not_applied(
    db: TestDatabase, first: str, second: str, status: PaymentStatus
) -> None:
    service = make_service()
    payment = await start(service)
    await service.apply_result(callback(payment.checkout_request_id, first))
    late = await service.apply_result(callback(payment.checkout_request_id, second))
    assert late.kind is ApplyKind.CONFLICT
    assert late.payment.status is status
    assert late.payment.result_code == first
    assert len(await _kinds(payment.id)) == 1
    conflict = (await service.timeline(payment.id))[-1]
    assert (conflict.kind, conflict.to_status) == ("conflict", None)
    assert conflict.detail["result_code"] == second


async def test_success_after_daraja_said_expired_pays_late(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    await service.apply_result(callback(payment.checkout_request_id, "1037"))
    late = await service.apply_result(callback(payment.checkout_request_id, "0"))
    assert late.kind is ApplyKind.APPLIED
    assert late.payment.status is S.PAID
    assert late.payment.result_code == "0"
    # Daraja's own "expired" was wrong: the customer hears they paid, the admins of the mistake.
    assert await _kinds(payment.id) == [
        ("expired", 107),
        ("late_paid", 107),
        ("admin_alert", ADMINS[0]),
        ("admin_alert", ADMINS[1]),
    ]


async def test_success_after_our_own_expiry_pays_late(db: TestDatabase) -> None:
    clock = Clock()
    service = make_service(clock=clock)
    payment = await start(service)
    clock.advance(181)
    assert await service.expire_overdue() == 1
    expired = await service.get(payment.id)
    assert (expired.status, expired.result_code) == (S.EXPIRED, None)
    late = await service.apply_result(callback(payment.checkout_request_id))
    assert (late.kind, late.payment.status) == (ApplyKind.APPLIED, S.PAID)
    assert await _kinds(payment.id) == [("expired", 107), ("late_paid", 107)]
    assert (await service.apply_result(callback(payment.checkout_request_id))).kind is (
        ApplyKind.DUPLICATE
    )
    assert len(await _kinds(payment.id)) == 2


async def test_failure_after_our_own_expiry_is_kept_quietly(db: TestDatabase) -> None:
    clock = Clock()
    service = make_service(clock=clock)
    payment = await start(service)
    clock.advance(181)
    await service.expire_overdue()
    late = await service.apply_result(callback(payment.checkout_request_id, "1037"))
    assert late.kind is ApplyKind.LATE_RESULT
    assert (late.payment.status, late.payment.result_code) == (S.EXPIRED, "1037")
    # Daraja's reason is on record; the customer was already told.
    assert await _kinds(payment.id) == [("expired", 107)]
    again = await service.apply_result(callback(payment.checkout_request_id, "1037"))
    assert again.kind is ApplyKind.DUPLICATE


async def test_amount_mismatch_is_flagged_for_admins_not_marked_paid(db: TestDatabase) -> None:
    gateway = FakeDaraja()
    service = make_service(gateway)
    payment = await start(service, amount=1500)
    result = await service.apply_result(callback(payment.checkout_request_id, amount=150))
    assert result.kind is ApplyKind.AMOUNT_MISMATCH
    flagged = result.payment
    assert flagged.status is S.PENDING
    assert flagged.flagged_reason == "amount_mismatch"
    assert (flagged.paid_amount, flagged.receipt) == (150, "TC2ABCDE12")
    notes = await Notification.filter(payment_id=payment.id).order_by("chat_id")
    assert [(n.kind, n.chat_id, n.topic) for n in notes] == [
        (K.FLAGGED, 107, ""),  # the payer: received, the shop is checking it
        (K.ADMIN_ALERT, ADMINS[0], "amount_mismatch"),
        (K.ADMIN_ALERT, ADMINS[1], "amount_mismatch"),
    ]
    assert notes[1].detail["expected_amount"] == 1500
    assert notes[1].detail["paid_amount"] == 150
    # Neither reconciled nor expired behind the admins' backs, and a repeat adds nothing.
    assert (await service.apply_result(callback(payment.checkout_request_id, amount=150))).kind is (
        ApplyKind.DUPLICATE
    )
    assert await Notification.filter(payment_id=payment.id).count() == 3
    service.clock.advance(3600)  # type: ignore[attr-defined]
    assert await service.reconcile_due("a") == 0
    assert await service.expire_overdue() == 0
    assert gateway.queries == []
    # The customer is not locked out by a payment the admins now own.
    assert (await start(service)).status is S.PENDING


async def test_a_receipt_already_used_by_another_payment_is_flagged(db: TestDatabase) -> None:
    service = make_service()
    first = await start(service, user_id=7, phone="0712345678")
    second = await start(service, user_id=8, phone="0722000000")
    await service.apply_result(callback(first.checkout_request_id, receipt="RCPT000001"))
    clash = await service.apply_result(
        callback(second.checkout_request_id, receipt="RCPT000001", phone="254722000000")
    )
    assert clash.kind is ApplyKind.RECEIPT_CONFLICT
    assert clash.payment.status is S.PENDING
    assert clash.payment.flagged_reason == "receipt_conflict"
    assert clash.payment.receipt is None
    assert await _kinds(second.id) == [
        ("flagged", 108),
        ("admin_alert", ADMINS[0]),
        ("admin_alert", ADMINS[1]),
    ]
    assert (await service.get(first.id)).receipt == "RCPT000001"


async def test_a_success_callback_beats_an_earlier_cancellation(db: TestDatabase) -> None:
    # The sandbox's query (and sometimes production's) says "cancelled" for a payment the
    # customer then completes: the callback with its receipt is proof of payment.
    service = make_service()
    payment = await start(service)
    await service.apply_result(callback(payment.checkout_request_id, "1032", source="query"))
    money = await service.apply_result(callback(payment.checkout_request_id, "0"))
    assert money.kind is ApplyKind.APPLIED
    assert (money.payment.status, money.payment.receipt) == (S.PAID, "TC2ABCDE12")
    assert await _kinds(payment.id) == [
        ("cancelled", 107),
        ("late_paid", 107),  # "paid after all", with the receipt
        ("admin_alert", ADMINS[0]),
        ("admin_alert", ADMINS[1]),
    ]
    alert = await Notification.filter(payment_id=payment.id, chat_id=ADMINS[0]).first()
    assert alert.topic == "paid_after_all"
    assert alert.detail["receipt"] == "TC2ABCDE12"


async def test_query_success_then_callback_fills_in_the_receipt(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    by_query = await service.apply_result(callback(payment.checkout_request_id, source="query"))
    assert (by_query.kind, by_query.payment.status, by_query.payment.receipt) == (
        ApplyKind.APPLIED,
        S.PAID,
        None,
    )
    details = await service.apply_result(callback(payment.checkout_request_id))
    assert details.kind is ApplyKind.DETAILS
    assert (details.payment.receipt, details.payment.paid_amount) == ("TC2ABCDE12", 1500)
    # The paid message said the receipt would follow; now it is owed, once.
    assert await _kinds(payment.id) == [("paid", 107), ("receipt", 107)]
    assert (await service.apply_result(callback(payment.checkout_request_id))).kind is (
        ApplyKind.DUPLICATE
    )
    assert await _kinds(payment.id) == [("paid", 107), ("receipt", 107)]


async def test_result_for_an_unknown_checkout_is_stored_with_its_body(db: TestDatabase) -> None:
    service = make_service()
    result = await service.apply_result(callback("ws_CO_nobody", "1032"))
    assert (result.kind, result.payment) == (ApplyKind.UNKNOWN_CHECKOUT, None)
    event = await PaymentEvent.get(checkout_request_id="ws_CO_nobody")
    assert event.payment_id is None
    assert event.kind == "unknown_checkout"
    assert event.raw_body["Body"]["stkCallback"]["ResultCode"] == "1032"
    assert await Notification.all().count() == 0


async def test_a_callback_that_beats_the_push_answer_is_applied_afterwards(
    db: TestDatabase,
) -> None:
    gateway = FakeDaraja()
    service = make_service(gateway)

    async def callback_first(accepted) -> None:
        body = {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": accepted.merchant_request_id,
                    "CheckoutRequestID": accepted.checkout_request_id,
                    "ResultCode": 0,
                    "ResultDesc": "The service request is processed successfully.",
                    "CallbackMetadata": {
                        "Item": [
                            {"Name": "Amount", "Value": 1500.00},
                            {"Name": "MpesaReceiptNumber", "Value": "TC2EARLY01"},
                            {"Name": "Balance"},
                            {"Name": "TransactionDate", "Value": 20260302120030},
                            {"Name": "PhoneNumber", "Value": 254712345678},
                        ]
                    },
                }
            }
        }
        from daraja.callbacks import parse_stk_callback

        early = await service.apply_result(parse_stk_callback(body))
        assert early.kind is ApplyKind.UNKNOWN_CHECKOUT

    gateway.on_push = callback_first
    payment = await start(service)
    assert payment.status is S.PAID
    assert payment.receipt == "TC2EARLY01"
    assert await _kinds(payment.id) == [("paid", 107)]


async def test_flagged_payment_ignores_later_results(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    await service.apply_result(callback(payment.checkout_request_id, amount=1))
    later = await service.apply_result(callback(payment.checkout_request_id, "1032"))
    assert later.kind is ApplyKind.CONFLICT
    stored = await Payment.get(id=payment.id)
    assert (stored.status, stored.flagged_reason) == (S.PENDING, "amount_mismatch")
