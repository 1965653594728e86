"""Drafts and pushes: a payment is created as a draft, then its STK prompt is sent once.

* A user's own `created` drafts are superseded (cancelled) when they start a new payment, and
  anyone's draft older than `DRAFT_TTL` no longer blocks the phone: an abandoned confirmation
  never locks a customer out.
* A draft older than `DRAFT_TTL` is never pushed: `push` cancels it and raises `DraftExpired`.
* created -> pushing is a conditional update: one push however often `push` (or `claim_push`)
  is called, and the database's partial unique indexes allow one waiting payment per user and
  per phone. Only the caller whose claim moved the row sends the prompt (`send_push`), so the
  bot can claim while handling the tap and send in the background.
* A push that may have reached M-Pesa (`PushUncertain`, or any unexpected error) is never
  repeated: the payment becomes `unknown` and waits for a callback (matched by phone and amount
  if need be), a query, or expiry.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any, cast

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from daraja.masking import mask_checkout_id
from daraja.types import PushAccepted
from payments.accounts import new_account_number
from payments.base import ServiceBase
from payments.errors import DraftExpired, PaymentInProgress, PushLimitExceeded
from payments.models import EventKind, NotificationKind, Payment
from payments.moves import Move
from payments.ports import PushRefused, PushUncertain
from payments.rules import mask_phone, normalize_phone, parse_amount
from payments.states import OPEN_STATES, WAITING_STATES, PaymentStatus

logger = logging.getLogger(__name__)

S = PaymentStatus

#: A draft (confirmation not yet tapped) older than this no longer blocks anyone, is never
#: pushed (a days-old Confirm button must not send a PIN prompt) and is cancelled.
DRAFT_TTL = timedelta(minutes=5)
ACCOUNT_NUMBER_TRIES = 5


class Pushes(ServiceBase):
    async def create_payment(
        self,
        *,
        user_id: int,
        chat_id: int,
        language: str,
        amount: int | str,
        phone: str,
        account_reference: str | None = None,
        customer_name: str | None = None,
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
        await self._check_phone_limit(msisdn, now)
        fields = {
            "user_id": user_id,
            "chat_id": chat_id,
            "language": language,
            "amount": value,
            "phone": msisdn,
            "account_reference": account_reference or self.account_reference,
            "customer_name": (customer_name or "")[:64] or None,
        }
        for attempt in range(ACCOUNT_NUMBER_TRIES):
            try:
                payment = await self.store.create(
                    {**fields, "account_number": new_account_number()}, at=now
                )
                break
            except IntegrityError:
                # Two payments drew the same account number: draw again.
                if attempt == ACCOUNT_NUMBER_TRIES - 1:
                    raise
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
        customer_name: str | None = None,
    ) -> Payment:
        """`create_payment` then `push`."""
        payment = await self.create_payment(
            user_id=user_id,
            chat_id=chat_id,
            language=language,
            amount=amount,
            phone=phone,
            account_reference=account_reference,
            customer_name=customer_name,
        )
        return await self.push(payment.id, user_id=user_id)

    async def push(self, payment_id: int, *, user_id: int) -> Payment:
        """Send the STK prompt for a draft, once however often this is called.

        `claim_push` then `send_push`, in one go. Raises `DraftExpired` (after cancelling it)
        for a draft older than `DRAFT_TTL`.
        """
        claimed = await self.claim_push(payment_id, user_id=user_id)
        if claimed is None:
            return await self._fresh(payment_id)
        return await self.send_push(claimed)

    async def claim_push(self, payment_id: int, *, user_id: int) -> Payment | None:
        """created -> pushing: the draft, now the caller's to `send_push`, and nobody else's.

        None when it is no longer a draft (pushed already by an earlier tap or another
        instance, or cancelled): read it again to see. Raises `DraftExpired` (after cancelling
        it) for a draft older than `DRAFT_TTL`, `PaymentInProgress` while another payment of
        the user or the phone may have a prompt out. Only database work: a caller can claim in
        the update handler and send later, elsewhere; if the process dies in between, the
        payment waits in `pushing` and the reconciler treats it as a push that may have left.
        """
        payment = await self._owned(payment_id, user_id)
        if payment.status != S.CREATED:
            return None
        if self.draft_is_stale(payment):
            await self._cancel_draft(payment, self.now(), by="expired")
            raise DraftExpired(payment.id)
        busy = await self._waiting_payment(payment)
        if busy is not None:
            raise PaymentInProgress(busy)
        await self._check_phone_limit(payment.phone, self.now())
        claimed = await self._claim_push(payment)
        if claimed is None:
            busy = await self._waiting_payment(payment)
            if busy is not None:
                raise PaymentInProgress(busy)
        return claimed

    async def send_push(self, claimed: Payment) -> Payment:
        """Ask Daraja for the prompt of a payment `claim_push` gave the caller; never twice.

        Whatever happens is recorded as a move (pending, push_failed with the customer's
        message in the outbox, or unknown); the fresh payment is returned.
        """
        try:
            accepted = await self.gateway.stk_push(
                phone=claimed.phone,
                amount=claimed.amount,
                # The payment's own account number: the C2B confirmation of this payment
                # carries it back as BillRefNumber (docs/DARAJA.md §11.6).
                account_reference=claimed.account_number or claimed.account_reference,
                description=self.description,
                callback_url=self.callback_url,
            )
        except PushRefused as exc:
            return await self._push_failed(claimed, exc)
        except PushUncertain as exc:
            return await self._push_unknown(claimed, exc.detail)
        except Exception as exc:
            # We cannot tell whether the request left: treat it as maybe processed and never
            # push again; a callback, a query or expiry settles it.
            logger.exception("payment #%d: unexpected error during STK push", claimed.id)
            return await self._push_unknown(claimed, {"error": type(exc).__name__})
        return await self._push_accepted(claimed, accepted)

    def draft_is_stale(self, payment: Payment) -> bool:
        """A draft older than `DRAFT_TTL`: `push` would cancel it and raise `DraftExpired`."""
        return payment.status == S.CREATED and payment.created_at < self.now() - DRAFT_TTL

    async def cancel_draft(self, payment_id: int, *, user_id: int) -> Payment:
        """Cancel a draft the user backed out of; any other status is returned unchanged."""
        payment = await self._owned(payment_id, user_id)
        if payment.status == S.CREATED:
            await self._cancel_draft(payment, self.now(), by="user")
        return await self._fresh(payment_id)

    async def _claim_push(self, payment: Payment) -> Payment | None:
        """created -> pushing; None when another caller (or another waiting payment) won."""
        now = self.now()
        return await self.perform(
            Move(
                EventKind.PUSH_REQUESTED,
                S.CREATED,
                S.PUSHING,
                payment=payment,
                changes={"pushed_at": now},
                at=now,
            )
        )

    async def _retire_drafts(self, user_id: int, phone: str, now: datetime) -> None:
        """Cancel drafts the new request supersedes: the user's own, and stale ones for phone."""
        drafts = await Payment.filter(
            Q(user_id=user_id) | Q(phone=phone, created_at__lt=now - DRAFT_TTL),
            status=S.CREATED,
        )
        for draft in drafts:
            await self._cancel_draft(
                draft, now, by="superseded" if draft.user_id == user_id else "abandoned"
            )

    async def _open_payment(self, user_id: int, phone: str) -> Payment | None:
        """The user's own open payment, or one whose prompt may be on this phone.

        Only a sent push (pushing, pending, unknown) holds a phone: another user's unconfirmed
        draft never locks a number out of the bot."""
        return (
            await Payment.filter(
                Q(user_id=user_id, status__in=list(OPEN_STATES))
                | Q(phone=phone, status__in=list(WAITING_STATES)),
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
        """Payments one user may start per hour; drafts count (they cost the bot messages)."""
        started = await _within_the_hour(now, "created_at", user_id=user_id)
        _refuse_over(started, self.rules.push_limit_per_hour, now, per="user")

    async def _check_phone_limit(self, phone: str, now: datetime) -> None:
        """PIN prompts one phone may receive per hour, whoever asked for them."""
        prompts = await _within_the_hour(now, "pushed_at", phone=phone)
        _refuse_over(prompts, self.rules.push_limit_per_phone_per_hour, now, per="phone")

    async def _push_accepted(self, payment: Payment, accepted: PushAccepted) -> Payment:
        now = self.now()
        ids = {
            "merchant_request_id": accepted.merchant_request_id,
            "checkout_request_id": accepted.checkout_request_id,
        }
        detail = {
            "merchant_request_id": accepted.merchant_request_id,
            "customer_message": accepted.customer_message,
        }
        moved = await self.perform(
            Move(
                EventKind.PUSHED,
                S.PUSHING,
                S.PENDING,
                payment=payment,
                changes={
                    **ids,
                    "next_check_at": now + timedelta(seconds=self.rules.reconcile_after_seconds),
                },
                at=now,
                detail=detail,
                source="push",
            )
        )
        if moved is None:
            # The answer came so late that the payment was already given up as unknown (or
            # matched to its callback): keep the ids so a query can still settle it; the
            # status stays whatever it is now.
            await self._keep_ids(payment.id, ids, detail, now)
        logger.info(
            "payment #%d pushed to %s: %s",
            payment.id,
            mask_phone(payment.phone),
            mask_checkout_id(accepted.checkout_request_id),
        )
        await self._replay_early_callbacks(accepted.checkout_request_id)
        return await self._fresh(payment.id)

    async def _keep_ids(
        self, payment_id: int, ids: dict[str, str], detail: dict[str, Any], now: datetime
    ) -> None:
        for _ in range(3):
            current = await self._fresh(payment_id)
            if current.checkout_request_id is not None:
                return
            moved = await self.perform(
                Move(
                    EventKind.PUSHED,
                    PaymentStatus(current.status),
                    payment=current,
                    expect={"checkout_request_id__isnull": True},
                    changes=ids,
                    at=now,
                    detail=detail,
                    source="push",
                )
            )
            if moved is not None:
                return

    async def _push_failed(self, payment: Payment, exc: PushRefused) -> Payment:
        now = self.now()
        await self.perform(
            Move(
                EventKind.PUSH_FAILED,
                S.PUSHING,
                S.PUSH_FAILED,
                payment=payment,
                changes={
                    "result_code": exc.code,
                    "result_desc": str(exc)[:255],
                    "completed_at": now,
                },
                at=now,
                detail=exc.detail,
                source="push",
                notify=NotificationKind.PUSH_FAILED,
            )
        )
        logger.warning("payment #%d: push failed (%s)", payment.id, exc.code)
        return await self._fresh(payment.id)

    async def _push_unknown(self, payment: Payment, detail: dict[str, Any]) -> Payment:
        now = self.now()
        await self.perform(
            Move(
                EventKind.PUSH_UNKNOWN,
                S.PUSHING,
                S.UNKNOWN,
                payment=payment,
                at=now,
                detail=detail,
                source="push",
            )
        )
        logger.warning("payment #%d: push outcome unknown; waiting, never re-pushing", payment.id)
        return await self._fresh(payment.id)


async def _within_the_hour(now: datetime, field: str, **match: object) -> list[datetime]:
    """The times in `field` of the matching payments in the hour before `now`, oldest first."""
    since = {f"{field}__gt": now - timedelta(hours=1)}
    return cast(
        "list[datetime]",
        await Payment.filter(**match, **since).order_by(field).values_list(field, flat=True),
    )


def _refuse_over(times: list[datetime], limit: int, now: datetime, *, per: str) -> None:
    if len(times) < limit:
        return
    # The window frees up when the oldest one that still counts turns an hour old.
    oldest_counting = times[len(times) - limit]
    wait = (oldest_counting + timedelta(hours=1) - now).total_seconds()
    raise PushLimitExceeded(max(1, math.ceil(wait)), per=per)
