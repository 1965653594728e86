"""STK pushes sent outside the update handlers, so a slow Daraja holds up nobody's reply.

The Confirm handler claims the payment (created -> pushing, a conditional move: one claim per
payment however many taps or instances) and hands it here; `PushSender.start` sends it in a task
the Application owns (`Application.create_task`: errors reach the error handler, and
`Application.stop` waits for pushes still in flight). What Daraja answers is recorded by the
payments service as a move; a refusal writes the customer's message to the outbox in the same
transaction, and the notifier edits the status message in place, the same durable path as a
callback's outcome. If the process dies between the claim and the answer, the payment waits in
`pushing` and the reconciler treats it as a push that may have left (never pushed again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telegram.ext import Application

    from payments.models import Payment
    from payments.service import PaymentService

log = logging.getLogger(__name__)


class PushSender:
    """Runs `PaymentService.send_push` for claimed payments, in the background."""

    def __init__(self, service: PaymentService, *, on_done: Callable[[], None]) -> None:
        self.service = service
        self._on_done = on_done
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def start(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        claimed: Payment,
        *,
        update: object = None,
    ) -> asyncio.Task[Any]:
        task = application.create_task(
            self._send(claimed), update=update, name=f"lipabot-push-{claimed.id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _send(self, claimed: Payment) -> Payment:
        try:
            return await self.service.send_push(claimed)
        finally:
            # A refusal left a message in the outbox: deliver it now, not at the next tick.
            self._on_done()

    async def idle(self) -> None:
        """Wait until every push started so far has its answer (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
