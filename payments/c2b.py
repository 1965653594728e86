"""C2B confirmations as a second source of truth: menu payments, and STK payments seen again.

A confirmation is matched to a payment by, in order: its TransID (= the receipt of a payment an
STK callback already settled), its BillRefNumber (= a payment's own account number, in any
case, with spaces or dashes), and — only when exactly one payment fits — the payer's number
(masked or hashed, `daraja.c2b`) with the amount, among payments of the last day that are still
unpaid. What it then does is `payments.results.decide_c2b`, performed as a `Move` like any
callback: so an STK callback and the C2B confirmation of one payment, in either order, make one
payment and one customer message (the second is a duplicate by receipt); a lost STK callback is
replaced by the confirmation, receipt included; an amount other than the one asked is flagged.

Every confirmation is stored once per TransID (`payments.models.C2BPayment`). One that names no
payment (a walk-in customer, a mistyped account number, a second payment for a paid one) is kept
as unmatched and announced to every admin; an admin attaches it to a payment (`attach_c2b`).
Nothing is dropped, and no full phone number the body brought is kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal

from daraja.c2b import C2BPayment as C2BBody
from daraja.c2b import Msisdn, MsisdnForm, PhoneMatch, Rejection, normalise_account
from daraja.types import StkResult
from payments.base import ServiceBase
from payments.errors import C2BNotAttachable, PaymentNotFound
from payments.models import C2BPayment, C2BStatus, EventKind, Payment
from payments.moves import Move
from payments.results import ApplyKind, PaymentFacts, decide_c2b
from payments.states import PaymentStatus
from payments.stores import c2b as c2b_store

logger = logging.getLogger(__name__)

S = PaymentStatus
ValidationMode = Literal["off", "accept", "strict"]

#: How far back a confirmation without a known account number may match by phone and amount.
PHONE_MATCH_WINDOW = timedelta(hours=24)
#: Unpaid payments a menu payment may be for (a draft is cancelled first: it never went out).
_PAYABLE = [S.CREATED, S.PENDING, S.UNKNOWN, S.EXPIRED, S.FAILED, S.CANCELLED, S.PUSH_FAILED]
#: Decisions that tie the confirmation to its payment; others leave it for the admins.
_MATCHED_KINDS = frozenset(
    {
        ApplyKind.APPLIED,
        ApplyKind.DUPLICATE,
        ApplyKind.DETAILS,
        ApplyKind.AMOUNT_MISMATCH,
        ApplyKind.RECEIPT_CONFLICT,
    }
)


@dataclass(frozen=True, slots=True)
class C2BApplied:
    kind: ApplyKind
    payment: Payment | None
    c2b_id: int | None
    matched_by: str = ""


class C2BSettlement(ServiceBase):
    async def apply_c2b(self, body: C2BBody) -> C2BApplied:
        """Apply one C2B confirmation exactly once (by TransID)."""
        stored = await c2b_store.by_trans_id(body.trans_id)
        if stored is not None:
            logger.info("C2B %s again: duplicate, nothing to do", body.trans_id)
            return C2BApplied(ApplyKind.DUPLICATE, None, stored.id)
        payment, matched_by = await self._match(body)
        if payment is None:
            return await self._unmatched(body, "no_account" if body.bill_ref else "no_reference")
        kind, moved = await self._settle(payment, body, matched_by=matched_by)
        # "The same answer again" only when it is the same money: another receipt for this
        # payment (say a flagged one) is a second payment, for the admins.
        second = kind is ApplyKind.DUPLICATE and moved.receipt != body.trans_id
        if kind not in _MATCHED_KINDS or second:
            # A second payment for a paid one, or one the admins already hold: theirs to sort.
            if moved.flagged_reason:
                note = "payment_flagged"
            elif moved.status == S.PAID:
                note = "second_payment"
            else:
                note = f"payment_{moved.status}"
            return await self._unmatched(body, note, payment=moved)
        row = await c2b_store.insert(
            body,
            status=C2BStatus.MATCHED,
            note=matched_by if kind is not ApplyKind.AMOUNT_MISMATCH else str(kind),
            payment_id=moved.id,
            at=self.now(),
        )
        logger.info(
            "C2B %s (KES %d) -> payment #%d by %s: %s",
            body.trans_id,
            body.amount,
            moved.id,
            matched_by,
            kind,
        )
        return C2BApplied(kind, moved, row.id if row else None, matched_by)

    async def validate_c2b(self, body: C2BBody, mode: ValidationMode) -> Rejection | None:
        """What to answer a validation request: None accepts. Only `strict` ever refuses:
        an account number that is none of ours (or is paid), or an amount other than asked."""
        payment, _ = await self._match(body, by_phone=False)
        await self.store.record(
            payment.id if payment is not None else None,
            EventKind.C2B_VALIDATION,
            at=self.now(),
            detail={"trans_id": body.trans_id, "amount": body.amount, "mode": mode},
            raw=body.raw,
            source="c2b",
        )
        if mode != "strict":
            return None
        if payment is None or payment.status == S.PAID or payment.flagged_reason:
            return Rejection.INVALID_ACCOUNT
        if body.amount != payment.amount:
            return Rejection.INVALID_AMOUNT
        return None

    async def unmatched_c2b(self, limit: int = 20) -> list[C2BPayment]:
        """C2B payments waiting for an admin, newest first."""
        return await C2BPayment.filter(status=C2BStatus.UNMATCHED).order_by("-id").limit(limit)

    async def attach_c2b(self, c2b_id: int, payment_id: int, *, admin_id: int) -> C2BApplied:
        """An admin says this unmatched C2B payment is that payment's money."""
        row = await C2BPayment.get_or_none(id=c2b_id)
        if row is None:
            raise C2BNotAttachable("no such C2B payment")
        if row.status != C2BStatus.UNMATCHED:
            raise C2BNotAttachable(f"it is {row.status} already")
        payment = await self.store.by_id(payment_id)
        if payment is None:
            raise PaymentNotFound(payment_id)
        body = _body_of(row)
        kind, moved = await self._settle(payment, body, matched_by=f"admin {admin_id}")
        if kind not in _MATCHED_KINDS or kind is ApplyKind.DUPLICATE:
            raise C2BNotAttachable(f"payment #{payment_id} is {moved.status} ({kind})")
        if not await c2b_store.attach(c2b_id, moved.id, by=admin_id, at=self.now()):
            raise C2BNotAttachable("someone attached it meanwhile")
        await self.store.record(
            moved.id,
            EventKind.ATTACHED,
            at=self.now(),
            detail={"c2b_id": c2b_id, "trans_id": row.trans_id, "by": admin_id},
            source="admin",
        )
        return C2BApplied(kind, moved, c2b_id, "admin")

    # ------------------------------------------------------------------ matching

    async def _match(self, body: C2BBody, *, by_phone: bool = True) -> tuple[Payment | None, str]:
        by_receipt = await Payment.get_or_none(receipt=body.trans_id)
        if by_receipt is not None:
            return by_receipt, "receipt"
        account = normalise_account(body.bill_ref)
        if account and len(account) <= 12:
            by_account = await Payment.get_or_none(account_number=account)
            if by_account is not None:
                return by_account, "account_number"
        if not by_phone:
            return None, ""
        since = self.now() - PHONE_MATCH_WINDOW
        candidates = await Payment.filter(
            status__in=_PAYABLE,
            receipt__isnull=True,
            flagged_reason__isnull=True,
            amount=body.amount,
            created_at__gte=since,
        ).order_by("-id")
        fitting = [p for p in candidates if body.phone_match(p.phone) is PhoneMatch.SAME]
        if len(fitting) == 1:
            return fitting[0], "phone_and_amount"
        return None, ""

    async def _settle(
        self, payment: Payment, body: C2BBody, *, matched_by: str
    ) -> tuple[ApplyKind, Payment]:
        if payment.status == S.CREATED:
            # The customer paid from the menu instead of confirming: the draft never went out.
            await self._cancel_draft(payment, self.now(), by="menu_payment")
            payment = await self._fresh(payment.id)
        result = _as_result(body, payment)
        for attempt in range(5):
            receipt_taken = (
                attempt > 0
                and await Payment.filter(receipt=body.trans_id).exclude(id=payment.id).exists()
            )
            now = self.now()
            plan = decide_c2b(
                PaymentFacts.of(payment), result, receipt_taken=receipt_taken, now=now
            )
            move = plan.move(
                result,
                at=now,
                payment=payment,
                alert_chat_ids=self.admin_chat_ids,
                announce_chat_ids=self.announce_chat_ids,
            )
            move = _with_c2b_detail(move, body, payment, matched_by)
            moved = await self.perform(move)
            if moved is not None:
                return plan.kind, moved
            payment = await self._fresh(payment.id)
        raise RuntimeError(f"payment #{payment.id}: C2B {body.trans_id} kept racing; giving up")

    async def _unmatched(
        self, body: C2BBody, note: str, *, payment: Payment | None = None
    ) -> C2BApplied:
        detail: dict[str, Any] = {
            "trans_id": body.trans_id,
            "amount": body.amount,
            "account": body.bill_ref[:64],
            "payer": body.msisdn.masked or "-",
            "name": body.first_name[:64],
            "why": note,
        }
        if payment is not None:
            detail["payment_id"] = payment.id
        row = await c2b_store.insert(
            body,
            status=C2BStatus.UNMATCHED,
            note=note,
            payment_id=payment.id if payment is not None else None,
            at=self.now(),
            alert_chat_ids=self.admin_chat_ids,
            alert_detail=detail,
        )
        if row is None:
            return C2BApplied(ApplyKind.DUPLICATE, payment, None)
        logger.warning(
            "C2B %s (KES %d, account %r) matched no payment (%s): kept for the admins as #%d",
            body.trans_id,
            body.amount,
            body.bill_ref[:20],
            note,
            row.id,
        )
        return C2BApplied(ApplyKind.UNMATCHED, payment, row.id)


