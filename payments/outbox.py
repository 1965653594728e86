"""The notification outbox: messages owed to chats, claimed with a lease and sent by the bot.

The service writes a row in the same transaction as the payment move that causes it; the
notifier (`bot.notifier`) claims due rows, sends them, and marks each sent, retried or
undeliverable. A claim is a conditional update on the lease columns, so two instances never
hold the same row, and a crashed instance's rows become claimable when its lease runs out.

On PostgreSQL `claim` and `mark_sent` are one statement each, in the manner of
`payments.stores.postgres` (the ORM path claims with 1 + N + 1 queries and marks sent with a
transaction of three statements):

- claim: ``WITH taken AS (UPDATE notification SET claimed_by, claimed_until WHERE id IN
  (SELECT id ... ORDER BY next_attempt_at, id LIMIT n FOR UPDATE SKIP LOCKED) RETURNING *)
  SELECT taken.*, payment.* FROM taken LEFT JOIN payment``. The inner SELECT locks the rows it
  picks and skips rows another claimer has locked; a row another claimer took and committed
  meanwhile is re-checked against the lease condition on its newest version and dropped, so two
  claimers never both get a row (they may get fewer than `limit`, never the same one).
- mark_sent: ``WITH done AS (UPDATE notification ... WHERE id AND status = pending AND
  claimed_by = owner RETURNING ...) INSERT INTO payment_event ... SELECT ... FROM done``: the
  NOTIFIED event is written exactly when the conditional update matched, atomically, without
  BEGIN/COMMIT round trips.

SQLite keeps the ORM path; both give the same rows, events and answers.
"""

# ruff: noqa: S608  (names spliced into SQL come from model metadata; values are $n params)

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from daraja.timestamps import now_utc
from payments.models import (
    EventKind,
    Notification,
    NotificationStatus,
    Payment,
    PaymentEvent,
)
from payments.stores import sql as sqltext
from payments.stores.orm import admin_alerts

logger = logging.getLogger(__name__)

PENDING = NotificationStatus.PENDING
NOTIFIED_SOURCE = "outbox"
#: The admin alert's topic when a customer message was given up.
CUSTOMER_NOT_TOLD = "customer_not_told"


class Outbox:
    """`one_statement`: None uses the one-statement path where the database is PostgreSQL;
    False forces the ORM path (tests compare the two on one database)."""

    def __init__(
        self, clock: Callable[[], datetime] = now_utc, *, one_statement: bool | None = None
    ) -> None:
        self.clock = clock
        self.one_statement = one_statement

    def _sql_connection(self) -> BaseDBAsyncClient | None:
        """The PostgreSQL connection for the one-statement path, or None for the ORM path."""
        if self.one_statement is False:
            return None
        conn: BaseDBAsyncClient = Notification._meta.db
        return conn if sqltext.is_postgres(conn) else None

    async def claim(
        self, *, owner: str, limit: int = 20, lease_seconds: float = 60
    ) -> list[Notification]:
        """Lease up to `limit` due rows for `owner`, oldest first, with their payments.

        The rows come back ordered by id.
        """
        now = self.clock()
        until = now + timedelta(seconds=lease_seconds)
        conn = self._sql_connection()
        if conn is not None:
            return await _claim_sql(conn, owner=owner, limit=limit, now=now, until=until)
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        candidates = cast(
            "list[int]",
            await Notification.filter(status=PENDING, next_attempt_at__lte=now)
            .filter(free)
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .values_list("id", flat=True),
        )
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
        conn = self._sql_connection()
        if conn is not None:
            done = await _mark_sent_sql(conn, notification_id, owner=owner, now=now)
        else:
            done = await self._mark_sent_orm(notification_id, owner=owner, now=now)
        if not done:
            logger.warning(
                "notification #%d: sent by %s after losing its lease", notification_id, owner
            )
        return done

    async def _mark_sent_orm(self, notification_id: int, *, owner: str, now: datetime) -> bool:
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
                row = await Notification.get(id=notification_id, using_db=conn)
                if row.payment_id is not None:
                    await PaymentEvent.create(
                        payment_id=row.payment_id,
                        kind=EventKind.NOTIFIED,
                        detail={
                            "notification_id": row.id,
                            "kind": str(row.kind),
                            "chat": row.chat_id,
                        },
                        source=NOTIFIED_SOURCE,
                        created_at=now,
                        using_db=conn,
                    )
        return bool(done)

    async def payment(self, payment_id: int | None) -> Payment | None:
        """The payment as it is now (the notifier reads it again just before sending)."""
        if payment_id is None:
            return None
        conn = self._sql_connection()
        if conn is None:
            return await Payment.get_or_none(id=payment_id)
        return await sqltext.find_payment(conn, "id", payment_id)

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

    async def mark_undeliverable(
        self,
        notification_id: int,
        *,
        reason: str,
        alert_chat_ids: Iterable[int] = (),
        alert: dict[str, Any] | None = None,
    ) -> bool:
        """Give up on the row for good (blocked bot, chat gone, a day of failures).

        With `alert`, the admins in `alert_chat_ids` are owed a `CUSTOMER_NOT_TOLD` alert about
        the row's payment, written in the same transaction; one per admin and payment however
        many of its messages fail. False when the row was not pending any more.
        """
        now = self.clock()
        async with in_transaction() as conn:
            done = await (
                Notification.filter(id=notification_id, status=PENDING)
                .using_db(conn)
                .update(
                    status=NotificationStatus.UNDELIVERABLE,
                    attempts=F("attempts") + 1,
                    last_error=reason[:2000],
                    claimed_by=None,
                    claimed_until=None,
                )
            )
            if done and alert is not None:
                row = await Notification.get(id=notification_id, using_db=conn)
                await Notification.bulk_create(
                    admin_alerts(row.payment_id, CUSTOMER_NOT_TOLD, alert, alert_chat_ids, now),
                    ignore_conflicts=True,
                    using_db=conn,
                )
        logger.warning("notification #%d undeliverable: %s", notification_id, reason)
        return bool(done)

    async def has_customer_message(
        self, payment_id: int, chat_id: int, kinds: Iterable[str]
    ) -> bool:
        """Whether a customer message of one of `kinds` exists for the payment (any status)."""
        return await Notification.filter(
            payment_id=payment_id, chat_id=chat_id, kind__in=list(kinds), topic=""
        ).exists()

    async def backlog(self) -> int:
        """Rows still waiting to be sent (due or not)."""
        return await Notification.filter(status=PENDING).count()


