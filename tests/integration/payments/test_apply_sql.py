"""The one-statement apply path on PostgreSQL (`payments.apply_sql`).

The behaviour tests in this folder already run `apply_result` on both databases; these pin what
is special about the SQL path: it reads the same row the ORM does, writes nothing when the
conditional update loses, and rolls the whole statement back on a unique violation.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise.exceptions import IntegrityError

from payments import apply_sql
from payments.models import Notification, Payment, PaymentEvent
from payments.results import PaymentFacts, decide, event_detail
from payments.service import ApplyKind
from payments.states import PaymentStatus
from tests.support.db import TestDatabase
from tests.support.payments import callback, make_service, start

S = PaymentStatus
AT = datetime(2026, 3, 2, 9, 0, 20, tzinfo=UTC)


async def _plan_and_run(payment: Payment, result, *, receipt_taken: bool = False) -> bool:  # type: ignore[no-untyped-def]
    plan = decide(PaymentFacts.of(payment), result, receipt_taken=receipt_taken, now=AT)
    return await apply_sql.execute_plan(
        apply_sql.connection(),
        payment,
        plan,
        detail=event_detail(result, plan),
        raw=result.raw,
        source=result.source,
        checkout_request_id=result.checkout_request_id,
        at=AT,
    )


async def test_the_sql_path_is_used_on_postgres_only(db: TestDatabase) -> None:
    assert apply_sql.supports(apply_sql.connection()) is db.is_postgres


async def test_find_by_checkout_reads_what_the_orm_reads(postgres_db: TestDatabase) -> None:
    payment = await start(make_service())
    found = await apply_sql.find_by_checkout(apply_sql.connection(), payment.checkout_request_id)
    orm = await Payment.get(checkout_request_id=payment.checkout_request_id)
    assert found is not None
    fields = Payment._meta.fields_map.keys() - {"events", "notifications"}
    assert {f: getattr(found, f) for f in fields} == {f: getattr(orm, f) for f in fields}
    assert found.status is S.PENDING
    assert await apply_sql.find_by_checkout(apply_sql.connection(), "ws_CO_nope") is None


async def test_one_statement_moves_and_writes_event_and_message(postgres_db: TestDatabase) -> None:
    payment = await start(make_service())
    assert await _plan_and_run(payment, callback(payment.checkout_request_id))
    stored = await Payment.get(id=payment.id)
    assert (stored.status, stored.receipt, stored.paid_amount) == (S.PAID, "TC2ABCDE12", 1500)
    assert stored.updated_at == AT
    event = await PaymentEvent.get(payment_id=payment.id, kind="callback")
    assert (event.from_status, event.to_status, event.created_at) == ("pending", "paid", AT)
    assert event.detail["receipt"] == "TC2ABCDE12"
    assert event.raw_body["Body"]["stkCallback"]["ResultCode"] == "0"
    [note] = await Notification.filter(payment_id=payment.id)
    assert (note.kind, note.chat_id, note.topic, note.status, note.attempts) == (
        "paid", 107, "", "pending", 0,
    )  # fmt: skip


async def test_a_lost_race_writes_nothing(postgres_db: TestDatabase) -> None:
    payment = await start(make_service())
    stale = await Payment.get(id=payment.id)
    await Payment.filter(id=payment.id).update(status=S.CANCELLED)  # someone else moved it
    assert not await _plan_and_run(stale, callback(payment.checkout_request_id))
    assert (await Payment.get(id=payment.id)).status is S.CANCELLED
    assert not await PaymentEvent.filter(payment_id=payment.id, kind="callback").exists()
    assert not await Notification.filter(payment_id=payment.id).exists()


async def test_a_taken_receipt_rolls_the_whole_statement_back(postgres_db: TestDatabase) -> None:
    service = make_service()
    first = await start(service)
    second = await start(service, user_id=8, phone="0722000000")
    await service.apply_result(callback(first.checkout_request_id, receipt="RCPT000001"))
    with pytest.raises(IntegrityError):
        # Decided as if the receipt were free: the unique index must refuse it.
        await _plan_and_run(
            second, callback(second.checkout_request_id, receipt="RCPT000001", phone="254722000000")
        )
    assert (await Payment.get(id=second.id)).status is S.PENDING
    assert not await PaymentEvent.filter(payment_id=second.id, kind="callback").exists()
    assert not await Notification.filter(payment_id=second.id).exists()


async def test_apply_result_returns_the_row_as_stored(db: TestDatabase) -> None:
    # No re-read any more: the returned payment is built from what was written.
    payment = await start(make_service())
    applied = await make_service().apply_result(callback(payment.checkout_request_id))
    assert applied.kind is ApplyKind.APPLIED
    stored = await Payment.get(id=payment.id)
    fields = Payment._meta.fields_map.keys() - {"events", "notifications"}
    assert {f: getattr(applied.payment, f) for f in fields} == {
        f: getattr(stored, f) for f in fields
    }


async def test_service_takes_the_full_path_when_the_assumption_fails(db: TestDatabase) -> None:
    # Each case below is not "pending, unflagged, same amount": the decision must come from the
    # stored row, exactly as before the one-round-trip path existed.
    service = make_service()
    short = await start(service, user_id=1, amount=900)
    applied = await service.apply_result(callback(short.checkout_request_id, amount=1500))
    assert applied.kind is ApplyKind.AMOUNT_MISMATCH
    stored = await Payment.get(id=short.id)
    assert (stored.status, stored.flagged_reason) == (S.PENDING, "amount_mismatch")

    first = await start(service, user_id=2, phone="0722000002")
    second = await start(service, user_id=3, phone="0722000003")
    await service.apply_result(callback(first.checkout_request_id, receipt="RCPT000009"))
    applied = await service.apply_result(
        callback(second.checkout_request_id, receipt="RCPT000009", phone="254722000003")
    )
    assert applied.kind is ApplyKind.RECEIPT_CONFLICT
    assert (await Payment.get(id=second.id)).flagged_reason == "receipt_conflict"

    again = await service.apply_result(callback(first.checkout_request_id, receipt="RCPT000009"))
    assert again.kind is ApplyKind.DUPLICATE
    assert await Notification.filter(payment_id=first.id, kind="paid").count() == 1
