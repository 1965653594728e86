"""Many callbacks for pending payments, settled in one statement (PostgreSQL).

Under load, callbacks arrive faster than one statement per callback can be sent: each costs a
pool checkout, a round trip and a commit on both sides. `WaitingBatcher` lets concurrent
callers share statements. A caller hands over one assumed plan (`WaitingItem.assuming_pending`:
decided as if the payment were pending, unflagged and asking for the result's amount) and
waits; the batcher runs what has queued meanwhile as one statement per plan shape, whose WHERE
checks exactly those assumptions row by row (a lone callback is a batch of one):

    WITH v AS (SELECT * FROM unnest($1::varchar[], ...) AS v(checkout, ...)),
         moved AS (UPDATE payment p SET ... FROM v
                   WHERE p.checkout_request_id = v.checkout AND p.status = v.assumed
                     AND p.flagged_reason IS NULL AND (v.amount IS NULL OR p.amount = v.amount)
                   RETURNING p.*, v.<event and message values>),
         ev AS (INSERT INTO payment_event ... SELECT ... FROM moved),
         note AS (INSERT INTO notification ... SELECT ... FROM moved)
    SELECT <payment columns> FROM moved

The statement is atomic: the caller is answered only once it committed. A row that is not as
assumed is simply not updated, and its caller gets None (it then reads the row and decides
from what is stored, as before). A unique violation (a receipt that belongs to another payment)
rolls the whole statement back; every caller in it is then told to go alone, so one bad
callback costs the others a retry, never a wrong answer. Any other failure of a shared statement
(a deadlock with another instance, a dropped connection) also sends each caller alone; only a
caller whose own statement fails hears the error. One CheckoutRequestID appears at most once per
statement (a duplicate waits for the next one), so every row maps to one caller, and rows go in
CheckoutRequestID order, so statements touching the same payments lock them in the same order.

When nothing else is in flight a callback goes at once, alone: batching adds no waiting; it
only happens when `max_in_flight` statements are already running. Three in flight leave two of
the pool's five connections to the notifier and the reconciler; bench/callbacks.py measured
1, 2, 3 and 4 within its noise, 4 somewhat worse.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from daraja.types import StkResult
from payments import apply_sql
from payments.models import Notification, Payment, PaymentEvent
from payments.results import ApplyKind, PaymentFacts, Plan, decide, event_detail
from payments.states import PaymentStatus

# ruff: noqa: S608  (names spliced into SQL come from model metadata; values are $n params)

__all__ = ["WaitingBatcher", "WaitingItem"]

log = logging.getLogger(__name__)

# A caller whose shared statement wrote nothing (a unique violation somewhere in it, a deadlock,
# a dropped connection) runs alone.
_GO_ALONE = object()


@dataclass(slots=True)
class WaitingItem:
    """One caller's assumed plan and the values its rows need."""

    plan: Plan
    assumed_status: PaymentStatus
    amount: int | None
    detail: dict[str, Any]
    raw: dict[str, Any] | None
    source: str
    checkout_request_id: str
    at: datetime

    @classmethod
    def assuming_pending(cls, result: StkResult, now: datetime) -> WaitingItem | None:
        """`result`'s item, decided as if its payment were pending, unflagged and asking for
        the result's amount; None when that decision moves nothing or alerts the admins (the
        full path decides those from the stored row)."""
        facts = PaymentFacts(status=PaymentStatus.PENDING, amount=result.amount or 0)
        plan = decide(facts, result, receipt_taken=False, now=now)
        if plan.kind is not ApplyKind.APPLIED or plan.alert is not None:
            return None
        return cls(
            plan,
            assumed_status=PaymentStatus.PENDING,
            amount=result.amount,
            detail=event_detail(result, plan),
            raw=result.raw,
            source=result.source,
            checkout_request_id=result.checkout_request_id,
            at=now,
        )

    @property
    def shape(self) -> tuple[tuple[str, ...], bool]:
        """What the statement's text depends on: the columns set, and whether a message goes."""
        return tuple(self.plan.changes), self.plan.notify is not None


