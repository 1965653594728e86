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
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot import views
from bot.delivery import GIVE_UP_AFTER, backoff, classify
from bot.limiter import Priority, sending_as
from bot.texts import has, money, t
from bot.wakeup import nap
from daraja.masking import mask_checkout_id
from payments.errors import PaymentNotFound
from payments.outbox import CUSTOMER_NOT_TOLD
from payments.rules import mask_phone

if TYPE_CHECKING:
    from payments.models import Notification, Payment
    from payments.outbox import Outbox
    from payments.service import PaymentService

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
#: Messages for the shop's people, not the payer: only admins and the staff chat get them.
_SHOP_KINDS = frozenset({"admin_alert", "announce"})
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
        staff_chat_id: int | None = None,
        batch: int = 20,
        merchant: str = "lipabot merchant",
        lease_seconds: float = LEASE_SECONDS,
        language_of: Callable[[int], Awaitable[str | None]] | None = None,
        give_up_after: timedelta = GIVE_UP_AFTER,
        menu: views.MenuPayment | None = None,
    ) -> None:
        self.bot = bot
        self.outbox = outbox
        self.service = service
        self.owner = owner
        self.admin_ids = frozenset(admin_ids)
        self.staff_chat_id = staff_chat_id
        self.batch = batch
        self.merchant = merchant
        self.lease_seconds = lease_seconds
        # An admin's own choice of language (/language) for their alerts; the service queues
        # alerts in English, not knowing it.
        self.language_of = language_of
        #: Transient failures are retried this long before a customer message is given up.
        self.give_up_after = give_up_after
        #: Where customers pay from the M-Pesa menu when a prompt fails (None: not offered).
        self.menu = menu
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
        await nap(self._wake, stop, interval)

    # ------------------------------------------------------------------ one row

    async def _deliver(self, row: Notification) -> bool:
        if str(row.kind) in _SHOP_KINDS and not self._is_shop_chat(row.chat_id):
            # Queued for someone who has since been removed from ADMIN_IDS: not theirs to read.
            await self.outbox.mark_undeliverable(row.id, reason="no longer an admin")
            return False
        admin = str(row.kind) in _SHOP_KINDS  # alerts and announcements: after the customers
        try:
            # Not longer in the limiter's queue than half the lease: a row whose lease lapsed
            # may be claimed again, and sent twice.
            priority = Priority.ADMIN if admin else Priority.OUTCOME
            with sending_as(priority, retry=False, max_wait=self.lease_seconds / 2):
                await self._send(row)
        except PaymentNotFound:
            await self.outbox.mark_undeliverable(row.id, reason="payment not found")
            return False
        except Superseded as exc:
            # Its own message was queued with the move that changed the payment: that one
            # tells the customer the current truth; this one would contradict it.
            log.info("notification %s (%s) not sent: %s", row.id, row.kind, exc)
            await self.outbox.mark_undeliverable(row.id, reason=str(exc))
            return False
        except TelegramError as exc:
            decision = classify(
                exc,
                attempt=row.attempts + 1,
                age=self.outbox.clock() - row.created_at,
                give_up_after=self.give_up_after,
            )
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
                await self._give_up(row, decision.reason)
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

    def _is_shop_chat(self, chat_id: int) -> bool:
        if str(chat_id) == str(self.staff_chat_id):
            return True
        return not self.admin_ids or chat_id in self.admin_ids

    async def _give_up(self, row: Notification, reason: str) -> None:
        """Mark the row undeliverable; for a customer's message, tell the admins (once)."""
        if str(row.kind) == "admin_alert" or not self.admin_ids:
            await self.outbox.mark_undeliverable(row.id, reason=reason)
            return
        payment = await self.outbox.payment(row.payment_id)
        alert = {
            "message": str(row.kind),
            "customer": mask_phone(payment.phone) if payment is not None else "?",
            "receipt": (payment.receipt if payment is not None else None) or "-",
            "amount": payment.amount if payment is not None else "?",
            "error": reason[:160],
        }
        await self.outbox.mark_undeliverable(
            row.id, reason=reason, alert_chat_ids=sorted(self.admin_ids), alert=alert
        )
        self.notify_soon()

    async def _true_kind(self, row: Notification, payment: Payment) -> str:
        """The outcome to tell: the row's own, unless the payment has moved on since it was
        queued. Then the payment's current outcome replaces it, unless a message of that
        outcome is owed or sent already (the usual case: the move queued one), and this row is
        superseded."""
        kind, current = str(row.kind), str(payment.status)
        if current in OUTCOME_STATUSES.get(kind, (current,)):
            return kind
        replacement = STATUS_OUTCOME.get(current)
        kinds = [k for k, statuses in OUTCOME_STATUSES.items() if current in statuses]
        if replacement is None or await self.outbox.has_customer_message(
            payment.id, row.chat_id, kinds
        ):
            raise Superseded(f"superseded: the payment is {current} now, not {kind}")
        log.info(
            "notification %s: %s replaced by %s (the payment's state now)", row.id, kind, current
        )
        return replacement

    async def _send(self, row: Notification) -> None:
        if str(row.kind) == "admin_alert":
            chosen = await self.language_of(row.chat_id) if self.language_of else None
            await self.bot.send_message(row.chat_id, _admin_text(row, chosen or row.language))
            return
        if str(row.kind) == "announce":
            announced = await self.outbox.payment(row.payment_id)
            if announced is None:
                raise PaymentNotFound(row.payment_id)
            await self.bot.send_message(row.chat_id, views.announcement(row.language, announced))
            return
        # Read the payment again rather than use the one the claim brought: the conversation
        # may have recorded the status message since (then the edit replaces a new message).
        payment = await self.outbox.payment(row.payment_id)
        if payment is None:
            raise PaymentNotFound(row.payment_id)
        kind = await self._true_kind(row, payment)
        lang = row.language or payment.language
        text, markup = views.outcome_text(kind, lang, payment, self.merchant, self.menu)
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


