"""What every part of the payments service shares: its collaborators, the clock, the store.

`PaymentService` (payments.service) is these parts put together: drafts and pushes
(`payments.pushes`), applying M-Pesa's answers (`payments.settlement`), and reconciliation and
expiry (`payments.reconciliation`), over the read-only views of `payments.lookups`. Every status
change goes through `perform` (`payments.moves`); every write through `self.store`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from daraja.timestamps import now_utc
from daraja.types import StkResult
from payments.errors import PaymentNotFound
from payments.lookups import PaymentLookups
from payments.models import EventKind, Payment
from payments.moves import Move, perform
from payments.ports import Gateway
from payments.results import ApplyResult
from payments.rules import PaymentRules
from payments.states import PaymentStatus
from payments.stores import Store, select_store

logger = logging.getLogger(__name__)


class ServiceBase(PaymentLookups):
    def __init__(
        self,
        gateway: Gateway,
        *,
        rules: PaymentRules,
        callback_url: str,
        account_reference: str = "lipabot",
        description: str = "Payment",
        admin_chat_ids: Sequence[int] = (),
        clock: Callable[[], datetime] = now_utc,
        store: Store | None = None,
    ) -> None:
        self.gateway = gateway
        self.rules = rules
        self.callback_url = callback_url
        self.account_reference = account_reference
        self.description = description
        self.admin_chat_ids = tuple(admin_chat_ids)
        self.clock = clock
        #: Chosen once: PostgreSQL statements or the ORM (`payments.stores.select_store`).
        self.store = store if store is not None else select_store()

    async def perform(self, move: Move) -> Payment | None:
        """The payment as moved, or None when its row was not as the move expects."""
        return await perform(self.store, move)

    async def apply_result(self, result: StkResult) -> ApplyResult:
        """Apply a callback or query result once (`payments.settlement`)."""
        raise NotImplementedError

    async def _replay_early_callbacks(self, checkout_request_id: str) -> None:
        """Apply callbacks that beat the push's own answer (`payments.settlement`)."""
        raise NotImplementedError

    async def _cancel_draft(self, draft: Payment, now: datetime, *, by: str) -> bool:
        moved = await self.perform(
            Move(
                EventKind.CANCELLED,
                PaymentStatus.CREATED,
                PaymentStatus.CANCELLED,
                payment=draft,
                changes={"completed_at": now},
                at=now,
                detail={"by": by},
            )
        )
        if moved is not None and by == "expired":
            logger.info("payment #%d: draft expired unconfirmed; cancelled", draft.id)
        return moved is not None

    async def set_status_message(self, payment_id: int, message_id: int) -> None:
        """Remember the chat message the bot edits in place for this payment."""
        await self.store.set_status_message(payment_id, message_id, at=self.now())

    async def _owned(self, payment_id: int, user_id: int) -> Payment:
        payment = await self.store.by_id(payment_id)
        if payment is None or payment.user_id != user_id:
            raise PaymentNotFound(payment_id)
        return payment

    async def _fresh(self, payment_id: int) -> Payment:
        payment = await self.store.by_id(payment_id)
        if payment is None:
            raise PaymentNotFound(payment_id)
        return payment