class WaitingBatcher:
    """Runs queued `WaitingItem`s as few statements as possible; see the module docstring."""

    def __init__(self, *, max_batch: int = 64, max_in_flight: int = 3) -> None:
        if max_batch < 1 or max_in_flight < 1:
            raise ValueError("max_batch and max_in_flight must be at least 1")
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self._queue: list[tuple[WaitingItem, asyncio.Future[Any]]] = []
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        #: Figures for benches and tests: statements run, items they carried, and items sent
        #: alone after their shared statement failed.
        self.statements = 0
        self.items = 0
        self.retried_alone = 0

    async def apply(self, conn: BaseDBAsyncClient, item: WaitingItem) -> Payment | None:
        """The payment as moved, or None when the stored row is not as `item` assumes.

        None also when `item`'s receipt belongs to another payment: nothing was written, and
        the caller's full path finds that out and flags it.
        """
        plan = item.plan
        if plan.alert is not None or not plan.changes or plan.to_status is None:
            raise ValueError("only plans that move a payment without an alert can be batched")
        if plan.expect != {"status": item.assumed_status, "flagged_reason__isnull": True}:
            # The statement's WHERE checks exactly these assumptions; a plan that expects
            # anything else cannot be checked by it.
            raise ValueError(f"unsupported expectations for an assumed plan: {plan.expect!r}")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._in_flight < self.max_in_flight:
            self._in_flight += 1
            task = asyncio.get_running_loop().create_task(self._drain(conn))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        moved = await future
        if moved is _GO_ALONE:
            self.retried_alone += 1
            try:
                moved = (await _together(conn, [item])).get(item.checkout_request_id)
            except IntegrityError:
                return None
        return moved  # type: ignore[no-any-return]

    async def _drain(self, conn: BaseDBAsyncClient) -> None:
        try:
            while self._queue:
                await self._run(conn, self._take())
        finally:
            self._in_flight -= 1

    def _take(self) -> list[tuple[WaitingItem, asyncio.Future[Any]]]:
        """Up to max_batch queued items of the first one's shape, one per CheckoutRequestID."""
        shape = self._queue[0][0].shape
        taken: list[tuple[WaitingItem, asyncio.Future[Any]]] = []
        kept: list[tuple[WaitingItem, asyncio.Future[Any]]] = []
        seen: set[str] = set()
        for entry in self._queue:
            item = entry[0]
            if (
                len(taken) < self.max_batch
                and item.shape == shape
                and item.checkout_request_id not in seen
            ):
                taken.append(entry)
                seen.add(item.checkout_request_id)
            else:
                kept.append(entry)
        self._queue = kept
        return taken

    async def _run(
        self, conn: BaseDBAsyncClient, batch: Sequence[tuple[WaitingItem, asyncio.Future[Any]]]
    ) -> None:
        self.statements += 1
        self.items += len(batch)
        try:
            moved = await _together(conn, [item for item, _ in batch])
        except IntegrityError:
            # A receipt belongs to another payment and nothing was written. Alone, it was this
            # one's (None sends it down the full path); shared, each goes alone, and only that
            # one finds out.
            moved = (
                {}
                if len(batch) == 1
                else dict.fromkeys((item.checkout_request_id for item, _ in batch), _GO_ALONE)
            )
        except Exception as exc:
            if len(batch) == 1:  # the database is down, say: the caller hears it
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
            # A shared statement failed as a whole (a deadlock with another instance's
            # statement, a dropped connection): nothing was written; each goes alone, and a
            # caller hears an error only if its own statement fails too.
            log.warning("a batch of %d callbacks failed (%r); applying each alone", len(batch), exc)
            moved = dict.fromkeys((item.checkout_request_id for item, _ in batch), _GO_ALONE)
        except asyncio.CancelledError:
            # Shutting down mid-statement: nobody may wait for an answer that will not come.
            for _, future in batch:
                future.cancel()
            raise
        for item, future in batch:
            if not future.done():  # a caller that was cancelled is owed nothing
                future.set_result(moved.get(item.checkout_request_id))


