"""M-Pesa receipts compare case-insensitively: stored upper case, matched whatever the case.

The callback route refuses receipts not written as M-Pesa writes them (daraja/callbacks.py);
these tests feed the service results built directly, as another source of results would, so
that the payments side holds the rule by itself.
"""

from __future__ import annotations

from payments import reports
from payments.models import Notification, NotificationKind
from payments.service import ApplyKind
from payments.states import PaymentStatus
from tests.support.db import TestDatabase
from tests.support.payments import callback, make_service, start

S = PaymentStatus


async def test_a_receipt_is_stored_in_upper_case(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    paid = await service.apply_result(callback(payment.checkout_request_id, receipt="tc2abcde12"))
    assert paid.payment is not None and paid.payment.receipt == "TC2ABCDE12"


async def test_a_receipt_in_another_case_is_still_the_same_receipt(db: TestDatabase) -> None:
    service = make_service()
    first = await start(service, user_id=7, phone="0712345678")
    second = await start(service, user_id=8, phone="0722000000")
    await service.apply_result(callback(first.checkout_request_id, receipt="RCPT000001"))

    clash = await service.apply_result(
        callback(second.checkout_request_id, receipt="rcpt000001", phone="254722000000")
    )

    assert clash.kind is ApplyKind.RECEIPT_CONFLICT
    assert clash.payment is not None and clash.payment.status is S.PENDING
    assert clash.payment.flagged_reason == "receipt_conflict" and clash.payment.receipt is None


async def test_a_repeat_in_another_case_is_a_duplicate_not_a_second_receipt(
    db: TestDatabase,
) -> None:
    service = make_service()
    payment = await start(service)
    await service.apply_result(callback(payment.checkout_request_id, receipt="TC2ABCDE12"))

    again = await service.apply_result(callback(payment.checkout_request_id, receipt="Tc2AbCdE12"))

    assert again.kind is ApplyKind.DUPLICATE
    alerts = await Notification.filter(payment_id=payment.id, kind=NotificationKind.ADMIN_ALERT)
    assert alerts == []


async def test_details_after_a_query_see_a_receipt_taken_in_another_case(
    db: TestDatabase,
) -> None:
    service = make_service()
    first = await start(service, user_id=7, phone="0712345678")
    second = await start(service, user_id=8, phone="0722000000")
    await service.apply_result(callback(first.checkout_request_id, receipt="RCPT000009"))
    await service.apply_result(callback(second.checkout_request_id, source="query"))

    details = await service.apply_result(
        callback(second.checkout_request_id, receipt="rcpt000009", phone="254722000000")
    )

    assert details.kind is ApplyKind.RECEIPT_CONFLICT
    assert details.payment is not None and details.payment.receipt is None


async def test_lookups_find_a_receipt_typed_in_any_case(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    await service.apply_result(callback(payment.checkout_request_id, receipt="TC2ABCDE12"))
    for typed in ("TC2ABCDE12", "tc2abcde12", " Tc2aBcDe12 "):
        found = await service.find(typed)
        assert found is not None and found.id == payment.id
        assert [p.id for p in (await reports.find_payments(typed)).payments] == [payment.id]
