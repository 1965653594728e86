"""Where C2B confirmations are written: the `c2b_payment` row and, for one that matched nothing,
the admins' alerts, in one transaction (any database; these are rare next to STK callbacks).

A TransID is stored once (unique column): a second delivery of the same confirmation, or a race
between two instances, is refused by the database and reported as a duplicate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from daraja.c2b import C2BPayment as C2BBody
from payments.models import C2BPayment, C2BStatus, Notification
from payments.stores.orm import admin_alerts

#: The admin alert topic of a C2B payment that matched nothing (rendered by `bot.views`).
UNMATCHED_TOPIC = "unmatched_c2b"


def row_fields(body: C2BBody) -> dict[str, Any]:
    return {
        "trans_id": body.trans_id,
        "amount": body.amount,
        "bill_ref": body.bill_ref[:64],
        "shortcode": body.shortcode,
        "msisdn_masked": body.msisdn.masked[:24],
        "msisdn_hash": body.msisdn.digest,
        "first_name": body.first_name[:64],
        "transaction_type": body.transaction_type[:48],
        "trans_time": body.trans_time,
        "raw_body": body.raw,
    }


async def insert(
    body: C2BBody,
    *,
    status: C2BStatus,
    note: str,
    payment_id: int | None,
    at: datetime,
    alert_chat_ids: tuple[int, ...] = (),
    alert_detail: dict[str, Any] | None = None,
) -> C2BPayment | None:
    """The stored row, or None when this TransID is stored already (nothing written)."""
    try:
        async with in_transaction() as conn:
            row = await C2BPayment.create(
                **row_fields(body),
                status=status,
                note=note,
                payment_id=payment_id,
                created_at=at,
                updated_at=at,
                using_db=conn,
            )
            alerts = admin_alerts(
                None,
                UNMATCHED_TOPIC,
                {"c2b_id": row.id, **(alert_detail or {})},
                alert_chat_ids,
                at,
            )
            await Notification.bulk_create(alerts, using_db=conn)
    except IntegrityError:
        return None
    return row


async def by_trans_id(trans_id: str) -> C2BPayment | None:
    return await C2BPayment.get_or_none(trans_id=trans_id)


async def attach(c2b_id: int, payment_id: int, *, by: int, at: datetime) -> bool:
    """Mark an unmatched row attached to `payment_id`; False when it is not unmatched now."""
    changed = await C2BPayment.filter(id=c2b_id, status=C2BStatus.UNMATCHED).update(
        status=C2BStatus.ATTACHED,
        payment_id=payment_id,
        attached_by=by,
        updated_at=at,
    )
    return bool(changed)
