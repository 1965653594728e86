"""Delivers the outbox: tells customers (and admins) how their payments ended.

The payments service writes a `Notification` row in the same transaction as the state change;
this worker claims due rows with a lease (so two instances never send the same row), renders them
in the payment's language, edits the payment's status message in place (or sends a new message
when it cannot), and marks each row sent, retried later, or undeliverable.

`notify_soon()` wakes the loop at once (the webhooks app calls it after applying a callback), so
a customer hears back in milliseconds rather than after the poll interval. While rounds come back
full the loop goes again at once (a backlog drains at the send rate, not one batch per interval).

The pace is not kept here: every send goes through the bot's one `bot.limiter.SendLimiter`,
outcomes with `Priority.OUTCOME` (ahead of conversation replies), admin alerts with
`Priority.ADMIN`. A round's rows go out concurrently, one chat's rows in order, so a chat that
must wait its per-chat second holds up no other chat's receipt.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot import views
from bot.delivery import backoff, classify
from bot.limiter import Priority, sending_as
from bot.texts import t
from payments.errors import PaymentNotFound

if TYPE_CHECKING:
    from payments.models import Notification
    from payments.outbox import Outbox
    from payments.service import PaymentService

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
# Edits that cannot succeed whatever we retry: fall back to a new message.
_EDIT_IMPOSSIBLE = ("message to edit not found", "message can't be edited", "message_id_invalid")


class Notifier:
    def __init__(
        self,
        bot: Bot,
        outbox: Outbox,
        service: PaymentService,
        *,
        owner: str,
        admin_ids: Iterable[int] = (),
        batch: int = 20,
        merchant: str = "lipabot merchant",
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.bot = bot
        self.outbox = outbox
        self.service = service
        self.owner = owner
        self.admin_ids = frozenset(admin_ids)
        self.batch = batch
        self.merchant = merchant
        self.lease_seconds = lease_seconds
        self._wake = asyncio.Event()

    def notify_soon(self) -> None:
        """Ask the running loop to deliver now instead of at its next tick."""
        self._wake.set()

    async def deliver_due(self) -> int:
        """Claim due rows and try each once; returns how many were delivered."""
        return (await self._round())[1]

    async def _round(self) -> tuple[int, int]:
        """One claim-and-deliver round: (rows claimed, rows delivered)."""
        rows = await self.outbox.claim(
            owner=self.owner, limit=self.batch, lease_seconds=self.lease_seconds
        )
        by_chat: dict[int, list[Notification]] = defaultdict(list)
        for row in rows:
            by_chat[row.chat_id].append(row)
        counts = await asyncio.gather(*(self._deliver_in_order(chat) for chat in by_chat.values()))
        return len(rows), sum(counts)

    async def _deliver_in_order(self, rows: list[Notification]) -> int:
        delivered = 0
        for row in rows:
            if await self._deliver(row):
                delivered += 1
        return delivered

    async def run(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """Deliver until `stop` is set, waking every `interval` or on `notify_soon()`.

        A full round means more may be due: go again at once (the limiter paces the sends), so
        a backlog is not held to one batch per interval.
        """
        while not stop.is_set():
            claimed = 0
            try:
                claimed, _ = await self._round()
            except Exception:
                # A database hiccup must not kill the worker; the rows stay due.
                log.exception("outbox delivery round failed")
            if claimed >= self.batch:
                await asyncio.sleep(0)  # let the rest of the process breathe between rounds
                continue
            await self._sleep(stop, interval)

    async def _sleep(self, stop: asyncio.Event, interval: float) -> None:
        waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waiters:
                task.cancel()
            self._wake.clear()

    # ------------------------------------------------------------------ one row

    async def _deliver(self, row: Notification) -> bool:
        if str(row.kind) == "admin_alert" and self.admin_ids and row.chat_id not in self.admin_ids:
            # Queued for someone who has since been removed from ADMIN_IDS: not theirs to read.
            await self.outbox.mark_undeliverable(row.id, reason="no longer an admin")
            return False
        admin = str(row.kind) == "admin_alert"
        try:
            # Not longer in the limiter's queue than half the lease: a row whose lease lapsed
            # may be claimed again, and sent twice.
            priority = Priority.ADMIN if admin else Priority.OUTCOME
            with sending_as(priority, retry=False, max_wait=self.lease_seconds / 2):
                await self._send(row)
        except PaymentNotFound:
            await self.outbox.mark_undeliverable(row.id, reason="payment not found")
            return False
        except TelegramError as exc:
            decision = classify(exc, attempt=row.attempts + 1)
            if decision.action == "done":
                await self.outbox.mark_sent(row.id, owner=self.owner)
                return True
            if decision.action == "retry":
                log.warning(
                    "notification %s (%s) to chat %s: retry in %.0fs: %s",
                    row.id, row.kind, row.chat_id, decision.delay, decision.reason,
                )  # fmt: skip
                await self.outbox.mark_retry(
                    row.id, delay_seconds=decision.delay, error=decision.reason
                )
            else:
                log.warning(
                    "notification %s (%s) to chat %s undeliverable: %s",
                    row.id, row.kind, row.chat_id, decision.reason,
                )  # fmt: skip
                await self.outbox.mark_undeliverable(row.id, reason=decision.reason)
            return False
        except Exception as exc:
            # A bug or a database hiccup while rendering: keep the row, try again later, and let
            # the rest of the batch go out.
            log.exception("notification %s (%s): delivery failed", row.id, row.kind)
            await self.outbox.mark_retry(
                row.id, delay_seconds=backoff(row.attempts + 1), error=type(exc).__name__
            )
            return False
        # False when our lease lapsed and another instance took the row: it may send again,
        # which the unique status message edit makes harmless ("not modified").
        return await self.outbox.mark_sent(row.id, owner=self.owner)

    async def _send(self, row: Notification) -> None:
        if str(row.kind) == "admin_alert":
            await self.bot.send_message(row.chat_id, _admin_text(row))
            return
        # Read the payment again rather than use the one the claim brought: the conversation
        # may have recorded the status message since (then the edit replaces a new message).
        payment = await self.outbox.payment(row.payment_id)
        if payment is None:
            raise PaymentNotFound(row.payment_id)
        lang = row.language or payment.language
        text, markup = views.outcome_text(str(row.kind), lang, payment, self.merchant)
        if payment.status_message_id and row.chat_id == payment.chat_id:
            try:
                await self.bot.edit_message_text(
                    text,
                    chat_id=row.chat_id,
                    message_id=payment.status_message_id,
                    reply_markup=markup,
                )
                return
            except BadRequest as exc:
                if not any(m in exc.message.lower() for m in _EDIT_IMPOSSIBLE):
                    raise
                log.info("notification %s: status message gone, sending anew", row.id)
        await self.bot.send_message(row.chat_id, text, reply_markup=markup)


def _admin_text(row: Notification) -> str:
    """Admin alerts: the topic and the facts the service recorded (never a full phone)."""
    detail: Any = row.detail if isinstance(row.detail, dict) else {}
    facts = ", ".join(
        f"{key}={value}" for key, value in detail.items() if key != "reason" and "phone" not in key
    )
    return t(
        row.language,
        "admin_alert",
        topic=(row.topic or detail.get("reason") or "alert").replace("_", " "),
        payment_id=row.payment_id if row.payment_id is not None else "?",
        facts=facts or "-",
    )
