"""Concurrent moves, written as few statements as possible (PostgreSQL).

Under load, callbacks arrive faster than one statement per move can be sent: each costs a pool
checkout, a round trip and a commit on both sides. `MoveBatcher` lets concurrent callers share
statements. A caller hands over one validated move and waits; the batcher runs what has queued
meanwhile as one statement per shape (the columns set, the conditions checked, whether a message
is owed), whose WHERE checks each row's own conditions (a lone move is a batch of one):

    WITH v AS (SELECT * FROM unnest($1::varchar[], ...) AS v(key, c0, ..., assumed, ...)),
         moved AS (UPDATE payment p SET ... FROM v
                   WHERE p.<key> = v.key AND p.status = v.assumed AND <IS NULL checks>
                     AND (v.amount IS NULL OR p.amount = v.amount)
                   RETURNING p.*, v.<event and message values>),
         ev AS (INSERT INTO payment_event ... SELECT ... FROM moved),
         note AS (INSERT INTO notification ... SELECT ... FROM moved)
    SELECT <payment columns> FROM moved

The statement is atomic: the caller is answered only once it committed. A row that is not as
its move expects is simply not updated, and its caller gets None. A unique violation (a receipt
that belongs to another payment) rolls the whole statement back; every caller in it is then
told to go alone, so one bad move costs the others a retry, never a wrong answer. Any other
failure of a shared statement (a deadlock with another instance, a dropped connection) also
sends each caller alone; only a caller whose own statement fails hears the error. One row
appears at most once per statement (a second move for it waits for the next one), and rows go
in key order, so statements touching the same payments lock them in the same order.

When nothing else is in flight a move goes at once, alone: batching adds no waiting; it only
happens when `max_in_flight` statements are already running. Three in flight leave two of the
pool's five connections to the notifier and the reconciler; bench/callbacks.py measured 1, 2, 3
and 4 within its noise, 4 somewhat worse.
"""

# ruff: noqa: S608  (names spliced into SQL come from model metadata; values are $n params)

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from payments.models import Notification, Payment, PaymentEvent
from payments.moves import Move
from payments.stores import sql

__all__ = ["MoveBatcher"]

log = logging.getLogger(__name__)

# A caller whose shared statement wrote nothing (a unique violation somewhere in it, a deadlock,
# a dropped connection) runs alone.
_GO_ALONE = object()

#: What the statement's text depends on: the key column, the columns set, the IS NULL checks,
#: and whether a customer message goes with the move.
Shape = tuple[str, tuple[str, ...], tuple[str, ...], bool]


def shape_of(move: Move) -> Shape:
    key = "id" if move.payment is not None else "checkout_request_id"
    nulls = tuple(
        sorted(name.removesuffix("__isnull") for name in move.expect if name.endswith("__isnull"))
    )
    return key, tuple(move.set_clause()), nulls, move.notify is not None


def key_of(move: Move) -> Any:
    return move.payment.id if move.payment is not None else move.checkout_request_id


class MoveBatcher:
    """Runs queued moves as few statements as possible; see the module docstring."""

    def __init__(self, *, max_batch: int = 64, max_in_flight: int = 3) -> None:
        if max_batch < 1 or max_in_flight < 1:
            raise ValueError("max_batch and max_in_flight must be at least 1")
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self._queue: list[tuple[Move, asyncio.Future[Any]]] = []
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        #: Figures for benches and tests: statements run, moves they carried, and moves sent
        #: alone after their shared statement failed.
        self.statements = 0
        self.items = 0
        self.retried_alone = 0

    async def write(self, conn: BaseDBAsyncClient, move: Move) -> Payment | None:
        """The payment as moved, or None when its row is not as `move` expects (or a unique
        rule refused it): nothing was written for it."""
        if move.alert is not None or not move.writes_row:
            raise ValueError("only moves that write the row without an alert can be batched")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((move, future))
        if self._in_flight < self.max_in_flight:
            self._in_flight += 1
            task = asyncio.get_running_loop().create_task(self._drain(conn))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        moved = await future
        if moved is _GO_ALONE:
            self.retried_alone += 1
            try:
                moved = (await _together(conn, [move])).get(key_of(move))
            except IntegrityError:
                return None
        return cast("Payment | None", moved)

    async def _drain(self, conn: BaseDBAsyncClient) -> None:
        try:
            while self._queue:
                await self._run(conn, self._take())
        finally:
            self._in_flight -= 1

    def _take(self) -> list[tuple[Move, asyncio.Future[Any]]]:
        """Up to max_batch queued moves of the first one's shape, one per row."""
        shape = shape_of(self._queue[0][0])
        taken: list[tuple[Move, asyncio.Future[Any]]] = []
        kept: list[tuple[Move, asyncio.Future[Any]]] = []
        seen: set[Any] = set()
        for entry in self._queue:
            move = entry[0]
            key = key_of(move)
            if len(taken) < self.max_batch and shape_of(move) == shape and key not in seen:
                taken.append(entry)
                seen.add(key)
            else:
                kept.append(entry)
        self._queue = kept
        return taken

    async def _run(
        self, conn: BaseDBAsyncClient, batch: Sequence[tuple[Move, asyncio.Future[Any]]]
    ) -> None:
        self.statements += 1
        self.items += len(batch)
        try:
            moved: dict[Any, Any] = await _together(conn, [move for move, _ in batch])
        except IntegrityError:
            # A unique rule refused something and nothing was written. Alone, it was this
            # move's (None); shared, each goes alone, and only that one finds out.
            moved = (
                {} if len(batch) == 1 else dict.fromkeys((key_of(m) for m, _ in batch), _GO_ALONE)
            )
        except Exception as exc:
            if len(batch) == 1:  # the database is down, say: the caller hears it
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
            # A shared statement failed as a whole (a deadlock with another instance's
            # statement, a dropped connection): nothing was written; each goes alone, and a
            # caller hears an error only if its own statement fails too.
            log.warning("a batch of %d moves failed (%r); writing each alone", len(batch), exc)
            moved = dict.fromkeys((key_of(m) for m, _ in batch), _GO_ALONE)
        except asyncio.CancelledError:
            # Shutting down mid-statement: nobody may wait for an answer that will not come.
            for _, future in batch:
                future.cancel()
            raise
        for move, future in batch:
            if not future.done():  # a caller that was cancelled is owed nothing
                future.set_result(moved.get(key_of(move)))