# ---------------------------------------------------------------- PostgreSQL, one statement each


def _columns(model: type[Any]) -> list[str]:
    return list(model._meta.fields_db_projection.values())


async def _claim_sql(
    conn: BaseDBAsyncClient, *, owner: str, limit: int, now: datetime, until: datetime
) -> list[Notification]:
    notes, payments = sqltext.table(Notification), sqltext.table(Payment)
    payment_columns = _columns(Payment)
    # Payment columns come back as p__<column> so they cannot clash with the notification's.
    selected = ", ".join(
        ["taken.*"] + [f'p."{column}" AS "p__{column}"' for column in payment_columns]
    )
    statement = (
        f"WITH taken AS (UPDATE {notes} SET claimed_by = $1::varchar, "
        f"claimed_until = $2::timestamptz WHERE id IN ("
        f"SELECT id FROM {notes} WHERE status = $3::varchar AND next_attempt_at <= $4::timestamptz"
        f" AND (claimed_until IS NULL OR claimed_until < $4::timestamptz)"
        f" ORDER BY next_attempt_at, id LIMIT $5::int FOR UPDATE SKIP LOCKED)"
        f" RETURNING *)"
        f" SELECT {selected} FROM taken LEFT JOIN {payments} p ON p.id = taken.payment_id"
        f" ORDER BY taken.id"
    )
    rows = await conn.execute_query_dict(statement, [owner, until, PENDING.value, now, limit])
    claimed: list[Notification] = []
    for record in rows:
        row = dict(record)
        fetched = {column: row.pop(f"p__{column}") for column in payment_columns}
        note = Notification._init_from_db(**row)
        payment = Payment._init_from_db(**fetched) if fetched["id"] is not None else None
        # Where select_related("payment") puts the fetched row.
        object.__setattr__(note, "_payment", payment)
        claimed.append(note)
    return claimed


async def _mark_sent_sql(
    conn: BaseDBAsyncClient, notification_id: int, *, owner: str, now: datetime
) -> bool:
    notes, events = sqltext.table(Notification), sqltext.table(PaymentEvent)
    # The detail object has the ORM path's keys and values (jsonb keeps no key order anyway).
    statement = (
        f"WITH done AS (UPDATE {notes} SET status = $1::varchar, sent_at = $2::timestamptz,"
        f" attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL"
        f" WHERE id = $3::int AND status = $4::varchar AND claimed_by = $5::varchar"
        f" RETURNING id, payment_id, kind, chat_id),"
        f" ev AS (INSERT INTO {events} (payment_id, kind, detail, source, created_at)"
        f" SELECT payment_id, $6::varchar,"
        f" jsonb_build_object('notification_id', id, 'kind', kind, 'chat', chat_id),"
        f" $7::varchar, $2::timestamptz FROM done WHERE payment_id IS NOT NULL)"
        f" SELECT count(*) AS done FROM done"
    )
    rows = await conn.execute_query_dict(
        statement,
        [
            NotificationStatus.SENT.value,
            now,
            notification_id,
            PENDING.value,
            owner,
            EventKind.NOTIFIED.value,
            NOTIFIED_SOURCE,
        ],
    )
    return bool(rows and rows[0]["done"])
