"""What an STK result does to a payment: one pure decision from the stored facts.

`decide` looks only at the payment as stored and the result; it returns a `Plan` — the
conditional update to run (WHERE and SET), the audit event, the customer's message and any
admin alert. `Plan.move` turns it into a `payments.moves.Move`, which the service performs;
when the conditional update matches no row (someone else moved the payment first) it re-reads
and decides again.

The rules, in words:

* Waiting (`pending`/`unknown`): the result's outcome decides the new status and message.
* A success is checked first: a receipt that belongs to another payment, or an amount other
  than the one we asked for, is flagged for the admins instead of being marked paid.
* `expired`: a success still pays (message "late_paid"); when we expired it ourselves a later
  failure code is kept on the row without a message; otherwise a different code is a conflict.
* Final states: the same code again is a duplicate; a different one a conflict — recorded,
  never applied, never a second message. A success after failed/cancelled alerts the admins.
* A flagged payment belongs to the admins: later results are only recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from daraja.types import Outcome, StkResult
from payments.models import EventKind, NotificationKind
from payments.moves import Move
from payments.rules import normalize_receipt
from payments.states import RECONCILABLE_STATES, PaymentStatus

if TYPE_CHECKING:
    from payments.models import Payment

S = PaymentStatus


class ApplyKind(StrEnum):
    """What `apply_result` did with a result."""

    APPLIED = "applied"  # the payment moved to the result's status
    DUPLICATE = "duplicate"  # the same answer again: nothing changed
    CONFLICT = "conflict"  # a different answer after a final one: recorded only
    LATE_RESULT = "late_result"  # a failure code after we expired it: kept, not announced
    DETAILS = "details"  # receipt details for a payment a query already settled
    AMOUNT_MISMATCH = "amount_mismatch"
    RECEIPT_CONFLICT = "receipt_conflict"
    NOT_FINAL = "not_final"  # an answer that settles nothing (Outcome.UNKNOWN)
    UNKNOWN_CHECKOUT = "unknown_checkout"
    UNMATCHED = "unmatched"  # a C2B payment that names no payment: kept for the admins


@dataclass(frozen=True, slots=True)
class ApplyResult:
    kind: ApplyKind
    payment: Payment | None


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """The stored fields a decision depends on."""

    status: PaymentStatus
    amount: int
    result_code: str | None = None
    receipt: str | None = None
    flagged_reason: str | None = None

    @classmethod
    def of(cls, payment: Payment) -> PaymentFacts:
        return cls(
            status=PaymentStatus(payment.status),
            amount=payment.amount,
            result_code=payment.result_code,
            receipt=payment.receipt,
            flagged_reason=payment.flagged_reason,
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """One decision: the conditional update and what is written with it."""

    kind: ApplyKind
    event: str
    from_status: PaymentStatus  # the status decided from (the update's WHERE checks it)
    expect: dict[str, Any]  # WHERE conditions beyond the row and its status
    changes: dict[str, Any]  # SET beyond the status; empty with no to_status: only the event
    to_status: PaymentStatus | None = None
    notify: NotificationKind | None = None
    alert: str | None = None  # admin alert topic
    alert_detail: dict[str, Any] | None = None

    def move(
        self,
        result: StkResult,
        *,
        at: datetime,
        payment: Payment | None = None,
        alert_chat_ids: tuple[int, ...] = (),
        announce_chat_ids: tuple[int, ...] = (),
    ) -> Move:
        """The move that carries out this plan: for `payment` as read, or (None) for the row
        with the result's CheckoutRequestID."""
        return Move(
            event=self.event,
            from_status=self.from_status,
            to_status=self.to_status,
            payment=payment,
            checkout_request_id=None if payment is not None else result.checkout_request_id,
            expect=self.expect,
            changes=self.changes,
            at=at,
            detail=event_detail(result, self),
            raw=result.raw,
            source=result.source,
            notify=self.notify,
            alert=self.alert,
            alert_detail=self.alert_detail,
            alert_chat_ids=alert_chat_ids if self.alert is not None else (),
            announce_chat_ids=announce_chat_ids if self.to_status is S.PAID else (),
        )


OUTCOME_STATUS: dict[Outcome, PaymentStatus] = {
    Outcome.PAID: S.PAID,
    Outcome.FAILED: S.FAILED,
    Outcome.CANCELLED: S.CANCELLED,
    Outcome.EXPIRED: S.EXPIRED,
}
STATUS_NOTICE: dict[PaymentStatus, NotificationKind] = {
    S.PAID: NotificationKind.PAID,
    S.FAILED: NotificationKind.FAILED,
    S.CANCELLED: NotificationKind.CANCELLED,
    S.EXPIRED: NotificationKind.EXPIRED,
}


