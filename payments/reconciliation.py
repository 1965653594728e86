"""Reconciliation and expiry: asking Daraja about waiting payments, and giving up on them.

* A waiting payment (`pending`/`unknown`) with a CheckoutRequestID is queried from
  `reconcile_after_seconds` after its push, with backoff (capped at `MAX_CHECK_INTERVAL_SECONDS`),
  by whichever instance leases it first.
* Our own expiry (`payment_timeout_seconds` without a final answer) is not M-Pesa's word: such a
  payment, when it has a CheckoutRequestID, is still queried until `LATE_CHECK_WINDOW` after its
  push; a success then pays it ("late_paid"), a failure is recorded quietly and ends the checks.
  A Daraja-reported expiry (1037, 1019, …, so `result_code` is set) is final and not queried.
* A push interrupted mid-flight (the process killed) leaves `pushing` behind; it may have reached
  Daraja, so after the timeout it becomes `unknown`, then expires like any other.
* Abandoned drafts (older than `DRAFT_TTL`) are cancelled; nobody is told, since nothing was sent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from tortoise.expressions import Q

from payments.base import ServiceBase
from payments.models import EventKind, NotificationKind, Payment
from payments.moves import Move
from payments.ports import QueryFailed
from payments.pushes import DRAFT_TTL
from payments.states import RECONCILABLE_STATES, PaymentStatus

logger = logging.getLogger(__name__)

S = PaymentStatus

#: The longest pause between two queries of one payment.
MAX_CHECK_INTERVAL_SECONDS = 600.0
#: How long a reconciler instance holds a payment it is querying.
RECONCILE_LEASE_SECONDS = 60.0
#: How long after its push a payment WE expired (no final answer reached us) is still queried.
#: Our timeout is not M-Pesa's word: the callback may have been lost and the query API down, so
#: we keep asking with the usual backoff (capped at `MAX_CHECK_INTERVAL_SECONDS`, i.e. every
#: 10 minutes once the first few attempts are past) until a final answer or this window ends.
LATE_CHECK_WINDOW = timedelta(hours=24)


class Reconciliation(ServiceBase):
    async def reconcile_one(self, payment_id: int) -> Payment:
        """Ask Daraja now about one waiting payment and apply what it says."""
        payment = await self.get(payment_id)
        if not self._checkable(payment) or payment.checkout_request_id is None:
            return payment
        try:
            result = await self.gateway.stk_query(payment.checkout_request_id)
        except QueryFailed as exc:
            await self.store.record(
                payment.id, EventKind.QUERY_ERROR, at=self.now(), detail=exc.detail, source="query"
            )
            await self._schedule_next_check(payment)
            return await self.get(payment_id)
        if result is None:
            await self.store.record(
                payment.id, EventKind.QUERY_PENDING, at=self.now(), source="query"
            )
            await self._schedule_next_check(payment)
            return await self.get(payment_id)
        await self.apply_result(result)
        fresh = await self.get(payment_id)
        if self._checkable(fresh):
            # An answer that settled nothing (Outcome.UNKNOWN): keep asking, more slowly.
            await self._schedule_next_check(fresh)
        return fresh

    def _checkable(self, payment: Payment) -> bool:
        """Whether Daraja is still worth asking about this payment (mirrors `_checkable_q`)."""
        if payment.checkout_request_id is None or payment.flagged_reason:
            return False
        if payment.status in RECONCILABLE_STATES:
            return True
        return (
            payment.status == S.EXPIRED
            and payment.result_code is None
            and payment.pushed_at is not None
            and payment.pushed_at >= self.now() - LATE_CHECK_WINDOW
        )

    def _checkable_q(self, now: datetime) -> Q:
        """Waiting payments, and those we expired ourselves within `LATE_CHECK_WINDOW`."""
        return Q(status__in=list(RECONCILABLE_STATES)) | Q(
            status=S.EXPIRED, result_code__isnull=True, pushed_at__gte=now - LATE_CHECK_WINDOW
        )

    async def reconcile_due(
        self, owner: str, limit: int = 50, *, lease_seconds: float = RECONCILE_LEASE_SECONDS
    ) -> int:
        """Query every due waiting payment this owner manages to lease; returns how many."""
        now = self.now()
        due = Payment.filter(
            self._checkable_q(now),
            next_check_at__lte=now,
            checkout_request_id__isnull=False,
            flagged_reason__isnull=True,
        ).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        candidates = cast(
            "list[int]",
            await due.order_by("next_check_at", "id").limit(limit).values_list("id", flat=True),
        )
        processed = 0
        for payment_id in candidates:
            where = self._checkable_q(now) & Q(next_check_at__lte=now)
            if not await self.store.lease(
                payment_id, owner, where=where, at=now, seconds=lease_seconds
            ):
                continue
            processed += 1
            try:
                await self.reconcile_one(payment_id)
            except Exception:
                # One bad payment must not stop the others; the lease expires and it is retried.
                logger.exception("payment #%d: reconciliation failed", payment_id)
                continue
            await self.store.release(payment_id, owner)
        return processed

    async def _schedule_next_check(self, payment: Payment) -> None:
        now = self.now()
        base = max(self.rules.reconcile_after_seconds, 1.0)
        delay = min(base * 2 ** min(payment.check_attempts, 10), MAX_CHECK_INTERVAL_SECONDS)
        await self.store.schedule_check(
            payment.id, where=self._checkable_q(now), at=now, delay_seconds=delay
        )

    async def expire_overdue(self) -> int:
        """Give up on payments with no final answer after `payment_timeout_seconds`."""
        now = self.now()
        cutoff = now - timedelta(seconds=self.rules.payment_timeout_seconds)
        await self._cancel_stale_drafts(now)
        await self._unstick_pushes(cutoff, now)
        overdue = await Payment.filter(
            status__in=list(RECONCILABLE_STATES),
            flagged_reason__isnull=True,
            pushed_at__lt=cutoff,
        ).order_by("id")
        expired = 0
        for payment in overdue:
            moved = await self.perform(
                Move(
                    EventKind.EXPIRED,
                    PaymentStatus(payment.status),
                    S.EXPIRED,
                    payment=payment,
                    expect={"flagged_reason__isnull": True},
                    changes={
                        "completed_at": now,
                        # Keep asking Daraja (LATE_CHECK_WINDOW) when there is something to ask.
                        "next_check_at": (payment.next_check_at or now)
                        if payment.checkout_request_id
                        else None,
                    },
                    at=now,
                    detail={"after_seconds": self.rules.payment_timeout_seconds, "by": "timeout"},
                    notify=NotificationKind.EXPIRED,
                )
            )
            if moved is None:
                continue
            expired += 1
            logger.info("payment #%d expired without a final answer", payment.id)
        return expired

    async def _cancel_stale_drafts(self, now: datetime) -> None:
        # Abandoned confirmations: nothing was sent, so nobody is told; the bot answers a late
        # Confirm tap with "this confirmation has expired".
        for draft in await Payment.filter(status=S.CREATED, created_at__lt=now - DRAFT_TTL):
            await self._cancel_draft(draft, now, by="expired")

    async def _unstick_pushes(self, cutoff: datetime, now: datetime) -> None:
        for payment in await Payment.filter(status=S.PUSHING, pushed_at__lt=cutoff):
            await self.perform(
                Move(
                    EventKind.PUSH_UNKNOWN,
                    S.PUSHING,
                    S.UNKNOWN,
                    payment=payment,
                    at=now,
                    detail={"stuck": True},
                )
            )
