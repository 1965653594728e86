"""The one-statement outbox on PostgreSQL (`Outbox.claim`, `Outbox.mark_sent`).

`test_outbox.py` runs the outbox's behaviour on both databases; these pin what is special about
the PostgreSQL statements: they return and write exactly what the ORM path does, respect and
expire leases, write the NOTIFIED event once and only for the lease holder, skip rows another
claimer holds locked, and give concurrent claimers disjoint rows.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tortoise.transactions import in_transaction

from payments.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
    Payment,
    PaymentEvent,
)
from payments.outbox import Outbox
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.payments import make_service, paid_and_cancelled, start


def _fields(obj: object, model: type, *, leave_out: tuple[str, ...] = ()) -> dict[str, object]:
    """Every stored column of `obj` (read once tortoise is set up: FKs count then)."""
    columns = sorted(set(model._meta.fields_db_projection.values()) - set(leave_out))
    return {column: getattr(obj, column) for column in columns}


async def _alerts(clock: Clock, count: int) -> list[int]:
    ids = []
    for i in range(count):
        note = await Notification.create(
            chat_id=1000,
            kind=NotificationKind.ADMIN_ALERT,
            topic=f"t{i}",
            detail={"reason": f"t{i}", "n": i},
            next_attempt_at=clock.now,
            created_at=clock.now,
        )
        ids.append(note.id)
    return ids


async def test_the_one_statement_path_is_used_on_postgres_only(db: TestDatabase) -> None:
    assert (Outbox()._sql_connection() is not None) is db.is_postgres
    assert Outbox(one_statement=False)._sql_connection() is None


async def test_claimed_rows_are_what_the_orm_reads(postgres_db: TestDatabase) -> None:
    clock = Clock()
    await paid_and_cancelled(clock)
    await _alerts(clock, 1)
    claimed = await Outbox(clock=clock).claim(owner="a", lease_seconds=30)
    assert [n.kind for n in claimed] == [
        NotificationKind.PAID,
        NotificationKind.CANCELLED,
        NotificationKind.ADMIN_ALERT,
    ]
    orm = await Notification.filter(id__in=[n.id for n in claimed]).select_related("payment")
    orm_by_id = {n.id: n for n in orm}
    for note in claimed:
        twin = orm_by_id[note.id]
        assert _fields(note, Notification) == _fields(twin, Notification)
        assert (note.claimed_by, note.claimed_until) == ("a", clock.now + timedelta(seconds=30))
        if twin.payment is None:
            assert note.payment is None
        else:
            assert _fields(note.payment, Payment) == _fields(twin.payment, Payment)
    assert claimed[2].detail == {"reason": "t0", "n": 0}
    assert claimed[0].payment.receipt == "TC2ABCDE12"


async def test_a_lease_holds_until_it_expires(postgres_db: TestDatabase) -> None:
    clock = Clock()
    ids = await _alerts(clock, 3)
    outbox = Outbox(clock=clock)
    first = await outbox.claim(owner="a", limit=2, lease_seconds=30)
    assert [n.id for n in first] == ids[:2]
    clock.advance(30)  # claimed_until == now: still held
    assert [n.id for n in await outbox.claim(owner="b", lease_seconds=30)] == ids[2:]
    clock.advance(1)
    again = await outbox.claim(owner="b", lease_seconds=30)
    assert [n.id for n in again] == ids[:2]
    stored = (
        await Notification.filter(id__in=ids).order_by("id").values_list("claimed_by", flat=True)
    )
    assert stored == ["b", "b", "b"]


async def test_rows_not_due_or_not_pending_are_left_alone(postgres_db: TestDatabase) -> None:
    clock = Clock()
    ids = await _alerts(clock, 3)
    await Notification.filter(id=ids[0]).update(next_attempt_at=clock.now + timedelta(seconds=5))
    await Notification.filter(id=ids[1]).update(status=NotificationStatus.UNDELIVERABLE)
    outbox = Outbox(clock=clock)
    assert [n.id for n in await outbox.claim(owner="a")] == [ids[2]]
    clock.advance(5)
    assert [n.id for n in await outbox.claim(owner="a")] == [ids[0]]


async def test_mark_sent_writes_what_the_orm_path_writes(postgres_db: TestDatabase) -> None:
    clock = Clock()
    await paid_and_cancelled(clock)
    sql, orm = Outbox(clock=clock), Outbox(clock=clock, one_statement=False)
    paid, cancelled = await sql.claim(owner="a")
    await sql.mark_retry(paid.id, delay_seconds=0, error="Timed out")  # attempts 1
    [paid] = await sql.claim(owner="a")
    clock.advance(3)
    assert await sql.mark_sent(paid.id, owner="a") is True
    assert await orm.mark_sent(cancelled.id, owner="a") is True
    by_sql = await Notification.get(id=paid.id)
    by_orm = await Notification.get(id=cancelled.id)
    for row, attempts in ((by_sql, 2), (by_orm, 1)):
        assert (row.status, row.attempts, row.sent_at) == (
            NotificationStatus.SENT, attempts, clock.now,
        )  # fmt: skip
        assert (row.claimed_by, row.claimed_until) == (None, None)
    sql_event = await PaymentEvent.get(payment_id=paid.payment_id, kind="notified")
    orm_event = await PaymentEvent.get(payment_id=cancelled.payment_id, kind="notified")
    assert sql_event.detail == {"notification_id": paid.id, "kind": "paid", "chat": paid.chat_id}
    expected = _fields(orm_event, PaymentEvent, leave_out=("id",)) | {
        "payment_id": paid.payment_id,
        "detail": sql_event.detail,
    }
    assert _fields(sql_event, PaymentEvent, leave_out=("id",)) == expected
    assert orm_event.source == "outbox" and orm_event.created_at == clock.now


async def test_a_lost_lease_answers_false_and_writes_nothing(postgres_db: TestDatabase) -> None:
    clock = Clock()
    await paid_and_cancelled(clock)
    outbox = Outbox(clock=clock)
    [row, _] = await outbox.claim(owner="a", lease_seconds=30)
    clock.advance(31)
    await outbox.claim(owner="b", lease_seconds=30)  # a's lease ran out; b holds the row now
    assert await outbox.mark_sent(row.id, owner="a") is False
    stored = await Notification.get(id=row.id)
    assert (stored.status, stored.attempts, stored.claimed_by) == (
        NotificationStatus.PENDING, 0, "b",
    )  # fmt: skip
    assert not await PaymentEvent.filter(kind="notified").exists()
    assert await outbox.mark_sent(row.id, owner="b") is True
    assert await outbox.mark_sent(row.id, owner="b") is False  # sent already
    assert await PaymentEvent.filter(kind="notified").count() == 1
    assert (await Notification.get(id=row.id)).attempts == 1


async def test_an_alert_without_a_payment_is_sent_without_an_event(
    postgres_db: TestDatabase,
) -> None:
    clock = Clock()
    [note_id] = await _alerts(clock, 1)
    outbox = Outbox(clock=clock)
    [row] = await outbox.claim(owner="a")
    assert row.payment is None and row.payment_id is None
    assert await outbox.mark_sent(note_id, owner="a") is True
    assert await PaymentEvent.all().count() == 0


async def test_a_row_locked_by_another_claimer_is_skipped(postgres_db: TestDatabase) -> None:
    clock = Clock()
    ids = await _alerts(clock, 3)
    outbox = Outbox(clock=clock)
    locked, release = asyncio.Event(), asyncio.Event()

    async def hold_first_row() -> None:
        async with in_transaction() as conn:
            await conn.execute_query(
                'SELECT id FROM "notification" WHERE id = $1 FOR UPDATE', [ids[0]]
            )
            locked.set()
            await release.wait()

    holder = asyncio.create_task(hold_first_row())
    try:
        await asyncio.wait_for(locked.wait(), 10)
        # Without SKIP LOCKED this claim would wait for the holder (the guard turns a hang
        # into a failure).
        claimed = await asyncio.wait_for(outbox.claim(owner="a"), 10)
        assert [n.id for n in claimed] == ids[1:]
    finally:
        release.set()
        await holder
    assert [n.id for n in await outbox.claim(owner="b")] == ids[:1]


async def test_concurrent_claimers_get_disjoint_rows(postgres_db: TestDatabase) -> None:
    clock = Clock()
    ids = await _alerts(clock, 60)
    outbox = Outbox(clock=clock)
    got: dict[str, list[int]] = {}

    async def claimer(name: str) -> None:
        mine = got.setdefault(name, [])
        while rows := await outbox.claim(owner=name, limit=3, lease_seconds=60):
            mine.extend(n.id for n in rows)
            await asyncio.sleep(0)

    await asyncio.gather(*(claimer(f"c{i}") for i in range(8)))
    everything = [i for mine in got.values() for i in mine]
    assert sorted(everything) == ids  # each row once, none left behind
    assert sum(1 for mine in got.values() if mine) > 1  # they really did share the work
    owners = dict(await Notification.all().values_list("id", "claimed_by"))
    for name, mine in got.items():
        assert all(owners[i] == name for i in mine)


async def test_the_payment_is_read_as_it_is_now(db: TestDatabase) -> None:
    clock = Clock()
    service = make_service(clock=clock)
    payment = await start(service)
    outbox = Outbox(clock=clock)
    await service.set_status_message(payment.id, 555)
    fresh = await outbox.payment(payment.id)
    orm = await Payment.get(id=payment.id)
    assert fresh is not None and fresh.status_message_id == 555
    assert _fields(fresh, Payment) == _fields(orm, Payment)
    assert await outbox.payment(payment.id + 1000) is None
    assert await outbox.payment(None) is None