def decide(facts: PaymentFacts, result: StkResult, *, receipt_taken: bool, now: datetime) -> Plan:
    """The plan for `result` given the stored `facts`.

    `receipt_taken`: the result's receipt already belongs to another payment.
    """
    outcome = result.outcome
    if facts.flagged_reason:
        return _repeat_or_conflict(facts, result)
    if facts.status in RECONCILABLE_STATES:
        if outcome is Outcome.PAID:
            return _success(facts, result, NotificationKind.PAID, receipt_taken, now)
        target = OUTCOME_STATUS.get(outcome)
        if target is None:
            return Plan(ApplyKind.NOT_FINAL, result.source, facts.status, {}, {})
        return _move(facts, result, target, STATUS_NOTICE[target], now)
    if facts.status is S.EXPIRED:
        return _after_expiry(facts, result, receipt_taken, now)
    if facts.status is S.PAID and outcome is Outcome.PAID:
        return _paid_again(facts, result, receipt_taken)
    if facts.status in (S.FAILED, S.CANCELLED) and outcome is Outcome.PAID:
        if result.receipt:
            # M-Pesa's proof of payment beats the earlier answer: the customer is told they
            # paid after all, and the admins that an earlier answer was wrong.
            return _paid_after_all(facts, result, receipt_taken, now)
        # A success without a receipt (a query) against an earlier final answer: a person
        # must look at it.
        return Plan(
            ApplyKind.CONFLICT,
            EventKind.CONFLICT,
            facts.status,
            {},
            {},
            alert="paid_after_final",
            alert_detail=_alert_detail(result, facts),
        )
    return _repeat_or_conflict(facts, result)


def _paid_after_all(
    facts: PaymentFacts, result: StkResult, receipt_taken: bool, now: datetime
) -> Plan:
    plan = _success(facts, result, NotificationKind.LATE_PAID, receipt_taken, now)
    if plan.kind is ApplyKind.APPLIED:
        plan = replace(plan, alert="paid_after_all", alert_detail=_alert_detail(result, facts))
    return plan


#: Where a payment whose prompt came to nothing may still be paid from the M-Pesa menu.
MENU_PAYABLE_STATES = frozenset({S.FAILED, S.CANCELLED, S.PUSH_FAILED, S.EXPIRED})


def decide_c2b(
    facts: PaymentFacts, result: StkResult, *, receipt_taken: bool, now: datetime
) -> Plan:
    """The plan for a C2B confirmation (`result`, source "c2b") naming this payment.

    As `decide`, except that a payment whose prompt failed, was cancelled, expired or never
    went out is paid without an alert: the customer paid from the M-Pesa menu with its account
    number, so no earlier answer was wrong (a C2B confirmation is the money itself).
    """
    if facts.status in MENU_PAYABLE_STATES and not facts.flagged_reason:
        # An expired payment's customer was told we stopped waiting: "M-Pesa has now confirmed".
        late = facts.status is S.EXPIRED
        notify = NotificationKind.LATE_PAID if late else NotificationKind.PAID
        return _success(facts, result, notify, receipt_taken, now)
    return decide(facts, result, receipt_taken=receipt_taken, now=now)


def _after_expiry(
    facts: PaymentFacts, result: StkResult, receipt_taken: bool, now: datetime
) -> Plan:
    if result.outcome is Outcome.PAID:
        if facts.result_code is not None and result.receipt:
            # Daraja itself had said it expired (1037, 1019…): that answer was wrong.
            return _paid_after_all(facts, result, receipt_taken, now)
        return _success(facts, result, NotificationKind.LATE_PAID, receipt_taken, now)
    if facts.result_code is None:
        # We expired it ourselves; Daraja's reason is worth keeping, not announcing.
        return Plan(
            ApplyKind.LATE_RESULT,
            EventKind.LATE_RESULT,
            S.EXPIRED,
            {"result_code__isnull": True},
            result_fields(result),
        )
    return _repeat_or_conflict(facts, result)


