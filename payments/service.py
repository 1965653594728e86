"""The payments service: start a payment, apply M-Pesa's answer once, reconcile, expire.

Every status change is a conditional update (`filter(id=..., status=old).update(...)` returns
the rows changed), so double taps, duplicate callbacks and two running instances produce one
move. The move, its audit event and the customer's outbox message are written in one
transaction (`payments.journal`): a crash can lose neither the message nor the reason for it.
What a result does is decided in `payments.results`; read-only views live in `payments.lookups`.

Decisions worth knowing (see also README "Payment states and reliability"):

* A user's own `created` drafts are superseded (cancelled) when they start a new payment, and
  anyone's draft older than `DRAFT_TTL` no longer blocks the phone: an abandoned confirmation
  never locks a customer out.
* A push that timed out (`TimedOut`, maybe processed) is never repeated: the payment becomes
  `unknown` and waits for a callback (matched by phone and amount if need be), or expiry.
* Our own expiry (`payment_timeout_seconds` without a final answer) is not M-Pesa's word: such a
  payment, when it has a CheckoutRequestID, is still queried until `LATE_CHECK_WINDOW` after its
  push; a success then pays it ("late_paid"), a failure is recorded quietly and ends the checks.
  A Daraja-reported expiry (1037, 1019, …, so `result_code` is set) is final and not queried.
* A draft older than `DRAFT_TTL` is never pushed: `push` cancels it and raises `DraftExpired`,
  and `expire_overdue` cancels such drafts so they do not linger.
* A success whose amount differs from what we asked, or whose receipt already belongs to another
  payment, is not marked paid: the payment keeps its status with `flagged_reason` set, stops
  being reconciled or expired, no longer blocks the customer, and every admin gets an alert.
* Once Daraja gave a final answer, a different later answer is a `conflict`: recorded, never
  applied, never a second customer message. The exception is a success after an expiry (ours or
  Daraja's 1019/1037): money moved, so the payment becomes paid and the customer hears so.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from daraja.errors import DarajaError, InvalidRequest, RateLimited, SubscriberLocked
from daraja.masking import mask_checkout_id
from daraja.timestamps import now_utc
from daraja.types import PushAccepted, StkResult
from payments import apply_sql
from payments.apply_batch import WaitingBatcher, WaitingItem
from payments.errors import (
    DraftExpired,
    InvalidPhone,
    PaymentInProgress,
    PaymentNotFound,
    PushLimitExceeded,
)
from payments.journal import alert_admins, notify_customer, record_event
from payments.lookups import WAITING_STATES, DaySummary, PaymentLookups
from payments.models import EventKind, NotificationKind, Payment, PaymentEvent
from payments.ports import Gateway
from payments.results import ApplyKind, ApplyResult, PaymentFacts, Plan, decide, event_detail
from payments.rules import PaymentRules, mask_phone, normalize_phone, parse_amount
from payments.states import OPEN_STATES, RECONCILABLE_STATES, PaymentStatus

__all__ = [
    "WAITING_STATES",
    "ApplyKind",
    "ApplyResult",
    "DaySummary",
    "PaymentService",
]

logger = logging.getLogger(__name__)

S = PaymentStatus

#: A draft (confirmation not yet tapped) older than this no longer blocks anyone, is never
#: pushed (a days-old Confirm button must not send a PIN prompt) and is cancelled.
DRAFT_TTL = timedelta(minutes=5)
#: The longest pause between two queries of one payment.
MAX_CHECK_INTERVAL_SECONDS = 600.0
#: How long a reconciler instance holds a payment it is querying.
RECONCILE_LEASE_SECONDS = 60.0
#: How far back a success callback for an unknown CheckoutRequestID may match a push whose
#: answer we never got (so we never learnt its CheckoutRequestID).
ORPHAN_MATCH_WINDOW = timedelta(hours=24)
#: How long after its push a payment WE expired (no final answer reached us) is still queried.
#: Our timeout is not M-Pesa's word: the callback may have been lost and the query API down, so
#: we keep asking with the usual backoff (capped at `MAX_CHECK_INTERVAL_SECONDS`, i.e. every
#: 10 minutes once the first few attempts are past) until a final answer or this window ends.
LATE_CHECK_WINDOW = timedelta(hours=24)


class PaymentService(PaymentLookups):
    """The only code that changes payments."""

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
    ) -> None:
        self.gateway = gateway
        self.rules = rules
        self.callback_url = callback_url
        self.account_reference = account_reference
        self.description = description
        self.admin_chat_ids = tuple(admin_chat_ids)
        self.clock = clock
        self._waiting = WaitingBatcher()

    # ----------------------------------------------------------------- starting a payment

    async def create_payment(
        self,
        *,
        user_id: int,
        chat_id: int,
        language: str,
        amount: int | str,
        phone: str,
        account_reference: str | None = None,
    ) -> Payment:
        """A draft payment (status `created`) after every rule passed; nothing sent yet."""
        value = parse_amount(amount, self.rules)
        msisdn = normalize_phone(phone)
        now = self.now()
        await self._retire_drafts(user_id, msisdn, now)
        existing = await self._open_payment(user_id, msisdn)
        if existing is not None:
            raise PaymentInProgress(existing)
        await self._check_push_limit(user_id, now)
        async with in_transaction() as conn:
            payment = await Payment.create(
                user_id=user_id,
                chat_id=chat_id,
                language=language,
                amount=value,
                phone=msisdn,
                account_reference=account_reference or self.account_reference,
                status=S.CREATED,
                created_at=now,
                updated_at=now,
                using_db=conn,
            )
            await self._event(conn, payment, EventKind.CREATED, None, S.CREATED)
        logger.info("payment #%d created: KES %d from %s", payment.id, value, mask_phone(msisdn))
        return payment

    async def start_payment(
        self,
        *,
        user_id: int,
        chat_id: int,
        language: str,
        amount: int | str,
        phone: str,
        account_reference: str | None = None,
    ) -> Payment:
        """`create_payment` then `push`."""
        payment = await self.create_payment(
            user_id=user_id,
            chat_id=chat_id,
            language=language,
            amount=amount,
            phone=phone,
            account_reference=account_reference,
        )
        return await self.push(payment.id, user_id=user_id)

    async def push(self, payment_id: int, *, user_id: int) -> Payment:
        """Send the STK prompt for a draft, once however often this is called.

        Raises `DraftExpired` (after cancelling it) for a draft older than `DRAFT_TTL`.
        """
        payment = await self._owned(payment_id, user_id)
        if payment.status != S.CREATED:
            return payment
        if self.draft_is_stale(payment):
            await self._cancel_stale_draft(payment, self.now())
            raise DraftExpired(payment.id)
        busy = await self._waiting_payment(payment)
        if busy is not None:
            raise PaymentInProgress(busy)
        if not await self._claim_push(payment):
            busy = await self._waiting_payment(payment)
            if busy is not None:
                raise PaymentInProgress(busy)
            return await Payment.get(id=payment_id)
        try:
            accepted = await self.gateway.stk_push(
                phone=payment.phone,
                amount=payment.amount,
                account_reference=payment.account_reference,
                description=self.description,
                callback_url=self.callback_url,
            )
        except DarajaError as exc:
            if exc.maybe_processed:
                return await self._push_unknown(payment, _error_detail(exc))
            return await self._push_failed(payment, _push_failure_code(exc), exc)
        except ValueError as exc:
            # The client refused to send (a field it could not fit): nothing reached Daraja.
            return await self._push_failed(payment, "push:rejected", exc)
        except Exception as exc:
            # We cannot tell whether the request left: treat it as maybe processed and never
            # push again; a callback or expiry settles it.
            logger.exception("payment #%d: unexpected error during STK push", payment.id)
            return await self._push_unknown(payment, {"error": type(exc).__name__})
        return await self._push_accepted(payment, accepted)

    def draft_is_stale(self, payment: Payment) -> bool:
        """A draft older than `DRAFT_TTL`: `push` would cancel it and raise `DraftExpired`."""
        return payment.status == S.CREATED and payment.created_at < self.now() - DRAFT_TTL

    async def _claim_push(self, payment: Payment) -> bool:
        """created -> pushing; False when another caller (or another waiting payment) won."""
        now = self.now()
        try:
            async with in_transaction() as conn:
                won = await (
                    Payment.filter(id=payment.id, status=S.CREATED)
                    .using_db(conn)
                    .update(status=S.PUSHING, pushed_at=now, updated_at=now)
                )
                if won:
                    await self._event(conn, payment, EventKind.PUSH_REQUESTED, S.CREATED, S.PUSHING)
        except IntegrityError:
            # migrations/0002: the customer or phone already has a payment waiting.
            return False
        return bool(won)

    async def cancel_draft(self, payment_id: int, *, user_id: int) -> Payment:
        """Cancel a draft the user backed out of; any other status is returned unchanged."""
        payment = await self._owned(payment_id, user_id)
        now = self.now()
        async with in_transaction() as conn:
            moved = await (
                Payment.filter(id=payment_id, status=S.CREATED)
                .using_db(conn)
                .update(status=S.CANCELLED, updated_at=now, completed_at=now)
            )
            if moved:
                await self._event(
                    conn, payment, EventKind.CANCELLED, S.CREATED, S.CANCELLED, {"by": "user"}
                )
        return await Payment.get(id=payment_id)

    # ------------------------------------------------------------------ applying a result

    async def apply_result(self, result: StkResult) -> ApplyResult:
        """Apply a callback or query result to its payment exactly once."""
        conn = apply_sql.connection()
        one_statement = apply_sql.supports(conn)
        if one_statement:
            applied = await self._apply_to_pending(conn, result)
            if applied is not None:
                return applied
            payment = await apply_sql.find_by_checkout(conn, result.checkout_request_id)
        else:
            payment = await Payment.get_or_none(checkout_request_id=result.checkout_request_id)
        if payment is None:
            payment = await self._match_orphan(result)
        if payment is None:
            await self._unknown_checkout(result)
            # The push may have stored this CheckoutRequestID meanwhile, and its replay of
            # early callbacks may have looked before our event existed: look once more.
            payment = await Payment.get_or_none(checkout_request_id=result.checkout_request_id)
            if payment is None:
                return ApplyResult(ApplyKind.UNKNOWN_CHECKOUT, None)
            await self._adopt_early_events(result.checkout_request_id, payment.id)
        # A lost race (another caller moved the row first) means: re-read and decide again.
        for attempt in range(5):
            # On the one-statement path the first try does not ask whether the receipt is
            # taken: every plan that a taken receipt would change writes that receipt, so the
            # unique index refuses it (IntegrityError -> False) and the next round decides with
            # the real answer. (SQLite keeps the ORM path and its check-first timing.)
            receipt_taken = False
            if result.receipt and (attempt or not one_statement):
                receipt_taken = await self._receipt_taken(result.receipt, payment.id)
            plan = decide(
                PaymentFacts.of(payment), result, receipt_taken=receipt_taken, now=self.now()
            )
            now = self.now()
            if await self._execute(payment, result, plan, now):
                # What we wrote is what the row now holds: no re-read.
                _apply_changes(payment, plan, now)
                self._log_apply(payment, result, plan)
                return ApplyResult(plan.kind, payment)
            payment = await Payment.get(id=payment.id)
        raise RuntimeError(f"payment #{payment.id}: result kept racing; giving up")

    async def _apply_to_pending(
        self, conn: BaseDBAsyncClient, result: StkResult
    ) -> ApplyResult | None:
        """The common case in one round trip (PostgreSQL): a final result for a pending payment.

        Decides as if the payment were pending, unflagged and asking for the result's amount,
        and lets the statement's WHERE check exactly that; None (nothing written) when the
        stored row is otherwise, or the receipt is taken, and the caller takes the full path.
        """
        item = WaitingItem.assuming_pending(result, self.now())
        if item is None:
            return None
        # Concurrent callers share statements (payments.apply_batch); None when the row is not
        # as assumed or the receipt belongs to another payment (the full path flags that).
        payment = await self._waiting.apply(conn, item)
        if payment is None:
            return None
        self._log_apply(payment, result, item.plan)
        return ApplyResult(item.plan.kind, payment)

    async def _execute(
        self, payment: Payment, result: StkResult, plan: Plan, now: datetime
    ) -> bool:
        """Run a plan in one transaction; False when the row changed under us."""
        try:
            conn = apply_sql.connection()
            if plan.alert is None and apply_sql.supports(conn):
                # PostgreSQL: update, event and outbox row in one statement (no BEGIN/COMMIT).
                return await apply_sql.execute_plan(
                    conn,
                    payment,
                    plan,
                    detail=event_detail(result, plan),
                    raw=result.raw,
                    source=result.source,
                    checkout_request_id=result.checkout_request_id,
                    at=now,
                )
            async with in_transaction() as conn:
                if plan.changes:
                    changed = await (
                        Payment.filter(id=payment.id, **plan.expect)
                        .using_db(conn)
                        .update(**plan.changes, updated_at=now)
                    )
                    if not changed:
                        return False
                await self._event(
                    conn,
                    payment,
                    plan.event,
                    payment.status,
                    plan.to_status,
                    event_detail(result, plan),
                    raw=result.raw,
                    source=result.source,
                    checkout_request_id=result.checkout_request_id,
                )
                if plan.notify is not None:
                    await notify_customer(conn, payment, plan.notify, at=now)
                if plan.alert is not None:
                    await alert_admins(
                        conn, payment, self.admin_chat_ids, plan.alert, plan.alert_detail, at=now
                    )
        except IntegrityError:
            # The receipt went to another payment between our check and our update, or the
            # same alert already exists: decide again from the stored state.
            logger.info("payment #%d: integrity race while applying a result", payment.id)
            return False
        return True

    # ---------------------------------------------------------------------- reconciliation

    async def reconcile_one(self, payment_id: int) -> Payment:
        """Ask Daraja now about one waiting payment and apply what it says."""
        payment = await self.get(payment_id)
        if not self._checkable(payment):
            return payment
        try:
            result = await self.gateway.stk_query(payment.checkout_request_id)
        except (DarajaError, ValueError) as exc:
            await self._event(
                None, payment, EventKind.QUERY_ERROR, detail=_error_detail(exc), source="query"
            )
            await self._schedule_next_check(payment)
            return await self.get(payment_id)
        if result is None:
            await self._event(None, payment, EventKind.QUERY_PENDING, source="query")
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
        candidates = (
            await due.order_by("next_check_at", "id").limit(limit).values_list("id", flat=True)
        )
        processed = 0
        for payment_id in candidates:
            if not await self._lease(payment_id, owner, now, lease_seconds):
                continue
            processed += 1
            try:
                await self.reconcile_one(payment_id)
            except Exception:
                # One bad payment must not stop the others; the lease expires and it is retried.
                logger.exception("payment #%d: reconciliation failed", payment_id)
                continue
            await Payment.filter(id=payment_id, claimed_by=owner).update(
                claimed_by=None, claimed_until=None
            )
        return processed

    async def _lease(
        self, payment_id: int, owner: str, now: datetime, lease_seconds: float
    ) -> bool:
        # A conditional update is the lease: it works the same on SQLite and PostgreSQL, and
        # only one instance's UPDATE can match a free (or expired) claim.
        taken = await (
            Payment.filter(self._checkable_q(now), id=payment_id, next_check_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .update(claimed_by=owner, claimed_until=now + timedelta(seconds=lease_seconds))
        )
        return bool(taken)

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
            async with in_transaction() as conn:
                moved = await (
                    Payment.filter(
                        id=payment.id, status=payment.status, flagged_reason__isnull=True
                    )
                    .using_db(conn)
                    .update(
                        status=S.EXPIRED,
                        completed_at=now,
                        updated_at=now,
                        # Keep asking Daraja (LATE_CHECK_WINDOW) when there is something to ask.
                        next_check_at=(payment.next_check_at or now)
                        if payment.checkout_request_id
                        else None,
                    )
                )
                if not moved:
                    continue
                await self._event(
                    conn,
                    payment,
                    EventKind.EXPIRED,
                    payment.status,
                    S.EXPIRED,
                    {"after_seconds": self.rules.payment_timeout_seconds, "by": "timeout"},
                )
                await notify_customer(conn, payment, NotificationKind.EXPIRED, at=now)
            expired += 1
            logger.info("payment #%d expired without a final answer", payment.id)
        return expired

    async def _cancel_stale_drafts(self, now: datetime) -> None:
        # Abandoned confirmations: nothing was sent, so nobody is told; the bot answers a late
        # Confirm tap with "this confirmation has expired".
        for draft in await Payment.filter(status=S.CREATED, created_at__lt=now - DRAFT_TTL):
            await self._cancel_stale_draft(draft, now)

    async def _cancel_stale_draft(self, draft: Payment, now: datetime) -> None:
        async with in_transaction() as conn:
            moved = await (
                Payment.filter(id=draft.id, status=S.CREATED)
                .using_db(conn)
                .update(status=S.CANCELLED, updated_at=now, completed_at=now)
            )
            if moved:
                await self._event(
                    conn, draft, EventKind.CANCELLED, S.CREATED, S.CANCELLED, {"by": "expired"}
                )
                logger.info("payment #%d: draft expired unconfirmed; cancelled", draft.id)

    async def _unstick_pushes(self, cutoff: datetime, now: datetime) -> None:
        # A push interrupted mid-flight (process killed) leaves `pushing` behind; it may have
        # reached Daraja, so it becomes `unknown` (and then expires like any other).
        stuck = await Payment.filter(status=S.PUSHING, pushed_at__lt=cutoff)
        for payment in stuck:
            async with in_transaction() as conn:
                moved = await (
                    Payment.filter(id=payment.id, status=S.PUSHING)
                    .using_db(conn)
                    .update(status=S.UNKNOWN, updated_at=now)
                )
                if moved:
                    await self._event(
                        conn, payment, EventKind.PUSH_UNKNOWN, S.PUSHING, S.UNKNOWN, {"stuck": True}
                    )

    # -------------------------------------------------------------------------- internals

    async def _owned(self, payment_id: int, user_id: int) -> Payment:
        payment = await Payment.get_or_none(id=payment_id)
        if payment is None or payment.user_id != user_id:
            raise PaymentNotFound(payment_id)
        return payment

    async def _retire_drafts(self, user_id: int, phone: str, now: datetime) -> None:
        """Cancel drafts the new request supersedes: the user's own, and stale ones for phone."""
        drafts = await Payment.filter(
            Q(user_id=user_id) | Q(phone=phone, created_at__lt=now - DRAFT_TTL),
            status=S.CREATED,
        )
        for draft in drafts:
            async with in_transaction() as conn:
                moved = await (
                    Payment.filter(id=draft.id, status=S.CREATED)
                    .using_db(conn)
                    .update(status=S.CANCELLED, updated_at=now, completed_at=now)
                )
                if moved:
                    reason = "superseded" if draft.user_id == user_id else "abandoned"
                    await self._event(
                        conn, draft, EventKind.CANCELLED, S.CREATED, S.CANCELLED, {"by": reason}
                    )

    async def _open_payment(self, user_id: int, phone: str) -> Payment | None:
        return (
            await Payment.filter(
                Q(user_id=user_id) | Q(phone=phone),
                status__in=list(OPEN_STATES),
                flagged_reason__isnull=True,
            )
            .order_by("-id")
            .first()
        )

    async def _waiting_payment(self, payment: Payment) -> Payment | None:
        return (
            await Payment.filter(
                Q(user_id=payment.user_id) | Q(phone=payment.phone),
                status__in=list(WAITING_STATES),
                flagged_reason__isnull=True,
            )
            .exclude(id=payment.id)
            .order_by("-id")
            .first()
        )

    async def _check_push_limit(self, user_id: int, now: datetime) -> None:
        limit = self.rules.push_limit_per_hour
        window_start = now - timedelta(hours=1)
        pushes = await (
            Payment.filter(user_id=user_id, pushed_at__gt=window_start)
            .order_by("pushed_at")
            .values_list("pushed_at", flat=True)
        )
        if len(pushes) < limit:
            return
        # The window frees up when the oldest push that still counts turns an hour old.
        oldest_counting = pushes[len(pushes) - limit]
        wait = (oldest_counting + timedelta(hours=1) - now).total_seconds()
        raise PushLimitExceeded(max(1, math.ceil(wait)))

    async def _push_accepted(self, payment: Payment, accepted: PushAccepted) -> Payment:
        now = self.now()
        ids = {
            "merchant_request_id": accepted.merchant_request_id,
            "checkout_request_id": accepted.checkout_request_id,
        }
        async with in_transaction() as conn:
            moved = await (
                Payment.filter(id=payment.id, status=S.PUSHING)
                .using_db(conn)
                .update(
                    **ids,
                    status=S.PENDING,
                    next_check_at=now + timedelta(seconds=self.rules.reconcile_after_seconds),
                    updated_at=now,
                )
            )
            if not moved:
                # The answer came so late that the payment was already given up as unknown
                # (or matched to its callback): keep the ids so a query can still settle it.
                moved = await (
                    Payment.filter(id=payment.id, checkout_request_id__isnull=True)
                    .using_db(conn)
                    .update(**ids, updated_at=now)
                )
            if moved:
                await self._event(
                    conn,
                    payment,
                    EventKind.PUSHED,
                    S.PUSHING,
                    S.PENDING if payment.status is S.CREATED else None,
                    {
                        "merchant_request_id": accepted.merchant_request_id,
                        "customer_message": accepted.customer_message,
                    },
                    checkout_request_id=accepted.checkout_request_id,
                    source="push",
                )
        logger.info(
            "payment #%d pushed to %s: %s",
            payment.id,
            mask_phone(payment.phone),
            mask_checkout_id(accepted.checkout_request_id),
        )
        await self._replay_early_callbacks(accepted.checkout_request_id)
        return await Payment.get(id=payment.id)

    async def _push_failed(self, payment: Payment, code: str, exc: Exception) -> Payment:
        now = self.now()
        async with in_transaction() as conn:
            moved = await (
                Payment.filter(id=payment.id, status=S.PUSHING)
                .using_db(conn)
                .update(
                    status=S.PUSH_FAILED,
                    result_code=code,
                    result_desc=str(getattr(exc, "message", exc))[:255],
                    completed_at=now,
                    updated_at=now,
                )
            )
            if moved:
                await self._event(
                    conn,
                    payment,
                    EventKind.PUSH_FAILED,
                    S.PUSHING,
                    S.PUSH_FAILED,
                    {"code": code, **_error_detail(exc)},
                    source="push",
                )
                await notify_customer(conn, payment, NotificationKind.PUSH_FAILED, at=now)
        logger.warning("payment #%d: push failed (%s)", payment.id, code)
        return await Payment.get(id=payment.id)

    async def _push_unknown(self, payment: Payment, detail: dict[str, Any]) -> Payment:
        now = self.now()
        async with in_transaction() as conn:
            moved = await (
                Payment.filter(id=payment.id, status=S.PUSHING)
                .using_db(conn)
                .update(status=S.UNKNOWN, updated_at=now)
            )
            if moved:
                await self._event(
                    conn,
                    payment,
                    EventKind.PUSH_UNKNOWN,
                    S.PUSHING,
                    S.UNKNOWN,
                    detail,
                    source="push",
                )
        logger.warning("payment #%d: push outcome unknown; waiting, never re-pushing", payment.id)
        return await Payment.get(id=payment.id)

    async def _replay_early_callbacks(self, checkout_request_id: str) -> None:
        """Callbacks that beat the push's own answer were stored as unknown: apply them now."""
        early = await PaymentEvent.filter(
            kind=EventKind.UNKNOWN_CHECKOUT,
            checkout_request_id=checkout_request_id,
            payment_id__isnull=True,
        ).order_by("id")
        from daraja.callbacks import parse_stk_callback

        for event in early:
            if not event.raw_body:
                continue
            try:
                result = parse_stk_callback(event.raw_body)
            except ValueError:
                continue
            applied = await self.apply_result(result)
            if applied.payment is not None:
                await self._adopt_early_events(checkout_request_id, applied.payment.id)

    @staticmethod
    async def _adopt_early_events(checkout_request_id: str, payment_id: int) -> None:
        """Put callbacks stored as unknown into the timeline of the payment they belong to."""
        await PaymentEvent.filter(
            kind=EventKind.UNKNOWN_CHECKOUT,
            checkout_request_id=checkout_request_id,
            payment_id__isnull=True,
        ).update(payment_id=payment_id)

    async def _match_orphan(self, result: StkResult) -> Payment | None:
        """A success for a push whose answer we never got: match by phone and amount.

        The push is still in flight (`pushing`: the callback beat a slow answer) or timed out
        (`unknown`, perhaps since `expired`). Only an unambiguous match is taken.
        """
        if not result.is_success or not result.phone or result.amount is None:
            return None
        try:
            msisdn = normalize_phone(result.phone)
        except InvalidPhone:
            return None
        since = self.now() - ORPHAN_MATCH_WINDOW
        candidates = await Payment.filter(
            status__in=[S.PUSHING, S.UNKNOWN, S.EXPIRED],
            checkout_request_id__isnull=True,
            phone=msisdn,
            amount=result.amount,
            pushed_at__gte=since,
        ).limit(2)
        if len(candidates) != 1:
            return None
        payment = candidates[0]
        ids = {
            "checkout_request_id": result.checkout_request_id,
            "merchant_request_id": result.merchant_request_id,
        }
        now = self.now()
        try:
            async with in_transaction() as conn:
                query = Payment.filter(
                    id=payment.id, status=payment.status, checkout_request_id__isnull=True
                ).using_db(conn)
                if payment.status is S.PUSHING:
                    # The prompt is evidently out; whatever the push call later returns, it
                    # finds the row no longer `pushing` and leaves it alone.
                    attached = await query.update(**ids, status=S.UNKNOWN, updated_at=now)
                else:
                    attached = await query.update(**ids, updated_at=now)
                if attached:
                    await self._event(
                        conn,
                        payment,
                        EventKind.PUSH_UNKNOWN,
                        payment.status,
                        S.UNKNOWN if payment.status is S.PUSHING else None,
                        {"matched_by": "phone_and_amount"},
                        checkout_request_id=result.checkout_request_id,
                        source=result.source,
                    )
        except IntegrityError:
            attached = 0
        if not attached:
            return await Payment.get_or_none(checkout_request_id=result.checkout_request_id)
        return await Payment.get(id=payment.id)

    async def _unknown_checkout(self, result: StkResult) -> None:
        async with in_transaction() as conn:
            await PaymentEvent.create(
                payment=None,
                checkout_request_id=result.checkout_request_id,
                kind=EventKind.UNKNOWN_CHECKOUT,
                detail={"result_code": result.result_code, "result_desc": result.result_desc},
                raw_body=result.raw,
                source=result.source,
                created_at=self.now(),
                using_db=conn,
            )
        logger.warning(
            "%s for unknown CheckoutRequestID %s (code %s) stored",
            result.source,
            mask_checkout_id(result.checkout_request_id),
            result.result_code,
        )

    async def _receipt_taken(self, receipt: str, payment_id: int) -> bool:
        return await Payment.filter(receipt=receipt).exclude(id=payment_id).exists()

    async def _schedule_next_check(self, payment: Payment) -> None:
        now = self.now()
        base = max(self.rules.reconcile_after_seconds, 1.0)
        delay = min(base * 2 ** min(payment.check_attempts, 10), MAX_CHECK_INTERVAL_SECONDS)
        await Payment.filter(self._checkable_q(now), id=payment.id).update(
            next_check_at=now + timedelta(seconds=delay),
            check_attempts=F("check_attempts") + 1,
            updated_at=now,
        )

    async def _event(
        self,
        conn: Any,
        payment: Payment | None,
        kind: str,
        from_status: PaymentStatus | None = None,
        to_status: PaymentStatus | None = None,
        detail: dict[str, Any] | None = None,
        *,
        raw: dict[str, Any] | None = None,
        source: str = "service",
        checkout_request_id: str | None = None,
    ) -> PaymentEvent:
        return await record_event(
            conn,
            payment,
            kind,
            at=self.now(),
            from_status=from_status,
            to_status=to_status,
            detail=detail,
            raw=raw,
            source=source,
            checkout_request_id=checkout_request_id,
        )

    def _log_apply(self, payment: Payment, result: StkResult, plan: Plan) -> None:
        logger.info(
            "payment #%d: %s %s (code %s) -> %s [%s]",
            payment.id,
            result.source,
            mask_checkout_id(result.checkout_request_id),
            result.result_code,
            payment.status,
            plan.kind,
        )


def _apply_changes(payment: Payment, plan: Plan, now: datetime) -> None:
    """Mirror a successful plan's update on the in-memory row (as a re-read would show it)."""
    if not plan.changes:
        return
    for name, value in plan.changes.items():
        # The database hands datetimes back in UTC; so must we (Daraja's are EAT-aware).
        if isinstance(value, datetime):
            value = value.astimezone(UTC)
        setattr(payment, name, value)
    payment.updated_at = now


def _error_detail(exc: BaseException) -> dict[str, Any]:
    detail: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)[:500]}
    for name in ("code", "http_status", "request_id", "field"):
        value = getattr(exc, name, None)
        if value is not None:
            detail[name] = value
    return detail


def _push_failure_code(exc: DarajaError) -> str:
    """A stable code for a refused push; the bot picks the customer's words from it."""
    if isinstance(exc, InvalidRequest):
        if exc.field in {"PartyA", "PhoneNumber"}:
            return "push:invalid_phone"
        if exc.field == "Amount":
            return "push:invalid_amount"
        return "push:rejected"
    if isinstance(exc, SubscriberLocked):
        return "push:subscriber_locked"
    if isinstance(exc, RateLimited):
        return "push:rate_limited"
    return "push:unavailable"