async def _together(conn: BaseDBAsyncClient, batch: Sequence[Move]) -> dict[Any, Payment]:
    """Write `batch` (one shape, distinct rows) as one statement: the moved rows by key.

    A unique violation raises `IntegrityError` and writes nothing.
    """
    shape = shape_of(batch[0])
    key_column, _, _, with_note = shape
    rows_of_values = []
    # Rows in key order: concurrent statements (this instance's or another's) that touch the
    # same payments then lock them in the same order, not into a deadlock.
    for move in sorted(batch, key=key_of):
        values = [key_of(move)]
        values += [sql.db_value(v) for v in move.set_clause().values()]
        values += [
            str(move.from_status),
            move.expect.get("amount"),
            move.at,
            str(move.event),
            str(move.to_status) if move.to_status is not None else None,
            sql.json_text(move.detail),
            sql.json_text(move.raw),
            move.source,
        ]
        if with_note:
            values += [str(move.notify), sql.NOTE_TOPIC, sql.NOTE_STATUS]
        rows_of_values.append(values)
    columns = [list(column) for column in zip(*rows_of_values, strict=True)]
    rows = await conn.execute_query_dict(_statement(shape), columns)
    return {row[key_column]: Payment._init_from_db(**row) for row in rows}


_FIXED = [
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


@functools.lru_cache(maxsize=64)
def _statement(shape: Shape) -> str:
    """The statement for one shape; its $n are arrays, one per column of `_together`'s rows."""
    key_column, change_names, nulls, with_note = shape
    inputs = [("k", sql.pg_type(key_column))]
    inputs += [(f"c{i}", sql.pg_type(name)) for i, name in enumerate(change_names)]
    inputs += _FIXED
    if with_note:
        inputs += _NOTE
    arrays = ", ".join(f"${i + 1}::{pg_type}[]" for i, (_, pg_type) in enumerate(inputs))
    names = ", ".join(name for name, _ in inputs)
    sets = [f"{sql.column(name)} = v.c{i}" for i, name in enumerate(change_names)]
    sets.append("updated_at = v.at")
    where = [
        f"p.{sql.column(key_column)} = v.k",
        "p.status = v.assumed",
        "(v.amount IS NULL OR p.amount = v.amount)",
    ] + [f"p.{sql.column(name)} IS NULL" for name in nulls]
    payment_columns = sorted(Payment._meta.db_fields)
    carried = ["assumed", "at", "ev_kind", "to_status", "detail", "raw", "source"]
    if with_note:
        carried += [name for name, _ in _NOTE]
    returning = [f'p."{c}"' for c in payment_columns] + [f"v.{n} AS v_{n}" for n in carried]
    parts = [
        f"WITH v AS (SELECT * FROM unnest({arrays}) AS v({names})), ",
        f"moved AS (UPDATE {sql.table(Payment)} AS p SET {', '.join(sets)} FROM v "
        f"WHERE {' AND '.join(where)} RETURNING {', '.join(returning)}), ",
        f"ev AS (INSERT INTO {sql.table(PaymentEvent)} ({sql.EVENT_COLUMNS}) "
        "SELECT id, checkout_request_id, v_ev_kind, v_assumed, v_to_status, v_detail, v_raw, "
        "v_source, v_at FROM moved)",
    ]
    if with_note:
        parts.append(
            f", note AS (INSERT INTO {sql.table(Notification)} ({sql.NOTE_COLUMNS}) "
            "SELECT id, chat_id, user_id, language, v_note_kind, v_note_topic, v_note_status, "
            "0, v_at, v_at FROM moved)"
        )
    parts.append(" SELECT " + ", ".join(f'"{c}"' for c in payment_columns) + " FROM moved")
    return "".join(parts)
