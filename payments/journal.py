"""Writing the audit trail and the outbox, always on the caller's transaction connection.

Every function takes the connection of the transaction that also moves the payment, so the
move, its reason and the message it owes are committed together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from payments.models import Notification, NotificationKind, Payment, PaymentEvent
from payments.states import PaymentStatus

logger = logging.getLogger(__name__)


async def record_event(
    conn: BaseDBAsyncClient | None,
    payment: Payment | None,
    kind: str,
    *,
    at: datetime,
    from_status: PaymentStatus | None = None,
    to_status: PaymentStatus | None = None,
    detail: dict[str, Any] | None = None,
    raw: dict[str, Any] | None = None,
    source: str = "service",
    checkout_request_id: str | None = None,
) -> PaymentEvent:
    """One row of a payment's timeline (or of an unknown CheckoutRequestID's)."""
    return await PaymentEvent.create(
        payment_id=payment.id if payment else None,
        checkout_request_id=checkout_request_id
        or (payment.checkout_request_id if payment else None),
        kind=str(kind),
        from_status=str(from_status) if from_status else None,
        to_status=str(to_status) if to_status else None,
        detail=detail,
        raw_body=raw,
        source=source,
        created_at=at,
        using_db=conn,
    )


async def notify_customer(
    conn: BaseDBAsyncClient | None, payment: Payment, kind: NotificationKind, *, at: datetime
) -> Notification:
    """Owe the payer a message of `kind`, in their language (unique per payment and kind)."""
    return await Notification.create(
        payment_id=payment.id,
        chat_id=payment.chat_id,
        user_id=payment.user_id,
        language=payment.language,
        kind=kind,
        next_attempt_at=at,
        created_at=at,
        using_db=conn,
    )


async def alert_admins(
    conn: BaseDBAsyncClient | None,
    payment: Payment,
    admin_chat_ids: Iterable[int],
    topic: str,
    detail: dict[str, Any] | None,
    *,
    at: datetime,
) -> int:
    """One alert per admin chat about `topic`; an alert already owed is not repeated."""
    created = 0
    for chat_id in admin_chat_ids:
        already = (
            await Notification.filter(
                payment_id=payment.id,
                kind=NotificationKind.ADMIN_ALERT,
                chat_id=chat_id,
                topic=topic,
            )
            .using_db(conn)
            .exists()
        )
        if already:
            continue
        await Notification.create(
            payment_id=payment.id,
            chat_id=chat_id,
            language="en",
            kind=NotificationKind.ADMIN_ALERT,
            topic=topic,
            detail={"reason": topic, **(detail or {})},
            next_attempt_at=at,
            created_at=at,
            using_db=conn,
        )
        created += 1
    if created:
        logger.error("payment #%d flagged for admins: %s", payment.id, topic)
    return created