def _as_result(body: C2BBody, payment: Payment) -> StkResult:
    """The confirmation as a success result for `payment` (C2B is always money that moved)."""
    return StkResult(
        merchant_request_id=payment.merchant_request_id or "",
        checkout_request_id=payment.checkout_request_id or "",
        result_code="0",
        result_desc="C2B confirmation",
        source="c2b",
        amount=body.amount,
        receipt=body.trans_id,
        transaction_date=body.trans_time,
        raw=body.raw,
    )


def _with_c2b_detail(move: Move, body: C2BBody, payment: Payment, matched_by: str) -> Move:
    detail = {
        **(move.detail or {}),
        "matched_by": matched_by,
        "account": body.bill_ref[:64],
        # Compared without keeping the number: same, different, or unknown (none sent).
        "phone": str(body.phone_match(payment.phone)),
    }
    return replace(move, detail=detail)


def _body_of(row: C2BPayment) -> C2BBody:
    """A stored confirmation as the parser would give it (for `/attach`)."""
    msisdn = Msisdn(
        MsisdnForm.HASHED if row.msisdn_hash else MsisdnForm.MASKED,
        masked=row.msisdn_masked,
        digest=row.msisdn_hash,
    )
    assert row.trans_time is not None
    return C2BBody(
        trans_id=row.trans_id,
        trans_time=row.trans_time,
        amount=row.amount,
        shortcode=row.shortcode,
        bill_ref=row.bill_ref,
        msisdn=msisdn,
        first_name=row.first_name,
        raw=row.raw_body if isinstance(row.raw_body, dict) else None,
    )
