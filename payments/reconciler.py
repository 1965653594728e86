"""The background worker that asks Daraja about waiting payments and expires overdue ones.

It holds no state of its own: everything it needs is in the database, so on start-up it simply
picks up whatever the previous run left pending. Several instances may run at once; the
service's leases keep them off each other's payments.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

from payments.service import PaymentService

logger = logging.getLogger(__name__)


def default_owner() -> str:
    """A lease owner name unique enough per process: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Reconciler:
    def __init__(
        self, service: PaymentService, *, owner: str | None = None, interval: float = 5.0
    ) -> None:
        self.service = service
        self.owner = owner or default_owner()
        self.interval = interval

    async def run_once(self) -> int:
        """One pass: query due payments, then expire overdue ones; returns payments touched."""
        queried = await self.service.reconcile_due(self.owner)
        expired = await self.service.expire_overdue()
        if queried or expired:
            logger.info("reconciler %s: queried %d, expired %d", self.owner, queried, expired)
        return queried + expired

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until `stop` is set; an error is logged and the loop goes on."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                logger.exception("reconciler pass failed; retrying in %.1fs", self.interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
