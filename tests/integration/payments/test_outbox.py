"""The notification outbox: leases between senders, retries, giving up, the backlog."""

from __future__ import annotations

from payments.models import Notification, NotificationKind, NotificationStatus, PaymentEvent
from payments.outbox import Outbox
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.payments import paid_and_cancelled


async def test_claim_gives_each_row_to_one_owner_with_its_payment(db: TestDatabase) -> None:
    clock = Clock()
    await paid_and_cancelled(clock)
    outbox = Outbox(clock=clock)
    first = await outbox.claim(owner="a", limit=1)
    assert [n.kind for n in first] == [NotificationKind.PAID]
    # The payment comes along, so the notifier can render without another query.
    assert first[0].payment.amount == 1500
    assert first[0].payment.receipt == "TC2ABCDE12"
    second = await outbox.claim(owner="b")
    assert [n.kind for n in second] == [NotificationKind.CANCELLED]
    assert await outbox.claim(owner="c") == []
    assert await outbox.backlog() == 2


async def test_mark_sent_needs_the_lease_and_records_an_event(db: TestDatabase) -> None:
    clock = Clock()
    await paid_and_cancelled(clock)
    outbox = Outbox(clock=clock)
    [row] = await outbox.claim(owner="a", limit=1)
    assert await outbox.mark_sent(row.id, owner="b") is False
    assert await outbox.mark_sent(row.id, owner="a") is True
    assert await outbox.mark_sent(row.id, owner="a") is False  # already sent
    await row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at) == (NotificationStatus.SENT, 1, clock.now)
    event = await PaymentEvent.filter(payment_id=row.payment_id, kind="notified").get()
    assert event.detail == {"notification_id": row.id, "kind": "paid", "chat": row.chat_id}
    assert await outbox.backlog() == 1


async def test_an_expired_lease_can_be_claimed_again(db: TestDatabase) -> None:
    clock = Clock()
    await paid_and_cancelled(clock)
    outbox = Outbox(clock=clock)
    taken = await outbox.claim(owner="crashed", lease_seconds=30)
    assert len(taken) == 2
    clock.advance(29)
    assert await outbox.claim(owner="b") == []
    clock.advance(2)
    assert sorted(n.id for n in await outbox.claim(owner="b")) == sorted(n.id for n in taken)


async def test_retry_waits_and_undeliverable_gives_up(db: TestDatabase) -> None:
    clock = Clock()
    await paid_and_cancelled(clock)
    outbox = Outbox(clock=clock)
    paid, cancelled = await outbox.claim(owner="a")
    await outbox.mark_retry(paid.id, delay_seconds=60, error="Timed out")
    await outbox.mark_undeliverable(cancelled.id, reason="Forbidden: bot was blocked by the user")
    assert await outbox.claim(owner="a") == []
    clock.advance(60)
    [again] = await outbox.claim(owner="a")
    assert again.id == paid.id
    assert (again.attempts, again.last_error) == (1, "Timed out")
    await cancelled.refresh_from_db()
    assert cancelled.status is NotificationStatus.UNDELIVERABLE
    assert cancelled.last_error == "Forbidden: bot was blocked by the user"
    assert await outbox.backlog() == 1


async def test_an_alert_without_a_payment_is_claimed_too(db: TestDatabase) -> None:
    clock = Clock()
    await Notification.create(
        chat_id=1000,
        kind=NotificationKind.ADMIN_ALERT,
        topic="callback_storm",
        detail={"reason": "callback_storm"},
        next_attempt_at=clock.now,
        created_at=clock.now,
    )
    outbox = Outbox(clock=clock)
    [row] = await outbox.claim(owner="a")
    assert row.payment is None
    assert (row.chat_id, row.topic) == (1000, "callback_storm")
    assert await outbox.mark_sent(row.id, owner="a") is True
    assert await PaymentEvent.all().count() == 0  # nothing to add to a timeline


async def test_claim_takes_due_rows_oldest_first_up_to_the_limit(db: TestDatabase) -> None:
    clock = Clock()
    for chat_id in (3, 1, 2):
        await Notification.create(
            chat_id=chat_id,
            kind=NotificationKind.ADMIN_ALERT,
            topic=f"t{chat_id}",
            next_attempt_at=clock.now.replace(minute=chat_id),
            created_at=clock.now,
        )
    outbox = Outbox(clock=clock)
    clock.advance(2 * 60)  # 09:02: rows due at 09:01 and 09:02, not 09:03
    assert [n.chat_id for n in await outbox.claim(owner="a", limit=1)] == [1]
    assert [n.chat_id for n in await outbox.claim(owner="a")] == [2]
    clock.advance(60)
    assert [n.chat_id for n in await outbox.claim(owner="a")] == [3]