def _move(
    facts: PaymentFacts,
    result: StkResult,
    target: PaymentStatus,
    notify: NotificationKind,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> Plan:
    changes = {
        **result_fields(result),
        **(extra or {}),
        "completed_at": now,
        "next_check_at": None,
    }
    return Plan(
        ApplyKind.APPLIED,
        result.source,
        facts.status,
        {"flagged_reason__isnull": True},
        changes,
        to_status=target,
        notify=notify,
    )


def _success(
    facts: PaymentFacts,
    result: StkResult,
    notify: NotificationKind,
    receipt_taken: bool,
    now: datetime,
) -> Plan:
    if result.receipt and receipt_taken:
        return _flag(facts, result, "receipt_conflict", store_receipt=False)
    if result.amount is not None and result.amount != facts.amount:
        return _flag(facts, result, "amount_mismatch", store_receipt=True)
    return _move(facts, result, S.PAID, notify, now, success_fields(result))


def _flag(facts: PaymentFacts, result: StkResult, reason: str, *, store_receipt: bool) -> Plan:
    # The status stays; the flag takes the payment out of reconciliation, expiry and the
    # one-open-payment rule, and the admins decide.
    changes: dict[str, Any] = {
        **result_fields(result),
        "flagged_reason": reason,
        "next_check_at": None,
    }
    if store_receipt:
        changes.update(success_fields(result))
    return Plan(
        ApplyKind(reason),
        EventKind(reason),
        facts.status,
        {"flagged_reason__isnull": True},
        changes,
        # The payer is told the money was received and the shop is checking it, never
        # "check your phone" for ever.
        notify=NotificationKind.FLAGGED,
        alert=reason,
        alert_detail=_alert_detail(result, facts),
    )


def _paid_again(facts: PaymentFacts, result: StkResult, receipt_taken: bool) -> Plan:
    if not result.receipt or _same_receipt(result.receipt, facts.receipt):
        return Plan(ApplyKind.DUPLICATE, EventKind.DUPLICATE, facts.status, {}, {})
    if facts.receipt is not None:
        return Plan(
            ApplyKind.CONFLICT,
            EventKind.CONFLICT,
            facts.status,
            {},
            {},
            alert="second_receipt",
            alert_detail=_alert_detail(result, facts),
        )
    # A query settled it (queries carry no receipt); the callback brings the details.
    if receipt_taken:
        return Plan(
            ApplyKind.RECEIPT_CONFLICT,
            EventKind.RECEIPT_CONFLICT,
            S.PAID,
            {"flagged_reason__isnull": True},
            {"flagged_reason": "receipt_conflict"},
            alert="receipt_conflict",
            alert_detail=_alert_detail(result, facts),
        )
    changes = success_fields(result)
    alert = None
    # The paid message said the receipt would follow: it now shows it.
    notify: NotificationKind | None = NotificationKind.RECEIPT
    if result.amount is not None and result.amount != facts.amount:
        changes["flagged_reason"] = "amount_mismatch"
        alert = "amount_mismatch"
        notify = None
    return Plan(
        ApplyKind.DETAILS,
        EventKind.DETAILS,
        S.PAID,
        {"receipt__isnull": True},
        changes,
        notify=notify,
        alert=alert,
        alert_detail=_alert_detail(result, facts),
    )


def _same_receipt(receipt: str, stored: str | None) -> bool:
    return stored is not None and normalize_receipt(receipt) == normalize_receipt(stored)


def _repeat_or_conflict(facts: PaymentFacts, result: StkResult) -> Plan:
    if facts.result_code == result.result_code:
        return Plan(ApplyKind.DUPLICATE, EventKind.DUPLICATE, facts.status, {}, {})
    return Plan(ApplyKind.CONFLICT, EventKind.CONFLICT, facts.status, {}, {})


def assumed_move(
    result: StkResult, now: datetime, *, announce_chat_ids: tuple[int, ...] = ()
) -> Move | None:
    """The move for `result` decided as if its payment were pending, unflagged and asking for
    the result's amount — the common case, written without reading the row first: the move's
    conditions check exactly those assumptions. None when that decision moves nothing or
    alerts the admins (those are decided from the stored row)."""
    facts = PaymentFacts(status=S.PENDING, amount=result.amount or 0)
    plan = decide(facts, result, receipt_taken=False, now=now)
    if plan.kind is not ApplyKind.APPLIED or plan.alert is not None:
        return None
    move = plan.move(result, at=now, announce_chat_ids=announce_chat_ids)
    if result.amount is not None:
        move = replace(move, expect={**move.expect, "amount": result.amount})
    return move


def result_fields(result: StkResult) -> dict[str, Any]:
    return {"result_code": result.result_code, "result_desc": (result.result_desc or "")[:255]}


def success_fields(result: StkResult) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if result.receipt:
        fields["receipt"] = normalize_receipt(result.receipt)
    if result.amount is not None:
        fields["paid_amount"] = result.amount
    if result.transaction_date is not None:
        fields["transaction_time"] = result.transaction_date
    return fields


def event_detail(result: StkResult, plan: Plan) -> dict[str, Any]:
    """What the audit event says about a result (the raw body is stored beside it)."""
    detail: dict[str, Any] = {
        "result_code": result.result_code,
        "result_desc": result.result_desc,
        "decision": str(plan.kind),
    }
    if result.receipt:
        detail["receipt"] = result.receipt
    if result.amount is not None:
        detail["amount"] = result.amount
    return detail


def _alert_detail(result: StkResult, facts: PaymentFacts) -> dict[str, Any]:
    return {
        "checkout_request_id": result.checkout_request_id,
        "result_code": result.result_code,
        "receipt": result.receipt,
        "paid_amount": result.amount,
        "expected_amount": facts.amount,
    }
