"""The result decision table, without a database: every status against every kind of answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from daraja.types import StkResult
from payments.models import NotificationKind
from payments.results import ApplyKind, PaymentFacts, decide
from payments.states import PaymentStatus

S = PaymentStatus
N = NotificationKind
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def result(code: str = "0", *, amount: int | None = 100, receipt: str | None = "R1") -> StkResult:
    success = code == "0"
    return StkResult(
        merchant_request_id="m",
        checkout_request_id="ws_CO_1",
        result_code=code,
        result_desc="d",
        source="callback",
        amount=amount if success else None,
        receipt=receipt if success else None,
    )


def facts(status: PaymentStatus, code: str | None = None, **kw: object) -> PaymentFacts:
    return PaymentFacts(status=status, amount=100, result_code=code, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "code", "kind", "to", "notice"),
    [
        (S.PENDING, "0", ApplyKind.APPLIED, S.PAID, N.PAID),
        (S.UNKNOWN, "0", ApplyKind.APPLIED, S.PAID, N.PAID),
        (S.PENDING, "1032", ApplyKind.APPLIED, S.CANCELLED, N.CANCELLED),
        (S.UNKNOWN, "1037", ApplyKind.APPLIED, S.EXPIRED, N.EXPIRED),
        (S.PENDING, "1", ApplyKind.APPLIED, S.FAILED, N.FAILED),
        (S.EXPIRED, "0", ApplyKind.APPLIED, S.PAID, N.LATE_PAID),
    ],
)
def test_moves(
    status: PaymentStatus, code: str, kind: ApplyKind, to: PaymentStatus, notice: N
) -> None:
    plan = decide(facts(status), result(code), receipt_taken=False, now=NOW)
    assert (plan.kind, plan.to_status, plan.notify) == (kind, to, notice)
    assert plan.from_status is status
    assert plan.expect == {"flagged_reason__isnull": True}
    assert plan.to_status is to
    assert "status" not in plan.changes
    assert plan.changes["result_code"] == code
    assert plan.changes["completed_at"] == NOW
    assert plan.alert is None


def test_success_stores_receipt_and_amount() -> None:
    plan = decide(facts(S.PENDING), result("0"), receipt_taken=False, now=NOW)
    assert (plan.changes["receipt"], plan.changes["paid_amount"]) == ("R1", 100)


@pytest.mark.parametrize(
    ("status", "stored", "code", "kind"),
    [
        (S.PAID, "0", "0", ApplyKind.DUPLICATE),
        (S.CANCELLED, "1032", "1032", ApplyKind.DUPLICATE),
        (S.EXPIRED, "1037", "1037", ApplyKind.DUPLICATE),
        (S.EXPIRED, "1037", "1019", ApplyKind.CONFLICT),
        (S.FAILED, "2001", "1019", ApplyKind.CONFLICT),
        (S.PAID, "0", "1032", ApplyKind.CONFLICT),
        (S.CANCELLED, "1032", "2001", ApplyKind.CONFLICT),
        (S.PUSH_FAILED, "push:rate_limited", "1032", ApplyKind.CONFLICT),
    ],
)
def test_repeats_and_contradictions_change_nothing(
    status: PaymentStatus, stored: str, code: str, kind: ApplyKind
) -> None:
    receipt = "R1" if status is S.PAID else None
    plan = decide(
        facts(status, stored, receipt=receipt), result(code), receipt_taken=False, now=NOW
    )
    assert plan.kind is kind
    assert (plan.changes, plan.notify, plan.to_status) == ({}, None, None)


def test_failure_after_our_own_expiry_is_kept_without_a_message() -> None:
    plan = decide(facts(S.EXPIRED), result("1032"), receipt_taken=False, now=NOW)
    assert plan.kind is ApplyKind.LATE_RESULT
    assert plan.changes == {"result_code": "1032", "result_desc": "d"}
    assert plan.from_status is S.EXPIRED
    assert plan.expect == {"result_code__isnull": True}
    assert plan.notify is None


def test_amount_mismatch_flags_and_alerts() -> None:
    plan = decide(facts(S.PENDING), result("0", amount=99), receipt_taken=False, now=NOW)
    assert plan.kind is ApplyKind.AMOUNT_MISMATCH
    assert "status" not in plan.changes
    assert plan.changes["flagged_reason"] == "amount_mismatch"
    assert plan.changes["paid_amount"] == 99
    assert plan.notify is N.FLAGGED  # received, being checked by the shop
    assert plan.alert == "amount_mismatch"
    assert plan.alert_detail["expected_amount"] == 100


def test_taken_receipt_flags_without_storing_it() -> None:
    plan = decide(facts(S.PENDING), result("0"), receipt_taken=True, now=NOW)
    assert plan.kind is ApplyKind.RECEIPT_CONFLICT
    assert "receipt" not in plan.changes
    assert plan.alert == "receipt_conflict"


def test_a_success_callback_with_its_receipt_pays_after_a_failure_and_alerts() -> None:
    for status in (S.FAILED, S.CANCELLED):
        plan = decide(facts(status, "2001"), result("0"), receipt_taken=False, now=NOW)
        assert (plan.kind, plan.to_status, plan.notify, plan.alert) == (
            ApplyKind.APPLIED,
            S.PAID,
            N.LATE_PAID,
            "paid_after_all",
        )
        assert plan.changes["receipt"] == "R1"


def test_a_success_without_a_receipt_after_a_failure_only_alerts() -> None:
    query = result("0", receipt=None)  # a query's success: no receipt
    plan = decide(facts(S.FAILED, "2001"), query, receipt_taken=False, now=NOW)
    assert (plan.kind, plan.alert, plan.changes, plan.notify) == (
        ApplyKind.CONFLICT,
        "paid_after_final",
        {},
        None,
    )


def test_paid_by_query_gets_details_from_the_callback() -> None:
    plan = decide(facts(S.PAID, "0"), result("0"), receipt_taken=False, now=NOW)
    assert plan.kind is ApplyKind.DETAILS
    assert plan.from_status is S.PAID
    assert plan.expect == {"receipt__isnull": True}
    assert plan.changes["receipt"] == "R1"
    assert plan.notify is N.RECEIPT and plan.alert is None
    second = decide(facts(S.PAID, "0", receipt="R0"), result("0"), receipt_taken=False, now=NOW)
    assert (second.kind, second.alert) == (ApplyKind.CONFLICT, "second_receipt")


def test_flagged_payments_only_record() -> None:
    flagged = facts(S.PENDING, "0", flagged_reason="amount_mismatch")
    assert decide(flagged, result("0"), receipt_taken=False, now=NOW).kind is ApplyKind.DUPLICATE
    later = decide(flagged, result("1032"), receipt_taken=False, now=NOW)
    assert (later.kind, later.changes) == (ApplyKind.CONFLICT, {})
