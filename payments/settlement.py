"""Applying M-Pesa's answer (a callback or a query result) to its payment, exactly once.

What a result does is decided by `payments.results.decide` from the stored row; here it is
found and performed. The common case — a final answer for a pending payment — is written
without reading the row first (`results.assumed_move`: the move's conditions check the
assumptions). Otherwise the row is read, decided, performed, and on a lost race re-read and
decided again.

* A success whose amount differs from what we asked, or whose receipt already belongs to another
  payment, is not marked paid: the payment keeps its status with `flagged_reason` set, stops
  being reconciled or expired, no longer blocks the customer, and every admin gets an alert.
* Once Daraja gave a final answer, a different later answer is a `conflict`: recorded, never
  applied, never a second customer message. The exception is a success after an expiry (ours or
  Daraja's 1019/1037): money moved, so the payment becomes paid and the customer hears so.
* A success for a CheckoutRequestID we do not know may belong to a push whose answer never
  reached us: it is matched by phone and amount when exactly one such push exists.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from daraja.callbacks import parse_stk_callback
from daraja.masking import mask_checkout_id
from daraja.types import StkResult
from payments.base import ServiceBase
from payments.errors import InvalidPhone
from payments.models import EventKind, Payment, PaymentEvent
from payments.moves import Move
from payments.results import ApplyKind, ApplyResult, PaymentFacts, Plan, assumed_move, decide
from payments.rules import mask_phone, normalize_phone, normalize_receipt
from payments.states import PaymentStatus

logger = logging.getLogger(__name__)

S = PaymentStatus

#: How far back a success callback for an unknown CheckoutRequestID may match a push whose
#: answer we never got (so we never learnt its CheckoutRequestID).
ORPHAN_MATCH_WINDOW = timedelta(hours=24)


class Settlement(ServiceBase):
    async def apply_result(self, result: StkResult) -> ApplyResult:
        """Apply a callback or query result to its payment exactly once."""
        if result.receipt and result.receipt != normalize_receipt(result.receipt):
            # Stored, compared, logged and shown in one form (receipts ignore case).
            result = replace(result, receipt=normalize_receipt(result.receipt))
        move = assumed_move(result, self.now(), announce_chat_ids=self.announce_chat_ids)
        if move is not None:
            # None when the row is not as assumed, or the receipt belongs to another payment
            # (nothing written; the full path below finds out and flags it).
            moved = await self.perform(move)
            if moved is not None:
                self._log_apply(moved, result, ApplyKind.APPLIED)
                return ApplyResult(ApplyKind.APPLIED, moved)
        payment = await self.store.by_checkout(result.checkout_request_id)
        if payment is None:
            payment = await self._match_orphan(result)
        if payment is None:
            first_time = await self._unknown_checkout(result)
            # The push may have stored this CheckoutRequestID meanwhile, and its replay of
            # early callbacks may have looked before our event existed: look once more.
            payment = await self.store.by_checkout(result.checkout_request_id)
            if payment is None:
                if first_time and result.is_success:
                    await self._alert_unmatched(result)
                return ApplyResult(ApplyKind.UNKNOWN_CHECKOUT, None)
            await self.store.adopt_events(result.checkout_request_id, payment.id)
        return await self._decide_and_perform(payment, result)

    async def _decide_and_perform(self, payment: Payment, result: StkResult) -> ApplyResult:
        # A lost race (another caller moved the row first) means: re-read and decide again.
        for attempt in range(5):
            # The first try does not ask whether the receipt is taken: every plan that a taken
            # receipt would change writes that receipt, so the unique index refuses it (the
            # move writes nothing) and the next round decides with the real answer.
            receipt_taken = False
            if result.receipt and attempt:
                receipt_taken = await self._receipt_taken(result.receipt, payment.id)
            now = self.now()
            plan = decide(PaymentFacts.of(payment), result, receipt_taken=receipt_taken, now=now)
            moved = await self.perform(
                plan.move(
                    result,
                    at=now,
                    payment=payment,
                    alert_chat_ids=self.admin_chat_ids,
                    announce_chat_ids=self.announce_chat_ids,
                )
            )
            if moved is not None:
                self._log_apply(moved, result, plan.kind)
                return ApplyResult(plan.kind, moved)
            payment = await self._fresh(payment.id)
        raise RuntimeError(f"payment #{payment.id}: result kept racing; giving up")

    async def _replay_early_callbacks(self, checkout_request_id: str) -> None:
        """Callbacks that beat the push's own answer were stored as unknown: apply them now."""
        early = await PaymentEvent.filter(
            kind=EventKind.UNKNOWN_CHECKOUT,
            checkout_request_id=checkout_request_id,
            payment_id__isnull=True,
        ).order_by("id")
        for event in early:
            if not event.raw_body:
                continue
            try:
                result = parse_stk_callback(event.raw_body)
            except ValueError:
                continue
            applied = await self.apply_result(result)
            if applied.payment is not None:
                await self.store.adopt_events(checkout_request_id, applied.payment.id)

    async def _match_orphan(self, result: StkResult) -> Payment | None:
        """A success for a push whose answer we never got: match by phone and amount.

        The push is still in flight (`pushing`: the callback beat a slow answer) or timed out
        (`unknown`, perhaps since `expired`). Only an unambiguous match is taken, and a waiting
        or unknown candidate is preferred to an expired one (the expired push's own callback
        is the one more likely lost). Anything else is left to the admins (`_alert_unmatched`).
        """
        candidates = await self._orphan_candidates(result)
        waiting = [c for c in candidates if c.status in (S.PUSHING, S.UNKNOWN)]
        chosen = waiting if waiting else candidates
        if len(chosen) != 1:
            return None
        payment = chosen[0]
        status = PaymentStatus(payment.status)
        attached = await self.perform(
            Move(
                EventKind.PUSH_UNKNOWN,
                status,
                # The prompt is evidently out; whatever the push call later returns, it finds
                # the row no longer `pushing` and leaves it alone.
                S.UNKNOWN if status is S.PUSHING else None,
                payment=payment,
                expect={"checkout_request_id__isnull": True},
                changes={
                    "checkout_request_id": result.checkout_request_id,
                    "merchant_request_id": result.merchant_request_id,
                },
                at=self.now(),
                detail={"matched_by": "phone_and_amount"},
                source=result.source,
            )
        )
        if attached is None:
            return await self.store.by_checkout(result.checkout_request_id)
        return attached

    async def _orphan_candidates(self, result: StkResult) -> list[Payment]:
        """Pushes whose answer never reached us, for this success's phone and amount."""
        if not result.is_success or not result.phone or result.amount is None:
            return []
        try:
            msisdn = normalize_phone(result.phone)
        except InvalidPhone:
            return []
        since = self.now() - ORPHAN_MATCH_WINDOW
        return (
            await Payment.filter(
                status__in=[S.PUSHING, S.UNKNOWN, S.EXPIRED],
                checkout_request_id__isnull=True,
                phone=msisdn,
                amount=result.amount,
                pushed_at__gte=since,
            )
            .order_by("id")
            .limit(10)
        )

    async def _alert_unmatched(self, result: StkResult) -> None:
        """Money M-Pesa took that matches no payment: every admin hears of it, in words."""
        candidates = await self._orphan_candidates(result)
        if not candidates and result.phone:
            # Outside the matching window or in a state the matcher skips: still worth naming.
            try:
                msisdn = normalize_phone(result.phone)
            except InvalidPhone:
                msisdn = None
            if msisdn is not None:
                candidates = (
                    await Payment.filter(phone=msisdn, amount=result.amount)
                    .order_by("-id")
                    .limit(5)
                )
        await self.store.alert_unmatched(
            topic="unmatched_stk",
            detail={
                "checkout_request_id": result.checkout_request_id,
                "receipt": result.receipt,
                "paid_amount": result.amount,
                "phone": mask_phone(result.phone) if result.phone else None,
                "candidates": [c.id for c in candidates],
            },
            chat_ids=self.admin_chat_ids,
            at=self.now(),
        )
        logger.error(
            "success %s (KES %s, receipt %s) matches no payment; %d candidate(s); admins alerted",
            mask_checkout_id(result.checkout_request_id),
            result.amount,
            result.receipt,
            len(candidates),
        )

    async def _unknown_checkout(self, result: StkResult) -> bool:
        """Keep the result for an unknown CheckoutRequestID; True the first time it is seen."""
        seen = await PaymentEvent.filter(
            kind=EventKind.UNKNOWN_CHECKOUT,
            checkout_request_id=result.checkout_request_id,
        ).exists()
        await self.store.record(
            None,
            EventKind.UNKNOWN_CHECKOUT,
            at=self.now(),
            detail={"result_code": result.result_code, "result_desc": result.result_desc},
            raw=result.raw,
            source=result.source,
            checkout_request_id=result.checkout_request_id,
        )
        logger.warning(
            "%s for unknown CheckoutRequestID %s (code %s) stored",
            result.source,
            mask_checkout_id(result.checkout_request_id),
            result.result_code,
        )
        return not seen

    async def _receipt_taken(self, receipt: str, payment_id: int) -> bool:
        # Stored receipts are upper case (`normalize_receipt`), so this ignores case and can
        # still use the unique index.
        taken = Payment.filter(receipt=normalize_receipt(receipt)).exclude(id=payment_id)
        return await taken.exists()

    def _log_apply(self, payment: Payment, result: StkResult, kind: ApplyKind) -> None:
        logger.info(
            "payment #%d: %s %s (code %s) -> %s [%s]",
            payment.id,
            result.source,
            mask_checkout_id(result.checkout_request_id),
            result.result_code,
            payment.status,
            kind,
        )


__all__ = ["ORPHAN_MATCH_WINDOW", "Plan", "Settlement"]
