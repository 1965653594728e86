"""The ORM store: each move is one tortoise transaction (any database; SQLite in development).

The conditional update (`filter(id=..., status=old, ...).update(...)` returns the rows changed)
makes double taps, duplicate callbacks and two instances produce one move; the event and the
messages are written in the same transaction, so a crash loses neither the message nor its
reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from payments.models import EventKind, Notification, NotificationKind, Payment, PaymentEvent
from payments.moves import InvalidMove, Move
from payments.states import PaymentStatus

logger = logging.getLogger(__name__)


class OrmStore:
    name = "orm"

    async def write(self, move: Move) -> Payment | None:
        at = _required_at(move)
        try:
            async with in_transaction() as conn:
                payment = await self._write_row(conn, move, at)
                if payment is None:
                    return None
                await _insert_event(conn, payment, move, at)
                if move.notify is not None:
                    await _notify_customer(conn, payment, move.notify, at)
                if move.alert is not None:
                    await _alert_admins(conn, payment, move, at)
                for chat_id in move.announce_chat_ids:
                    await _announce(conn, payment, chat_id, at)
        except IntegrityError:
            # A unique rule refused it (a receipt of another payment, a second waiting
            # payment for one phone, an alert already owed): nothing was written.
            logger.info("move %s refused by a unique rule; nothing written", move.event)
            return None
        if move.payment is not None and move.writes_row:
            _mirror(move.payment, move, at)
        return payment

    async def _write_row(self, conn: BaseDBAsyncClient, move: Move, at: datetime) -> Any:
        if not move.writes_row:
            if move.payment is None:
                raise InvalidMove("an event-only move needs the payment it is about")
            return move.payment
        key = (
            {"id": move.payment.id}
            if move.payment is not None
            else {"checkout_request_id": move.checkout_request_id}
        )
        changed = await (
            Payment.filter(**key, status=move.from_status, **move.expect)
            .using_db(conn)
            .update(**move.set_clause(), updated_at=at)
        )
        if not changed:
            return None
        if move.payment is not None:
            # The caller's row plus what we set, as a re-read would show it (mirrored after
            # the commit).
            return move.payment
        return await Payment.get(**key, using_db=conn)

    async def create(self, fields: dict[str, Any], *, at: datetime) -> Payment:
        async with in_transaction() as conn:
            payment = await Payment.create(
                **fields,
                status=PaymentStatus.CREATED,
                created_at=at,
                updated_at=at,
                using_db=conn,
            )
            await PaymentEvent.create(
                payment_id=payment.id,
                kind=EventKind.CREATED,
                to_status=PaymentStatus.CREATED.value,
                source="service",
                created_at=at,
                using_db=conn,
            )
        return payment

    async def record(
        self,
        payment_id: int | None,
        kind: str,
        *,
        at: datetime,
        detail: dict[str, Any] | None = None,
        raw: dict[str, Any] | list[Any] | None = None,
        source: str = "service",
        checkout_request_id: str | None = None,
    ) -> None:
        await PaymentEvent.create(
            payment_id=payment_id,
            checkout_request_id=checkout_request_id,
            kind=str(kind),
            detail=detail,
            raw_body=raw,
            source=source,
            created_at=at,
        )

    async def alert_unmatched(
        self, *, topic: str, detail: dict[str, Any], chat_ids: tuple[int, ...], at: datetime
    ) -> None:
        """An admin alert about money that belongs to no payment (payment_id is NULL)."""
        async with in_transaction() as conn:
            await Notification.bulk_create(
                admin_alerts(None, topic, detail, chat_ids, at), using_db=conn
            )

    async def adopt_events(self, checkout_request_id: str, payment_id: int) -> None:
        await PaymentEvent.filter(
            kind=EventKind.UNKNOWN_CHECKOUT,
            checkout_request_id=checkout_request_id,
            payment_id__isnull=True,
        ).update(payment_id=payment_id)

    async def by_id(self, payment_id: int) -> Payment | None:
        return await Payment.get_or_none(id=payment_id)

    async def by_checkout(self, checkout_request_id: str) -> Payment | None:
        return await Payment.get_or_none(checkout_request_id=checkout_request_id)

    async def schedule_check(
        self, payment_id: int, *, where: Q, at: datetime, delay_seconds: float
    ) -> None:
        await Payment.filter(where, id=payment_id).update(
            next_check_at=at + timedelta(seconds=delay_seconds),
            check_attempts=F("check_attempts") + 1,
            updated_at=at,
        )

    async def lease(
        self, payment_id: int, owner: str, *, where: Q, at: datetime, seconds: float
    ) -> bool:
        # A conditional update is the lease: only one instance's UPDATE can match a free (or
        # expired) claim, on SQLite and PostgreSQL alike.
        taken = await (
            Payment.filter(where, id=payment_id)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=at))
            .update(claimed_by=owner, claimed_until=at + timedelta(seconds=seconds))
        )
        return bool(taken)

    async def release(self, payment_id: int, owner: str) -> None:
        await Payment.filter(id=payment_id, claimed_by=owner).update(
            claimed_by=None, claimed_until=None
        )

    async def set_status_message(self, payment_id: int, message_id: int, *, at: datetime) -> None:
        await Payment.filter(id=payment_id).update(status_message_id=message_id, updated_at=at)


def _required_at(move: Move) -> datetime:
    if move.at is None:
        raise InvalidMove("a move needs its time (`at`)")
    return move.at


async def _insert_event(
    conn: BaseDBAsyncClient, payment: Payment, move: Move, at: datetime
) -> None:
    checkout = move.event_checkout_id() or payment.checkout_request_id
    await PaymentEvent.create(
        payment_id=payment.id,
        checkout_request_id=checkout,
        kind=str(move.event),
        from_status=str(move.from_status),
        to_status=str(move.to_status) if move.to_status is not None else None,
        detail=move.detail,
        raw_body=move.raw,
        source=move.source,
        created_at=at,
        using_db=conn,
    )


async def _notify_customer(
    conn: BaseDBAsyncClient, payment: Payment, kind: NotificationKind, at: datetime
) -> None:
    """Owe the payer a message of `kind`, in their language (unique per payment and kind)."""
    await Notification.create(
        payment_id=payment.id,
        chat_id=payment.chat_id,
        user_id=payment.user_id,
        language=payment.language,
        kind=kind,
        next_attempt_at=at,
        created_at=at,
        using_db=conn,
    )


async def _announce(conn: BaseDBAsyncClient, payment: Payment, chat_id: int, at: datetime) -> None:
    """Tell a shop chat that the payment came in (unique per payment and chat)."""
    await Notification.create(
        payment_id=payment.id,
        chat_id=chat_id,
        language="en",
        kind=NotificationKind.ANNOUNCE,
        next_attempt_at=at,
        created_at=at,
        using_db=conn,
    )


async def _alert_admins(
    conn: BaseDBAsyncClient, payment: Payment, move: Move, at: datetime
) -> None:
    """One alert per admin chat about the move's topic; an alert already owed is not repeated."""
    topic = move.alert or ""
    owed = set(
        cast(
            "list[int]",
            await Notification.filter(
                payment_id=payment.id, kind=NotificationKind.ADMIN_ALERT, topic=topic
            )
            .using_db(conn)
            .values_list("chat_id", flat=True),
        )
    )
    chats = [chat_id for chat_id in move.alert_chat_ids if chat_id not in owed]
    alerts = admin_alerts(payment.id, topic, move.alert_detail or {}, chats, at)
    for alert in alerts:
        await alert.save(using_db=conn)
    created = len(alerts)
    if created:
        logger.error("payment #%d flagged for admins: %s", payment.id, topic)


def admin_alerts(
    payment_id: int | None,
    topic: str,
    detail: dict[str, Any],
    chat_ids: Iterable[int],
    at: datetime,
) -> list[Notification]:
    """One outbox row per admin chat about `topic`, in English (not yet saved)."""
    return [
        Notification(
            payment_id=payment_id,
            chat_id=chat_id,
            language="en",
            kind=NotificationKind.ADMIN_ALERT,
            topic=topic,
            detail={"reason": topic, **detail},
            next_attempt_at=at,
            created_at=at,
        )
        for chat_id in chat_ids
    ]


def _mirror(payment: Payment, move: Move, at: datetime) -> None:
    """Put what the move set on the caller's row object, as a re-read would show it."""
    for name, value in move.set_clause().items():
        # The database hands datetimes back in UTC; so must we (Daraja's are EAT-aware).
        if isinstance(value, datetime):
            value = value.astimezone(UTC)
        setattr(payment, name, value)
    payment.updated_at = at