async def _together(conn: BaseDBAsyncClient, batch: Sequence[WaitingItem]) -> dict[str, Any]:
    """Run `batch` (one shape, distinct CheckoutRequestIDs) as one statement: the moved rows.

    A taken receipt raises `IntegrityError` and writes nothing.
    """
    change_names, with_note = batch[0].shape
    rows_of_values = []
    # Rows in CheckoutRequestID order: concurrent statements (this instance's or another's)
    # that touch the same payments then lock them in the same order, not into a deadlock.
    for item in sorted(batch, key=lambda item: item.checkout_request_id):
        values = [apply_sql.db_value(v) for v in item.plan.changes.values()]
        values += [
            item.checkout_request_id,
            str(item.assumed_status),
            item.amount,
            item.at,
            str(item.plan.event),
            str(item.plan.to_status),
            apply_sql.json_text(item.detail),
            apply_sql.json_text(item.raw),
            item.source,
        ]
        if with_note:
            values += [str(item.plan.notify), apply_sql.NOTE_TOPIC, apply_sql.NOTE_STATUS]
        rows_of_values.append(values)
    columns = [list(column) for column in zip(*rows_of_values, strict=True)]
    rows = await conn.execute_query_dict(_batch_sql(change_names, with_note), columns)
    return {row["checkout_request_id"]: Payment._init_from_db(**row) for row in rows}


_FIXED = [
    ("checkout", "varchar"),
    ("assumed", "varchar"),
    ("amount", "int"),
    ("at", "timestamptz"),
    ("ev_kind", "varchar"),
    ("to_status", "varchar"),
    ("detail", "jsonb"),
    ("raw", "jsonb"),
    ("source", "varchar"),
]
_NOTE = [("note_kind", "varchar"), ("note_topic", "varchar"), ("note_status", "varchar")]


@functools.lru_cache(maxsize=32)
def _batch_sql(change_names: tuple[str, ...], with_note: bool) -> str:
    """The statement for one shape; its $n are arrays, one per column of `_together`'s rows."""
    inputs = [(f"c{i}", _pg_type(name)) for i, name in enumerate(change_names)] + _FIXED
    if with_note:
        inputs += _NOTE
    arrays = ", ".join(f"${i + 1}::{pg_type}[]" for i, (_, pg_type) in enumerate(inputs))
    names = ", ".join(name for name, _ in inputs)
    sets = [f"{apply_sql.column(name)} = v.c{i}" for i, name in enumerate(change_names)]
    sets.append("updated_at = v.at")
    payment_columns = sorted(Payment._meta.db_fields)
    carried = ["checkout", "assumed", "at", "ev_kind", "to_status", "detail", "raw", "source"]
    if with_note:
        carried += [name for name, _ in _NOTE]
    returning = [f'p."{c}"' for c in payment_columns] + [f"v.{n} AS v_{n}" for n in carried]
    parts = [
        f"WITH v AS (SELECT * FROM unnest({arrays}) AS v({names})), ",
        f"moved AS (UPDATE {apply_sql.table(Payment)} AS p SET {', '.join(sets)} FROM v "
        "WHERE p.checkout_request_id = v.checkout AND p.status = v.assumed "
        "AND p.flagged_reason IS NULL AND (v.amount IS NULL OR p.amount = v.amount) "
        f"RETURNING {', '.join(returning)}), ",
        f"ev AS (INSERT INTO {apply_sql.table(PaymentEvent)} ({apply_sql.EVENT_COLUMNS}) "
        "SELECT id, v_checkout, v_ev_kind, v_assumed, v_to_status, v_detail, v_raw, v_source, "
        "v_at FROM moved)",
    ]
    if with_note:
        parts.append(
            f", note AS (INSERT INTO {apply_sql.table(Notification)} ({apply_sql.NOTE_COLUMNS}) "
            "SELECT id, chat_id, user_id, language, v_note_kind, v_note_topic, v_note_status, "
            "0, v_at, v_at FROM moved)"
        )
    parts.append(" SELECT " + ", ".join(f'"{c}"' for c in payment_columns) + " FROM moved")
    return "".join(parts)


# The PostgreSQL type of each kind of payment field a plan may set (arrays need one).
_FIELD_TYPES = {
    "IntField": "int",
    "BigIntField": "bigint",
    "CharField": "varchar",
    "CharEnumFieldInstance": "varchar",
    "TextField": "text",
    "DatetimeField": "timestamptz",
}


def _pg_type(name: str) -> str:
    field_object = Payment._meta.fields_map.get(name)
    if field_object is None:
        raise ValueError(f"not a payment field: {name}")
    pg_type = _FIELD_TYPES.get(type(field_object).__name__)
    if pg_type is None:
        raise ValueError(f"no batch type for {name} ({type(field_object).__name__})")
    return pg_type
