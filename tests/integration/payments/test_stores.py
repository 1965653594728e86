"""The two payment stores write the same moves the same way (`payments.stores`).

The behaviour tests in this folder already run the service on both databases; these pin what a
store owes its callers: the one chosen for the database, the same rows read, a move written with
its event and message or not at all, and nothing written when the row is not as expected or a
unique rule refuses the move.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from payments.models import Notification, Payment, PaymentEvent
from payments.moves import perform
from payments.results import PaymentFacts, decide
from payments.service import ApplyKind
from payments.states import PaymentStatus
from payments.stores import OrmStore, PostgresStore, select_store
from tests.support.db import TestDatabase
from tests.support.payments import callback, make_service, start

S = PaymentStatus
AT = datetime(2026, 3, 2, 9, 0, 20, tzinfo=UTC)


async def _plan_and_perform(payment: Payment, result, *, receipt_taken: bool = False):  # type: ignore[no-untyped-def]
    plan = decide(PaymentFacts.of(payment), result, receipt_taken=receipt_taken, now=AT)
    return await perform(select_store(), plan.move(result, at=AT, payment=payment))


async def test_the_store_is_chosen_by_the_database(db: TestDatabase) -> None:
    store = select_store()
    assert isinstance(store, PostgresStore) is db.is_postgres
    assert isinstance(store, OrmStore)  # the PostgreSQL store falls back to the ORM's writes
    assert make_service().store.name == ("postgres" if db.is_postgres else "orm")


async def test_both_stores_read_the_same_row(postgres_db: TestDatabase) -> None:
    payment = await start(make_service())
    fast = await PostgresStore().by_checkout(payment.checkout_request_id)
    orm = await OrmStore().by_checkout(payment.checkout_request_id)
    assert fast is not None and orm is not None
    fields = Payment._meta.fields_map.keys() - {"events", "notifications"}
    assert {f: getattr(fast, f) for f in fields} == {f: getattr(orm, f) for f in fields}
    assert fast.status is S.PENDING
    assert await PostgresStore().by_checkout("ws_CO_nope") is None
    assert (await PostgresStore().by_id(payment.id)).id == payment.id  # type: ignore[union-attr]


async def test_a_move_writes_row_event_and_message_together(db: TestDatabase) -> None:
    payment = await start(make_service())
    moved = await _plan_and_perform(payment, callback(payment.checkout_request_id))
    assert moved is not None and moved.status is S.PAID
    stored = await Payment.get(id=payment.id)
    assert (stored.status, stored.receipt, stored.paid_amount) == (S.PAID, "TC2ABCDE12", 1500)
    assert stored.updated_at == AT
    event = await PaymentEvent.get(payment_id=payment.id, kind="callback")
    assert (event.from_status, event.to_status, event.created_at) == ("pending", "paid", AT)
    assert event.checkout_request_id == payment.checkout_request_id
    assert event.detail["receipt"] == "TC2ABCDE12"
    assert event.raw_body["Body"]["stkCallback"]["ResultCode"] == "0"
    [note] = await Notification.filter(payment_id=payment.id)
    assert (note.kind, note.chat_id, note.topic, note.status, note.attempts) == (
        "paid", 107, "", "pending", 0,
    )  # fmt: skip


@pytest.mark.rows_set_by_hand
async def test_a_lost_race_writes_nothing(db: TestDatabase) -> None:
    payment = await start(make_service())
    stale = await Payment.get(id=payment.id)
    await Payment.filter(id=payment.id).update(status=S.CANCELLED)  # someone else moved it
    assert await _plan_and_perform(stale, callback(payment.checkout_request_id)) is None
    assert (await Payment.get(id=payment.id)).status is S.CANCELLED
    assert not await PaymentEvent.filter(payment_id=payment.id, kind="callback").exists()
    assert not await Notification.filter(payment_id=payment.id).exists()


async def test_a_taken_receipt_writes_nothing_at_all(db: TestDatabase) -> None:
    service = make_service()
    first = await start(service)
    second = await start(service, user_id=8, phone="0722000000")
    await service.apply_result(callback(first.checkout_request_id, receipt="RCPT000001"))
    # Decided as if the receipt were free: the unique index must refuse the whole move.
    result = callback(second.checkout_request_id, receipt="RCPT000001", phone="254722000000")
    assert await _plan_and_perform(second, result) is None
    assert (await Payment.get(id=second.id)).status is S.PENDING
    assert not await PaymentEvent.filter(payment_id=second.id, kind="callback").exists()
    assert not await Notification.filter(payment_id=second.id).exists()


async def test_apply_result_returns_the_row_as_stored(db: TestDatabase) -> None:
    # No re-read: the returned payment is built from what was written.
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
