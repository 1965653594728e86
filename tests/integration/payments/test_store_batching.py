"""Concurrent moves share statements on PostgreSQL (`payments.stores.batching`).

Every test here drives `PaymentService.apply_result` concurrently on PostgreSQL and checks the
outcome is what one-at-a-time application gives: each payment moved once, one event and one
customer message each, and callers whose payment is not plainly pending get the full path's
answer (duplicate, conflict, flag) exactly as before batching existed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from daraja.types import StkResult
from payments.models import Notification, Payment, PaymentEvent
from payments.moves import Move
from payments.results import PaymentFacts, assumed_move, decide
from payments.service import ApplyKind, PaymentService
from payments.states import PaymentStatus
from payments.stores import sql
from payments.stores.batching import MoveBatcher
from tests.support.db import TestDatabase
from tests.support.payments import callback, make_service, start

S = PaymentStatus
AT = datetime(2026, 3, 2, 9, 0, 20, tzinfo=UTC)


async def _pending(service: PaymentService, count: int, first_user: int = 1) -> list[Payment]:
    return [
        await start(service, user_id=first_user + i, phone=f"07220{first_user + i:05d}")
        for i in range(count)
    ]


def _phone(payment: Payment) -> str:
    return "254" + payment.phone[-9:]


async def test_concurrent_callbacks_share_statements_and_each_settles_once(
    postgres_db: TestDatabase,
) -> None:
    service = make_service()
    payments = await _pending(service, 40)
    results = [
        callback(p.checkout_request_id, receipt=f"RB{i:08d}", phone=_phone(p))
        if i % 2 == 0
        else callback(p.checkout_request_id, "1032")
        for i, p in enumerate(payments)
    ]
    batcher = service.store.batcher
    items, statements = batcher.items, batcher.statements  # the pushes went through it too
    applied = await asyncio.gather(*(service.apply_result(r) for r in results))
    assert [a.kind for a in applied] == [ApplyKind.APPLIED] * 40
    # Two shapes (paid, cancelled): far fewer statements than callbacks.
    assert batcher.items - items == 40
    assert batcher.statements - statements <= 4
    for i, (payment, outcome) in enumerate(zip(payments, applied, strict=True)):
        stored = await Payment.get(id=payment.id)
        expected = S.PAID if i % 2 == 0 else S.CANCELLED
        assert stored.status is expected and outcome.payment.status is expected
        assert stored.receipt == (f"RB{i:08d}" if i % 2 == 0 else None)
        assert outcome.payment.receipt == stored.receipt
        assert await PaymentEvent.filter(payment_id=payment.id, kind="callback").count() == 1
        [note] = await Notification.filter(payment_id=payment.id)
        assert (note.kind, note.chat_id, note.user_id) == (
            "paid" if i % 2 == 0 else "cancelled",
            payment.chat_id,
            payment.user_id,
        )


async def test_payments_not_plainly_pending_get_the_full_paths_answer(
    postgres_db: TestDatabase,
) -> None:
    service = make_service()
    plain = await _pending(service, 5)
    settled, flagged, other_amount = await _pending(service, 3, first_user=20)
    await service.apply_result(callback(settled.checkout_request_id, "1032"))
    await Payment.filter(id=flagged.id).update(flagged_reason="amount_mismatch")
    await Payment.filter(id=other_amount.id).update(amount=900)
    odd = [settled, flagged, other_amount]
    results = [
        callback(p.checkout_request_id, receipt=f"RC{i:08d}", phone=_phone(p))
        for i, p in enumerate(plain + odd)
    ]
    results.append(callback("ws_CO_nobody_knows_this_one"))
    kinds = [a.kind for a in await asyncio.gather(*(service.apply_result(r) for r in results))]
    assert kinds == [ApplyKind.APPLIED] * 5 + [
        ApplyKind.CONFLICT,  # paid after cancelled: recorded, admins alerted
        ApplyKind.CONFLICT,  # flagged: recorded only
        ApplyKind.AMOUNT_MISMATCH,
        ApplyKind.UNKNOWN_CHECKOUT,
    ]
    assert (await Payment.get(id=settled.id)).status is S.CANCELLED
    assert (await Payment.get(id=other_amount.id)).flagged_reason == "amount_mismatch"
    for payment in odd:
        # No customer message beyond what the payment already had (the cancellation).
        kinds_sent = await Notification.filter(payment_id=payment.id, topic="").values_list(
            "kind", flat=True
        )
        assert kinds_sent == (["cancelled"] if payment is settled else [])


async def test_a_taken_receipt_in_a_shared_statement_costs_the_others_nothing(
    postgres_db: TestDatabase,
) -> None:
    service = make_service()
    owner = (await _pending(service, 1, first_user=50))[0]
    await service.apply_result(
        callback(owner.checkout_request_id, receipt="RTAKEN0001", phone=_phone(owner))
    )
    payments = await _pending(service, 6)
    results = [
        callback(
            p.checkout_request_id,
            receipt="RTAKEN0001" if i == 3 else f"RD{i:08d}",
            phone=_phone(p),
        )
        for i, p in enumerate(payments)
    ]
    applied = await asyncio.gather(*(service.apply_result(r) for r in results))
    assert [a.kind for a in applied] == [ApplyKind.APPLIED] * 3 + [ApplyKind.RECEIPT_CONFLICT] + [
        ApplyKind.APPLIED
    ] * 2
    thief = await Payment.get(id=payments[3].id)
    assert (thief.status, thief.flagged_reason, thief.receipt) == (
        S.PENDING,
        "receipt_conflict",
        None,
    )
    assert not await Notification.filter(payment_id=thief.id, topic="").exists()
    for i in (0, 1, 2, 4, 5):
        stored = await Payment.get(id=payments[i].id)
        assert (stored.status, stored.receipt) == (S.PAID, f"RD{i:08d}")
        assert await Notification.filter(payment_id=stored.id).count() == 1


async def test_the_same_callback_twice_at_once_moves_the_payment_once(
    postgres_db: TestDatabase,
) -> None:
    service = make_service()
    payments = await _pending(service, 3)
    twice = callback(
        payments[1].checkout_request_id, receipt="RE00000001", phone=_phone(payments[1])
    )
    results = [
        callback(payments[0].checkout_request_id, receipt="RE00000000", phone=_phone(payments[0])),
        twice,
        twice,
        callback(payments[2].checkout_request_id, receipt="RE00000002", phone=_phone(payments[2])),
    ]
    kinds = [a.kind for a in await asyncio.gather(*(service.apply_result(r) for r in results))]
    assert sorted(kinds[1:3]) == sorted([ApplyKind.APPLIED, ApplyKind.DUPLICATE])
    assert kinds[0] == kinds[3] == ApplyKind.APPLIED
    assert await Notification.filter(payment_id=payments[1].id).count() == 1
    assert await PaymentEvent.filter(payment_id=payments[1].id, kind="callback").count() == 1


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        MoveBatcher(max_batch=0)
    with pytest.raises(ValueError):
        MoveBatcher(max_in_flight=0)


class _StuckConnection:
    """A connection whose statements never come back (a hung database)."""

    def __init__(self) -> None:
        self.sent = asyncio.Event()

    async def execute_query_dict(self, sql: str, values: list[object]) -> list[dict[str, object]]:
        self.sent.set()
        await asyncio.Event().wait()
        return []


def _item(payment: Payment) -> Move:
    move = assumed_move(callback(payment.checkout_request_id, "1032"), AT)
    assert move is not None
    return move


async def test_callers_are_not_left_waiting_when_a_statement_is_cancelled(
    postgres_db: TestDatabase,
) -> None:
    payments = await _pending(make_service(), 3)
    batcher = MoveBatcher(max_in_flight=1)
    conn = _StuckConnection()
    callers = [
        asyncio.create_task(batcher.write(conn, _item(p)))  # type: ignore[arg-type]
        for p in payments
    ]
    await asyncio.wait_for(conn.sent.wait(), timeout=5)
    for task in list(batcher._tasks):
        task.cancel()
    done, pending = await asyncio.wait(callers, timeout=5)
    assert not pending, "a caller is still waiting for a statement that was cancelled"
    assert all(task.cancelled() for task in done)


class _FailsFirstShared:
    """The real connection, except that the first statement fails as a deadlock would."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.failed = 0

    async def execute_query_dict(self, sql: str, values: list[object]) -> list[dict[str, object]]:
        if not self.failed and "unnest(" in sql:
            self.failed += 1
            raise RuntimeError("deadlock detected")
        return await self.real.execute_query_dict(sql, values)  # type: ignore[attr-defined,no-any-return]


