"""The interface every payment store offers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tortoise.expressions import Q

    from payments.models import Payment
    from payments.moves import Move


class Store(Protocol):
    name: str

    async def write(self, move: Move) -> Payment | None:
        """Write a validated move (use `payments.moves.perform`, which validates first)."""
        ...

    async def create(self, fields: dict[str, Any], *, at: datetime) -> Payment:
        """Insert a new payment (status `created`) with its `created` event."""
        ...

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
        """An audit event that moves nothing (a query error, a body for no known payment)."""
        ...

    async def alert_unmatched(
        self, *, topic: str, detail: dict[str, Any], chat_ids: tuple[int, ...], at: datetime
    ) -> None:
        """Tell every admin about money that belongs to no payment."""
        ...

    async def adopt_events(self, checkout_request_id: str, payment_id: int) -> None:
        """Give events kept for an unknown CheckoutRequestID to the payment it turned out to be."""
        ...

    async def by_id(self, payment_id: int) -> Payment | None: ...

    async def by_checkout(self, checkout_request_id: str) -> Payment | None: ...

    async def schedule_check(
        self, payment_id: int, *, where: Q, at: datetime, delay_seconds: float
    ) -> None:
        """Ask again after `delay_seconds` (counting the attempt) if the row matches `where`."""
        ...

    async def lease(
        self, payment_id: int, owner: str, *, where: Q, at: datetime, seconds: float
    ) -> bool:
        """Hold a due payment matching `where` for one reconciler; False when another holds it."""
        ...

    async def release(self, payment_id: int, owner: str) -> None: ...

    async def set_status_message(self, payment_id: int, message_id: int, *, at: datetime) -> None:
        """Remember the chat message that shows the payment (edited in place later)."""
        ...
