"""Executing an apply plan on PostgreSQL in one statement instead of seven round trips.

`payments.results.decide` stays the only place that decides what a result does; this module
only runs the `Plan` it returns, and only for plans without admin alerts (those keep the ORM
path in `payments.service`, where the one-alert-per-topic check lives). The conditional update,
the audit event and the customer's outbox row are one data-modifying CTE:

    WITH moved AS (UPDATE payment SET ... WHERE id = $1 AND <expect> RETURNING id),
         ev AS (INSERT INTO payment_event ... SELECT ... FROM moved),
         note AS (INSERT INTO notification ... SELECT ... FROM moved)
    SELECT count(*) FROM moved

PostgreSQL runs every data-modifying CTE exactly once and the statement is atomic on its own
(no BEGIN/COMMIT round trips): when the update matches no row (someone else moved the payment
first) neither insert writes anything, and a unique violation (a receipt that belongs to another
payment, a second customer message of one kind) rolls the whole statement back and surfaces as
tortoise's `IntegrityError`, exactly as the ORM path does. SQLite keeps the ORM path.
"""

# ruff: noqa: S608  (names spliced into SQL come from model metadata; values are $n params)

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from payments.models import Notification, Payment, PaymentEvent
from payments.results import Plan
from payments.states import PaymentStatus

__all__ = [
    "EVENT_COLUMNS",
    "NOTE_COLUMNS",
    "column",
    "connection",
    "db_value",
    "execute_plan",
    "find_by_checkout",
    "find_by_id",
    "json_text",
    "supports",
    "table",
]

# Only these appear in a Plan's `expect`; anything else is a programming error, not SQL.
_EXPECT_NULL = {
    "flagged_reason__isnull": "flagged_reason",
    "result_code__isnull": "result_code",
    "receipt__isnull": "receipt",
}
EVENT_COLUMNS = (
    "payment_id, checkout_request_id, kind, from_status, to_status, detail, raw_body, source, "
    "created_at"
)
NOTE_COLUMNS = (
    "payment_id, chat_id, user_id, language, kind, topic, status, attempts, next_attempt_at, "
    "created_at"
)
# The ORM applies model defaults in Python, so raw SQL must spell them out.
NOTE_TOPIC = ""
NOTE_STATUS = "pending"


def supports(conn: BaseDBAsyncClient) -> bool:
    """True when `conn` speaks PostgreSQL (the CTE above is PostgreSQL syntax)."""
    return getattr(conn.capabilities, "dialect", "") == "postgres"


def connection() -> BaseDBAsyncClient:
    """The connection the ORM would use for payments (honours tortoise's current context)."""
    return Payment._meta.db


async def find_by_checkout(conn: BaseDBAsyncClient, checkout_request_id: str) -> Payment | None:
    """The payment with this CheckoutRequestID, read without the query builder.

    Same row, same `Payment` object as `Payment.get_or_none(checkout_request_id=...)`: the
    row goes through the model's own loader (`_init_from_db`, what tortoise's executor uses).
    """
    return await _find_payment(conn, "checkout_request_id", checkout_request_id)


async def find_by_id(conn: BaseDBAsyncClient, payment_id: int) -> Payment | None:
    """The payment with this id, read the same way as `find_by_checkout`."""
    return await _find_payment(conn, "id", payment_id)


async def _find_payment(conn: BaseDBAsyncClient, by: str, value: object) -> Payment | None:
    rows = await conn.execute_query_dict(
        f"SELECT * FROM {table(Payment)} WHERE {column(by)} = $1", [value]
    )
    return Payment._init_from_db(**rows[0]) if rows else None


async def execute_plan(
    conn: BaseDBAsyncClient,
    payment: Payment,
    plan: Plan,
    *,
    detail: dict[str, Any],
    raw: dict[str, Any] | None,
    source: str,
    checkout_request_id: str,
    at: datetime,
) -> bool:
    """Run `plan` (which must carry no admin alert) in one statement; False when lost a race.

    Raises tortoise's `IntegrityError` on a unique violation, like the ORM path.
    """
    if plan.alert is not None:
        raise ValueError("plans with admin alerts go through the ORM path")
    args: list[Any] = []

    def arg(value: Any, cast: str = "") -> str:
        args.append(db_value(value))
        return f"${len(args)}{cast}"

    event_values = ", ".join(
        (
            arg(checkout_request_id, "::varchar"),
            arg(str(plan.event), "::varchar"),
            arg(str(payment.status), "::varchar"),
            arg(str(plan.to_status) if plan.to_status else None, "::varchar"),
            arg(json_text(detail), "::jsonb"),
            arg(json_text(raw), "::jsonb"),
            arg(source, "::varchar"),
            arg(at, "::timestamptz"),
        )
    )
    if not plan.changes:
        # Nothing moves (duplicate, conflict, not final): only the audit row.
        payment_id = arg(payment.id, "::int")
        sql = (
            f"INSERT INTO {table(PaymentEvent)} ({EVENT_COLUMNS}) "
            f"VALUES ({payment_id}, {event_values})"
        )
        await conn.execute_query(sql, args)
        return True

    sets = [f"{column(name)} = {arg(value)}" for name, value in plan.changes.items()]
    sets.append(f"updated_at = {arg(at)}")
    where = [f"id = {arg(payment.id)}"]
    for name, value in plan.expect.items():
        if name in _EXPECT_NULL:
            if value is not True:
                raise ValueError(f"unsupported expectation {name}={value!r}")
            where.append(f"{_EXPECT_NULL[name]} IS NULL")
        else:
            where.append(f"{column(name)} = {arg(value)}")
    parts = [
        f"WITH moved AS (UPDATE {table(Payment)} SET {', '.join(sets)} "
        f"WHERE {' AND '.join(where)} RETURNING id)",
        f", ev AS (INSERT INTO {table(PaymentEvent)} ({EVENT_COLUMNS}) "
        f"SELECT id, {event_values} FROM moved)",
    ]
    if plan.notify is not None:
        note_values = ", ".join(
            (
                arg(payment.chat_id, "::bigint"),
                arg(payment.user_id, "::bigint"),
                arg(payment.language, "::varchar"),
                arg(str(plan.notify), "::varchar"),
                arg(NOTE_TOPIC, "::varchar"),
                arg(NOTE_STATUS, "::varchar"),
                "0",
                arg(at, "::timestamptz"),
                arg(at, "::timestamptz"),
            )
        )
        parts.append(
            f", note AS (INSERT INTO {table(Notification)} ({NOTE_COLUMNS}) "
            f"SELECT id, {note_values} FROM moved)"
        )
    parts.append(" SELECT count(*) AS moved FROM moved")
    rows = await conn.execute_query_dict("".join(parts), args)
    return bool(rows and rows[0]["moved"])


def table(model: type[Any]) -> str:
    # Every name spliced into the SQL text comes from model metadata or the constants above;
    # every value travels as a $n parameter. That is why the S608 warnings are silenced.
    return f'"{model._meta.db_table}"'


def column(name: str) -> str:
    # Plans name model fields; map them to columns and refuse anything that is not one.
    column = Payment._meta.fields_db_projection.get(name)
    if column is None:
        raise ValueError(f"not a payment field: {name}")
    return f'"{column}"'


def db_value(value: Any) -> Any:
    if isinstance(value, PaymentStatus | Enum):
        return str(value.value)
    return value


def json_text(value: dict[str, Any] | None) -> str | None:
    # The same compact encoding tortoise's JSONField writes.
    return None if value is None else json.dumps(value, separators=(",", ":"))