async def test_a_shared_statement_that_fails_as_a_whole_is_retried_alone(
    postgres_db: TestDatabase,
) -> None:
    payments = await _pending(make_service(), 4)
    batcher = MoveBatcher(max_in_flight=1)
    conn = _FailsFirstShared(sql.connection())
    moved = await asyncio.gather(
        *(batcher.write(conn, _item(p)) for p in payments)  # type: ignore[arg-type]
    )
    assert conn.failed == 1  # the shared statement was tried, and failed
    assert batcher.retried_alone == 4
    assert [m.id for m in moved] == [p.id for p in payments]  # type: ignore[union-attr]
    for payment in payments:
        stored = await Payment.get(id=payment.id)
        assert stored.status is S.CANCELLED
        assert await Notification.filter(payment_id=payment.id).count() == 1
        assert await PaymentEvent.filter(payment_id=payment.id, kind="callback").count() == 1


async def test_a_lone_statement_that_fails_raises_to_its_caller(postgres_db: TestDatabase) -> None:
    [payment] = await _pending(make_service(), 1)

    class Down:
        async def execute_query_dict(self, sql: str, values: list[object]) -> list[object]:
            raise ConnectionError("database unreachable")

    with pytest.raises(ConnectionError):
        await MoveBatcher().write(Down(), _item(payment))  # type: ignore[arg-type]
    assert (await Payment.get(id=payment.id)).status is S.PENDING


