"""The PostgreSQL store: the ORM store's moves as single statements.

A move that writes its row without alerting admins — every callback for a waiting payment,
every push, every expiry — is one data-modifying CTE (update, event, customer message), shared
with concurrent moves of the same shape (`payments.stores.batching`). PostgreSQL runs each CTE
once and the statement is atomic on its own, so there are no BEGIN/COMMIT round trips; a unique
violation rolls the whole statement back and surfaces as tortoise's `IntegrityError`, exactly
as the ORM path's transaction does. An event-only move is one INSERT. Moves that alert admins
(rare: the one-alert-per-topic check reads first) and everything else inherit the ORM store.
"""

# ruff: noqa: S608  (names spliced into SQL come from model metadata; values are $n params)

from __future__ import annotations

from payments.models import Payment, PaymentEvent
from payments.moves import Move
from payments.stores import sql
from payments.stores.batching import MoveBatcher
from payments.stores.orm import OrmStore


class PostgresStore(OrmStore):
    name = "postgres"

    def __init__(self, *, batcher: MoveBatcher | None = None) -> None:
        self.batcher = batcher or MoveBatcher()

    async def write(self, move: Move) -> Payment | None:
        if move.alert is not None:
            return await super().write(move)
        if not move.writes_row:
            return await self._event_only(move)
        return await self.batcher.write(sql.connection(), move)

    async def _event_only(self, move: Move) -> Payment | None:
        payment = move.payment
        if payment is None:
            return await super().write(move)  # refuses it with the ORM store's error
        values = [
            payment.id,
            move.event_checkout_id() or payment.checkout_request_id,
            str(move.event),
            str(move.from_status),
            str(move.to_status) if move.to_status is not None else None,
            sql.json_text(move.detail),
            sql.json_text(move.raw),
            move.source,
            move.at,
        ]
        casts = ("int", "varchar", "varchar", "varchar", "varchar", "jsonb", "jsonb", "varchar")
        params = ", ".join(f"${i + 1}::{cast}" for i, cast in enumerate(casts))
        await sql.connection().execute_query(
            f"INSERT INTO {sql.table(PaymentEvent)} ({sql.EVENT_COLUMNS}) "
            f"VALUES ({params}, ${len(values)}::timestamptz)",
            values,
        )
        return payment

    async def by_id(self, payment_id: int) -> Payment | None:
        return await sql.find_payment(sql.connection(), "id", payment_id)

    async def by_checkout(self, checkout_request_id: str) -> Payment | None:
        return await sql.find_payment(sql.connection(), "checkout_request_id", checkout_request_id)