class Superseded(Exception):
    """The payment's outcome changed after this message was queued (e.g. expired, then paid)."""


#: The payment statuses each customer outcome message is true for.
OUTCOME_STATUSES: dict[str, tuple[str, ...]] = {
    "paid": ("paid",),
    "late_paid": ("paid",),
    "failed": ("failed",),
    "cancelled": ("cancelled",),
    "expired": ("expired",),
    "push_failed": ("push_failed",),
}


#: The outcome message of a payment status, for a queued message that has to be replaced.
STATUS_OUTCOME = {
    "paid": "paid",
    "failed": "failed",
    "cancelled": "cancelled",
    "expired": "expired",
    "push_failed": "push_failed",
}


def _admin_text(row: Notification, lang: str | None) -> str:
    """Admin alerts as sentences: what happened, what was done, what to check.

    Only the facts the service recorded; never a full phone number (checkout ids carry the
    payer's number, so they are masked).
    """
    detail: Any = row.detail if isinstance(row.detail, dict) else {}
    if row.topic == CUSTOMER_NOT_TOLD:
        return t(
            lang,
            "admin_customer_not_told",
            payment_id=row.payment_id if row.payment_id is not None else "?",
            message=detail.get("message", "?"),
            customer=detail.get("customer", "?"),
            receipt=detail.get("receipt", "-"),
            amount=detail.get("amount", "?"),
            error=detail.get("error", "?"),
        )
    topic = str(row.topic or detail.get("reason") or "alert")
    if topic in _C2B_TOPICS:
        # Money from the M-Pesa menu carries its own facts (account typed, payer, why).
        return views.admin_alert_text(lang or "en", topic, row.payment_id, detail)
    none = t(lang, "none")
    checkout = detail.get("checkout_request_id")
    paid, expected = detail.get("paid_amount"), detail.get("expected_amount")
    values = {
        "payment_id": row.payment_id if row.payment_id is not None else "?",
        "topic": topic.replace("_", " "),
        "checkout": mask_checkout_id(str(checkout)) if checkout else none,
        "receipt": detail.get("receipt") or none,
        "paid": money(int(paid)) if isinstance(paid, int) else none,
        "expected": money(int(expected)) if isinstance(expected, int) else none,
        # Already masked by the service; never a full number in an alert.
        "phone": detail.get("phone") or none,
        "candidates": ", ".join(f"#{c}" for c in detail.get("candidates") or ()) or none,
    }
    key = f"alert_{topic}"
    return t(lang, key if has(lang, key) else "admin_alert", **values)


#: Alerts about C2B payments, worded by `views.admin_alert_text` from their own facts.
_C2B_TOPICS = frozenset({"unmatched_c2b"})
