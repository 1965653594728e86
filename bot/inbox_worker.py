"""Feeds the Telegram inbox (`bot.inbox`) to the PTB Application and marks updates done.

An update the webhook kept and leased to this instance goes straight onto
`application.update_queue`; the update processor (`bot.app.PerChatUserUpdateProcessor`) reports
each one processed (or failed) to `processed`, which marks its row done (or hands it back). The
loop in `run` claims the rows that were left waiting (an earlier update of the chat was open
elsewhere) or orphaned (a crashed instance's), renews this instance's leases and prunes old done
rows; `release` hands unprocessed rows back on a clean stop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from telegram import Update

from bot.inbox import MAX_ATTEMPTS, Accepted, Inbox
from bot.wakeup import nap

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 600.0


class InboxWorker:
    """Feeds the inbox to a PTB Application and marks each update done once processed."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        inbox: Inbox,
        *,
        batch: int = 20,
    ) -> None:
        self.application = application
        self.inbox = inbox
        self.batch = batch
        #: update_ids leased here and on the update queue, not processed yet.
        self.held: set[int] = set()
        self._wake = asyncio.Event()

    def notify_soon(self) -> None:
        self._wake.set()

    async def accept(self, body: dict[str, Any], update: Update) -> Accepted:
        """Keep an update the webhook is about to acknowledge; queue it when it is ours."""
        chat, user = update.effective_chat, update.effective_user
        outcome = await self.inbox.accept(
            update.update_id,
            body,
            chat_id=chat.id if chat is not None else None,
            user_id=user.id if user is not None else None,
        )
        if outcome == "held":
            await self._hand_over(update)
        elif outcome == "waiting":
            self.notify_soon()
        return outcome

    async def _hand_over(self, update: Update) -> None:
        self.held.add(update.update_id)
        await self.application.update_queue.put(update)

    async def processed(self, update: object, error: Exception | None = None) -> None:
        """Called by the update processor after an update's handlers ran (PTB's error
        handlers included), or with the `error` that escaped its processing."""
        if not isinstance(update, Update) or update.update_id not in self.held:
            return  # not from the inbox (polling, tests feeding updates directly)
        self.held.discard(update.update_id)
        try:
            if error is None:
                await self.inbox.mark_done(update.update_id)
            else:
                # Claimed again at once; after MAX_ATTEMPTS it is given up.
                log.warning("inbox: update %s failed (%r), will retry", update.update_id, error)
                await self.inbox.release_one(update.update_id)
        except Exception:
            # Not recorded: the lease runs out and it is processed again.
            log.exception("inbox: could not record update %s", update.update_id)
        self.notify_soon()  # a later update of the same chat may be claimable now

    async def drain_once(self) -> int:
        """Claim what may be processed now and queue it; returns how many were queued."""
        rows = await self.inbox.claim(self.batch - len(self.held))
        queued = 0
        for row in rows:
            if row.attempts > MAX_ATTEMPTS:
                log.error(
                    "inbox: update %s given up after %d attempts", row.update_id, row.attempts
                )
                await self.inbox.mark_done(row.update_id)
                continue
            try:
                update = Update.de_json(row.body, self.application.bot)
            except Exception:
                log.exception("inbox: stored update %s unreadable, dropped", row.update_id)
                await self.inbox.mark_done(row.update_id)
                continue
            await self._hand_over(update)
            queued += 1
        return queued

    async def run(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Claim, renew leases and prune until `stop` is set."""
        loop = asyncio.get_running_loop()
        renew_every = self.inbox.lease.total_seconds() / 3
        renewed = pruned = loop.time()
        while not stop.is_set():
            try:
                if loop.time() - renewed >= renew_every:
                    if self.held:
                        await self.inbox.renew()
                    renewed = loop.time()
                await self.drain_once()
                if loop.time() - pruned >= PRUNE_EVERY_SECONDS:
                    await self.inbox.prune()
                    pruned = loop.time()
            except Exception:
                log.exception("inbox round failed")  # the rows stay; the next round retries
            await self._sleep(stop, min(interval, renew_every))

    async def release(self) -> None:
        """On a clean stop, after the Application processed its queue: hand the rest back."""
        self.held.clear()
        try:
            released = await self.inbox.release()
        except Exception:
            log.warning("inbox: could not release held updates on stop", exc_info=True)
            return
        if released:
            log.info("inbox: %d unprocessed updates handed back on stop", released)

    async def _sleep(self, stop: asyncio.Event, interval: float) -> None:
        await nap(self._wake, stop, interval)
