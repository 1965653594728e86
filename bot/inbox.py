"""The Telegram inbox: an update the webhook acknowledged is kept until it has been processed.

Telegram never re-sends an update it got 200 for, so `POST /telegram/webhook` writes the update
to the `telegram_inbox` table (`payments.models.InboundUpdate`) before it answers, and the row is
marked done only after PTB's handlers have run. A process killed in between loses nothing: the
row's lease runs out and this instance (after a restart) or another one processes it.

- `accept` is one INSERT: idempotent on `update_id` (a redelivery is a no-op), and the row is
  leased to this instance at once unless an earlier update of the same chat or user is still
  open elsewhere, in which case it waits to be claimed in order.
- `claim` leases the oldest open rows whose lease is free, skipping any row with an earlier open
  update of its chat or user outside the batch, so one chat's updates are processed in
  Telegram's order even across instances. On PostgreSQL the candidates are locked with
  `FOR UPDATE SKIP LOCKED` (two claimers never take one row); on SQLite the statement itself is
  atomic.
- `renew` extends this instance's leases (a heartbeat), so a long backlog is not taken over by
  another instance while it waits here; `release` hands them back on a clean stop.
- `mark_done` after processing; done rows are kept `KEEP_DONE` (to recognise redeliveries) and
  then pruned.

Processing is at least once: a process killed while an update's handlers ran processes it again
after the lease (the payment rules refuse a second push for one customer). An update whose
processing never finishes (it kills the process every time) is given up after `MAX_ATTEMPTS`.

`bot.inbox_worker.InboxWorker` feeds the table to the PTB Application.
"""

# ruff: noqa: S608  (names spliced into SQL are constants here; values are parameters)

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from tortoise.backends.base.client import BaseDBAsyncClient

from daraja.timestamps import now_utc
from payments.models import InboundUpdate

LEASE_SECONDS = 30.0
#: Done rows are kept this long, so a redelivered update_id is still recognised.
KEEP_DONE = timedelta(days=2)
#: An update claimed this many times without finishing is given up (it kills its process).
MAX_ATTEMPTS = 5

TABLE = "telegram_inbox"
Accepted = Literal["held", "waiting", "duplicate"]

# An open row of the same chat or user as `{row}`, earlier in Telegram's order.
_EARLIER_OPEN = (
    f"SELECT 1 FROM {TABLE} e WHERE e.done_at IS NULL AND e.update_id < {{row}}.update_id"
    f" AND (e.chat_id = {{row}}.chat_id OR e.user_id = {{row}}.user_id)"
)

_ACCEPT = (
    f"INSERT INTO {TABLE} (update_id, chat_id, user_id, body, attempts, received_at,"
    f" claimed_by, claimed_until)"
    f" SELECT $1::bigint, $2::bigint, $3::bigint, $4::jsonb, CASE WHEN b.n = 0 THEN 1 ELSE 0 END,"
    f" $5::timestamptz, CASE WHEN b.n = 0 THEN $6::varchar END,"
    f" CASE WHEN b.n = 0 THEN $7::timestamptz END"
    f" FROM (SELECT count(*) AS n FROM (SELECT 1 FROM {TABLE} e WHERE e.done_at IS NULL"
    f" AND (e.chat_id = $2::bigint OR e.user_id = $3::bigint)"
    f" AND (e.claimed_by IS NULL OR e.claimed_by <> $6::varchar) LIMIT 1) x) b WHERE true"
    f" ON CONFLICT (update_id) DO NOTHING RETURNING claimed_by"
)

_CLAIM = (
    f"WITH cand AS MATERIALIZED (SELECT u.id, u.update_id, u.chat_id, u.user_id FROM {TABLE} u"
    f" WHERE u.done_at IS NULL AND (u.claimed_until IS NULL OR u.claimed_until < $1::timestamptz)"
    f" AND NOT EXISTS ({_EARLIER_OPEN.format(row='u')} AND e.claimed_until >= $1::timestamptz)"
    f" ORDER BY u.update_id LIMIT $2::int{{lock}}),"
    f" ok AS MATERIALIZED (SELECT c.id FROM cand c WHERE NOT EXISTS"
    f" ({_EARLIER_OPEN.format(row='c')} AND e.id NOT IN (SELECT id FROM cand)))"
    f" UPDATE {TABLE} SET claimed_by = $3::varchar, claimed_until = $4::timestamptz,"
    f" attempts = attempts + 1 WHERE id IN (SELECT id FROM ok) RETURNING *"
)