async def test_two_instances_batching_the_same_callbacks_settle_each_payment_once(
    postgres_db: TestDatabase,
) -> None:
    # Daraja's duplicates reaching two instances at once: both batch the same payments, in
    # opposite orders. Each payment moves once; the losing side is told "not as assumed".
    payments = await _pending(make_service(), 20)
    first, second = MoveBatcher(max_in_flight=1), MoveBatcher(max_in_flight=1)
    conn = sql.connection()
    results = await asyncio.gather(
        *(first.write(conn, _item(p)) for p in payments),
        *(second.write(conn, _item(p)) for p in reversed(payments)),
    )
    assert first.statements == second.statements == 1
    assert first.retried_alone == second.retried_alone == 0  # no deadlock, no failed statement
    mine, theirs = results[:20], list(reversed(results[20:]))
    for payment, a, b in zip(payments, mine, theirs, strict=True):
        assert (a is None) != (b is None), f"payment #{payment.id} moved twice or never"
        assert await Notification.filter(payment_id=payment.id).count() == 1
        assert await PaymentEvent.filter(payment_id=payment.id, kind="callback").count() == 1


# --------------------------------------------------------------- the assumed (one round trip) path


async def _assume_pending(result: StkResult) -> Payment | None:
    move = assumed_move(result, AT)
    assert move is not None
    return await MoveBatcher().write(sql.connection(), move)


async def _nothing_written(payment_id: int) -> bool:
    return not (
        await PaymentEvent.filter(payment_id=payment_id, kind="callback").exists()
        or await Notification.filter(payment_id=payment_id).exists()
    )


async def test_assumed_path_moves_a_pending_payment_and_returns_the_stored_row(
    postgres_db: TestDatabase,
) -> None:
    payment = await start(make_service(), language="sw")
    moved = await _assume_pending(callback(payment.checkout_request_id))
    stored = await Payment.get(id=payment.id)
    assert moved is not None and moved.id == payment.id
    fields = Payment._meta.fields_map.keys() - {"events", "notifications"}
    assert {f: getattr(moved, f) for f in fields} == {f: getattr(stored, f) for f in fields}
    assert (stored.status, stored.receipt, stored.paid_amount) == (S.PAID, "TC2ABCDE12", 1500)
    event = await PaymentEvent.get(payment_id=payment.id, kind="callback")
    assert (event.from_status, event.to_status) == ("pending", "paid")
    [note] = await Notification.filter(payment_id=payment.id)
    # The message's addressee comes from the row itself, not from the caller.
    assert (note.kind, note.chat_id, note.user_id, note.language) == ("paid", 107, 7, "sw")


@pytest.mark.rows_set_by_hand
async def test_assumed_path_writes_nothing_when_the_row_is_not_as_assumed(
    postgres_db: TestDatabase,
) -> None:
    service = make_service()
    settled = await start(service, user_id=1)
    await Payment.filter(id=settled.id).update(status=S.CANCELLED)
    flagged = await start(service, user_id=2, phone="0722000002")
    await Payment.filter(id=flagged.id).update(flagged_reason="amount_mismatch")
    other_amount = await start(service, user_id=3, phone="0722000003", amount=900)
    unknown = await start(service, user_id=4, phone="0722000004")
    await Payment.filter(id=unknown.id).update(status=S.UNKNOWN)
    for payment in (settled, flagged, other_amount, unknown):
        assert await _assume_pending(callback(payment.checkout_request_id)) is None
        assert await _nothing_written(payment.id)
    assert await _assume_pending(callback("ws_CO_no_such_checkout")) is None
    assert (await Payment.get(id=other_amount.id)).status is S.PENDING


async def test_assumed_path_refuses_plans_it_cannot_check(postgres_db: TestDatabase) -> None:
    payment = await start(make_service())
    result = callback(payment.checkout_request_id)
    facts = PaymentFacts(status=S.PENDING, amount=999)  # decides amount_mismatch: an alert
    plan = decide(facts, result, receipt_taken=False, now=AT)
    move = plan.move(result, at=AT)
    with pytest.raises(ValueError, match="alert"):
        await MoveBatcher().write(sql.connection(), move)
    assert await _nothing_written(payment.id)
