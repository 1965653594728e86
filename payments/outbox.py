"""The notification outbox: messages owed to chats, claimed with a lease and sent by the bot.

The service writes a row in the same transaction as the payment move that causes it; the
notifier (`bot.notifier`) claims due rows, sends them, and marks each sent, retried or
undeliverable. A claim is a conditional update on the lease columns, so two instances never
hold the same row, and a crashed instance's rows become claimable when its lease runs out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from daraja.timestamps import now_utc
from payments.models import EventKind, Notification, NotificationStatus, PaymentEvent

logger = logging.getLogger(__name__)

PENDING = NotificationStatus.PENDING


class Outbox:
    def __init__(self, clock: Callable[[], datetime] = now_utc) -> None:
        self.clock = clock

    async def claim(
        self, *, owner: str, limit: int = 20, lease_seconds: float = 60
    ) -> list[Notification]:
        """Lease up to `limit` due rows for `owner`, oldest first, with their payments."""
        now = self.clock()
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        candidates = (
            await Notification.filter(status=PENDING, next_attempt_at__lte=now)
            .filter(free)
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .values_list("id", flat=True)
        )
        until = now + timedelta(seconds=lease_seconds)
        claimed: list[int] = []
        for notification_id in candidates:
            taken = (
                await Notification.filter(id=notification_id, status=PENDING)
                .filter(free)
                .update(claimed_by=owner, claimed_until=until)
            )
            if taken:
                claimed.append(notification_id)
        if not claimed:
            return []
        return await Notification.filter(id__in=claimed).select_related("payment").order_by("id")

    async def mark_sent(self, notification_id: int, *, owner: str) -> bool:
        """Record delivery; False if `owner` no longer held the row (its lease was taken)."""
        now = self.clock()
        async with in_transaction() as conn:
            done = (
                await Notification.filter(id=notification_id, status=PENDING, claimed_by=owner)
                .using_db(conn)
                .update(
                    status=NotificationStatus.SENT,
                    sent_at=now,
                    attempts=F("attempts") + 1,
                    claimed_by=None,
                    claimed_until=None,
                )
            )
            if done:
                row = await Notification.get(id=notification_id).using_db(conn)
                if row.payment_id is not None:
                    await PaymentEvent.create(
                        payment_id=row.payment_id,
                        kind=EventKind.NOTIFIED,
                        detail={
                            "notification_id": row.id,
                            "kind": str(row.kind),
                            "chat": row.chat_id,
                        },
                        source="outbox",
                        created_at=now,
                        using_db=conn,
                    )
        if not done:
            logger.warning(
                "notification #%d: sent by %s after losing its lease", notification_id, owner
            )
        return bool(done)

    async def mark_retry(self, notification_id: int, *, delay_seconds: float, error: str) -> None:
        """Put the row back for another attempt after `delay_seconds`."""
        now = self.clock()
        await Notification.filter(id=notification_id, status=PENDING).update(
            attempts=F("attempts") + 1,
            next_attempt_at=now + timedelta(seconds=delay_seconds),
            last_error=error[:2000],
            claimed_by=None,
            claimed_until=None,
        )

    async def mark_undeliverable(self, notification_id: int, *, reason: str) -> None:
        """Give up on the row for good (blocked bot, chat gone, too many attempts)."""
        await Notification.filter(id=notification_id, status=PENDING).update(
            status=NotificationStatus.UNDELIVERABLE,
            attempts=F("attempts") + 1,
            last_error=reason[:2000],
            claimed_by=None,
            claimed_until=None,
        )
        logger.warning("notification #%d undeliverable: %s", notification_id, reason)

    async def backlog(self) -> int:
        """Rows still waiting to be sent (due or not)."""
        return await Notification.filter(status=PENDING).count()