def _is_postgres(conn: BaseDBAsyncClient) -> bool:
    return getattr(conn.capabilities, "dialect", "") == "postgres"


def _for_sqlite(statement: str, params: list[Any]) -> tuple[str, list[Any]]:
    """`$n::type` placeholders as SQLite's `?`, with the parameters in the order they appear."""
    order: list[Any] = []

    def placeholder(match: re.Match[str]) -> str:
        order.append(params[int(match[1]) - 1])
        return "?"

    return re.sub(r"\$(\d+)(?:::\w+)?", placeholder, statement), order


class Inbox:
    """The `telegram_inbox` table's operations for one instance (`owner`)."""

    def __init__(
        self,
        *,
        owner: str,
        lease_seconds: float = LEASE_SECONDS,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.owner = owner
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock

    async def _execute(self, statement: str, params: list[Any]) -> list[dict[str, Any]]:
        conn: BaseDBAsyncClient = InboundUpdate._meta.db
        if _is_postgres(conn):
            statement = statement.replace("{lock}", " FOR UPDATE OF u SKIP LOCKED")
        else:
            statement, params = _for_sqlite(statement.replace("{lock}", ""), params)
        return [dict(row) for row in await conn.execute_query_dict(statement, params)]

    async def accept(
        self, update_id: int, body: dict[str, Any], *, chat_id: int | None, user_id: int | None
    ) -> Accepted:
        """Keep the update; "held" when it is leased to this instance to process now."""
        now = self.clock()
        rows = await self._execute(
            _ACCEPT,
            [
                update_id,
                chat_id,
                user_id,
                json.dumps(body, separators=(",", ":")),
                now,
                self.owner,
                now + self.lease,
            ],
        )
        if not rows:
            return "duplicate"
        return "held" if rows[0]["claimed_by"] == self.owner else "waiting"

    async def claim(self, limit: int) -> list[InboundUpdate]:
        """Lease up to `limit` open rows that may be processed now, in Telegram's order."""
        if limit <= 0:
            return []
        now = self.clock()
        rows = await self._execute(_CLAIM, [now, limit, self.owner, now + self.lease])
        claimed = [InboundUpdate._init_from_db(**row) for row in rows]
        return sorted(claimed, key=lambda row: row.update_id)

    async def mark_done(self, update_id: int) -> bool:
        """Processed. The body is dropped (what customers typed is not kept longer than
        needed); the update_id stays `KEEP_DONE` to recognise a redelivery."""
        done = await InboundUpdate.filter(update_id=update_id, done_at__isnull=True).update(
            done_at=self.clock(), claimed_by=None, claimed_until=None, body={}
        )
        return bool(done)

    async def release_one(self, update_id: int) -> int:
        """Hand one held row back for another try (its processing failed)."""
        return await InboundUpdate.filter(
            update_id=update_id, claimed_by=self.owner, done_at__isnull=True
        ).update(claimed_by=None, claimed_until=None)

    async def renew(self) -> int:
        """Extend this instance's leases on the rows it still holds."""
        return await InboundUpdate.filter(claimed_by=self.owner, done_at__isnull=True).update(
            claimed_until=self.clock() + self.lease
        )

    async def release(self) -> int:
        """Hand this instance's unprocessed rows back (a clean stop): claimable at once."""
        return await InboundUpdate.filter(claimed_by=self.owner, done_at__isnull=True).update(
            claimed_by=None, claimed_until=None
        )

    async def prune(self, keep: timedelta = KEEP_DONE) -> int:
        return await InboundUpdate.filter(done_at__lt=self.clock() - keep).delete()

    async def backlog(self) -> int:
        """Updates acknowledged and not processed yet (anywhere)."""
        return await InboundUpdate.filter(done_at__isnull=True).count()


def unique_owner(owner: str) -> str:
    """`owner` plus a token of this start: a restarted process (same host and pid in a
    container) must not take its predecessor's leases for its own."""
    return f"{owner}/{secrets.token_hex(4)}"
