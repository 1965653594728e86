"""C2B confirmations in the payments service: match, settle once, dedupe with STK, keep the rest."""

from __future__ import annotations

from typing import Any

import pytest

from daraja.c2b import C2BPayment as C2BBody
from daraja.c2b import Rejection, mask_for_display, msisdn_hash, parse_c2b
from daraja.errors import SubscriberLocked
from payments.errors import C2BNotAttachable
from payments.models import (
    C2BPayment,
    C2BStatus,
    Notification,
    NotificationKind,
    Payment,
    PaymentEvent,
)
from payments.service import ApplyKind, PaymentService
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.gateway import FakeDaraja
from tests.support.payments import ADMINS, callback, make_service, start

S = PaymentStatus
K = NotificationKind
PHONE = "254712345678"


def confirmation(
    account: str | None,
    *,
    amount: int = 1500,
    trans_id: str = "TC2ABCDE12",
    msisdn: str | None = None,
) -> C2BBody:
    """A C2B confirmation body as Daraja v2 sends it, parsed."""
    body: dict[str, Any] = {
        "TransactionType": "Pay Bill",
        "TransID": trans_id,
        "TransTime": "20260302150012",
        "TransAmount": f"{amount}.00",
        "BusinessShortCode": "4130669",
        "BillRefNumber": account or "",
        "InvoiceNumber": "",
        "OrgAccountBalance": "161.00",
        "ThirdPartyTransID": "",
        "MSISDN": mask_for_display(PHONE) if msisdn is None else msisdn,
        "FirstName": "GRACE",
    }
    return parse_c2b(body)


async def _customer_notices(payment_id: int) -> list[str]:
    rows = (
        await Notification.filter(payment_id=payment_id).exclude(kind=K.ADMIN_ALERT).order_by("id")
    )
    return [str(n.kind) for n in rows]


async def test_a_menu_payment_with_the_account_number_pays_with_its_receipt(
    db: TestDatabase,
) -> None:
    service = make_service()
    payment = await start(service)
    applied = await service.apply_c2b(confirmation(payment.account_number.lower()))
    assert applied.kind is ApplyKind.APPLIED and applied.matched_by == "account_number"
    stored = await Payment.get(id=payment.id)
    assert stored.status is S.PAID and stored.receipt == "TC2ABCDE12"
    assert stored.paid_amount == 1500 and stored.transaction_time is not None
    assert await _customer_notices(payment.id) == ["paid"]
    row = await C2BPayment.get(trans_id="TC2ABCDE12")
    assert (row.status, row.payment_id, row.note) == (
        C2BStatus.MATCHED,
        payment.id,
        "account_number",
    )
    event = (await service.timeline(payment.id))[-1]
    assert (event.kind, event.from_status, event.to_status) == ("c2b", "pending", "paid")
    assert event.detail["phone"] == "same" and event.raw_body["TransID"] == "TC2ABCDE12"


async def test_a_duplicate_confirmation_changes_nothing(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    body = confirmation(payment.account_number)
    await service.apply_c2b(body)
    events = await PaymentEvent.filter(payment_id=payment.id).count()
    again = await service.apply_c2b(body)
    assert again.kind is ApplyKind.DUPLICATE
    assert await PaymentEvent.filter(payment_id=payment.id).count() == events
    assert await C2BPayment.all().count() == 1
    assert await _customer_notices(payment.id) == ["paid"]


@pytest.mark.parametrize("first", ["stk", "c2b"])
async def test_stk_callback_and_c2b_confirmation_in_either_order_pay_once(
    db: TestDatabase, first: str
) -> None:
    service = make_service()
    payment = await start(service)
    stk = callback(payment.checkout_request_id, receipt="TC2ABCDE12")
    c2b = confirmation(payment.account_number)
    if first == "stk":
        assert (await service.apply_result(stk)).kind is ApplyKind.APPLIED
        assert (await service.apply_c2b(c2b)).kind is ApplyKind.DUPLICATE
    else:
        assert (await service.apply_c2b(c2b)).kind is ApplyKind.APPLIED
        assert (await service.apply_result(stk)).kind is ApplyKind.DUPLICATE
    stored = await Payment.get(id=payment.id)
    assert stored.status is S.PAID and stored.receipt == "TC2ABCDE12"
    assert await _customer_notices(payment.id) == ["paid"]
    assert await Notification.filter(kind=K.ADMIN_ALERT).count() == 0
    assert (await C2BPayment.get(trans_id="TC2ABCDE12")).status is C2BStatus.MATCHED


async def test_a_lost_stk_callback_is_replaced_by_the_confirmation(db: TestDatabase) -> None:
    clock = Clock()
    service = make_service(clock=clock)
    payment = await start(service)
    clock.advance(40)  # no callback came; before any query could settle it
    await service.apply_c2b(confirmation(payment.account_number))
    stored = await Payment.get(id=payment.id)
    assert stored.status is S.PAID and stored.receipt == "TC2ABCDE12"
    assert stored.next_check_at is None  # the reconciler has nothing left to ask


@pytest.mark.parametrize(
    ("code", "status", "notice"),
    [
        ("1037", S.EXPIRED, "late_paid"),
        ("1032", S.CANCELLED, "paid"),
        ("1", S.FAILED, "paid"),
        ("1001", S.FAILED, "paid"),
    ],
)
async def test_a_menu_payment_after_the_prompt_came_to_nothing_pays(
    db: TestDatabase, code: str, status: PaymentStatus, notice: str
) -> None:
    service = make_service()
    payment = await start(service)
    await service.apply_result(callback(payment.checkout_request_id, code))
    assert (await Payment.get(id=payment.id)).status is status
    applied = await service.apply_c2b(confirmation(payment.account_number))
    assert applied.kind is ApplyKind.APPLIED
    stored = await Payment.get(id=payment.id)
    assert stored.status is S.PAID and stored.receipt == "TC2ABCDE12"
    assert (await _customer_notices(payment.id))[-1] == notice
    # Paying from the menu after the prompt came to nothing proves no earlier answer wrong.
    assert not await Notification.filter(payment_id=payment.id, kind=K.ADMIN_ALERT).exists()


async def test_a_menu_payment_after_a_refused_push_pays(db: TestDatabase) -> None:
    gateway = FakeDaraja(push_error=SubscriberLocked("Unable to lock subscriber"))
    service = make_service(gateway)
    payment = await start(service)
    assert payment.status is S.PUSH_FAILED
    await service.apply_c2b(confirmation(payment.account_number))
    stored = await Payment.get(id=payment.id)
    assert stored.status is S.PAID
    assert await _customer_notices(payment.id) == ["push_failed", "paid"]


async def test_a_draft_paid_from_the_menu_is_cancelled_then_paid(db: TestDatabase) -> None:
    service = make_service()
    draft = await service.create_payment(
        user_id=7, chat_id=107, language="en", amount=1500, phone="0712345678"
    )
    await service.apply_c2b(confirmation(draft.account_number))
    stored = await Payment.get(id=draft.id)
    assert stored.status is S.PAID
    kinds = [(e.kind, e.to_status) for e in await service.timeline(draft.id)]
    assert kinds == [("created", "created"), ("cancelled", "cancelled"), ("c2b", "paid")]


async def test_a_different_amount_is_flagged_for_the_admins(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    applied = await service.apply_c2b(confirmation(payment.account_number, amount=150))
    assert applied.kind is ApplyKind.AMOUNT_MISMATCH
    stored = await Payment.get(id=payment.id)
    assert stored.status is S.PENDING and stored.flagged_reason == "amount_mismatch"
    alerts = await Notification.filter(kind=K.ADMIN_ALERT, payment_id=payment.id)
    assert sorted(a.chat_id for a in alerts) == sorted(ADMINS)
    # The payer hears the money arrived and the shop is checking it (never "paid").
    assert await _customer_notices(payment.id) == ["flagged"]


async def test_an_unknown_account_number_is_kept_and_announced(db: TestDatabase) -> None:
    service = make_service()
    applied = await service.apply_c2b(confirmation("WALKIN", amount=300, trans_id="TC2WALKIN1"))
    assert applied.kind is ApplyKind.UNMATCHED and applied.payment is None
    row = await C2BPayment.get(id=applied.c2b_id)
    assert (row.status, row.note, row.bill_ref, row.amount) == (
        C2BStatus.UNMATCHED,
        "no_account",
        "WALKIN",
        300,
    )
    alerts = await Notification.filter(kind=K.ADMIN_ALERT).order_by("chat_id")
    assert [(a.payment_id, a.chat_id, a.topic) for a in alerts] == [
        (None, chat, "unmatched_c2b") for chat in sorted(ADMINS)
    ]
    assert alerts[0].detail["c2b_id"] == row.id and alerts[0].detail["amount"] == 300
    assert [r.id for r in await service.unmatched_c2b()] == [row.id]


async def test_an_admin_attaches_an_unmatched_payment(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    # A mistyped account number, paid from a friend's phone: nothing ties it to the payment.
    applied = await service.apply_c2b(
        confirmation("LB-TYPO", trans_id="TC2TYPO001", msisdn="2547 ***** 000")
    )
    assert applied.kind is ApplyKind.UNMATCHED
    attached = await service.attach_c2b(applied.c2b_id, payment.id, admin_id=ADMINS[0])
    assert attached.kind is ApplyKind.APPLIED
    stored = await Payment.get(id=payment.id)
    assert stored.status is S.PAID and stored.receipt == "TC2TYPO001"
    row = await C2BPayment.get(id=applied.c2b_id)
    assert (row.status, row.payment_id, row.attached_by) == (
        C2BStatus.ATTACHED,
        payment.id,
        ADMINS[0],
    )
    assert await service.unmatched_c2b() == []
    assert await _customer_notices(payment.id) == ["paid"]
    with pytest.raises(C2BNotAttachable, match="attached already"):
        await service.attach_c2b(applied.c2b_id, payment.id, admin_id=ADMINS[0])


async def test_a_second_payment_for_a_paid_one_is_never_counted_twice(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    await service.apply_result(callback(payment.checkout_request_id, receipt="TC2STKPAID"))
    applied = await service.apply_c2b(confirmation(payment.account_number, trans_id="TC2MENU002"))
    assert applied.kind is ApplyKind.UNMATCHED
    stored = await Payment.get(id=payment.id)
    assert stored.receipt == "TC2STKPAID" and stored.paid_amount == 1500
    row = await C2BPayment.get(trans_id="TC2MENU002")
    assert (row.status, row.note, row.payment_id) == (
        C2BStatus.UNMATCHED,
        "second_payment",
        payment.id,
    )
    assert await _customer_notices(payment.id) == ["paid"]
    with pytest.raises(C2BNotAttachable):
        await service.attach_c2b(row.id, payment.id, admin_id=ADMINS[0])


@pytest.mark.parametrize("form", ["hashed", "masked"])
async def test_without_an_account_number_the_phone_and_amount_match_one_payment(
    db: TestDatabase, form: str
) -> None:
    service = make_service()
    payment = await start(service)
    other = await start(service, user_id=8, phone="0799000111")
    msisdn = msisdn_hash(PHONE) if form == "hashed" else mask_for_display(PHONE)
    applied = await service.apply_c2b(confirmation("", msisdn=msisdn))
    assert applied.kind is ApplyKind.APPLIED and applied.matched_by == "phone_and_amount"
    assert (await Payment.get(id=payment.id)).status is S.PAID
    assert (await Payment.get(id=other.id)).status is S.PENDING


async def test_a_phone_that_fits_two_payments_matches_neither(db: TestDatabase) -> None:
    service = make_service()
    await start(service, phone="0712000678")
    await start(service, user_id=8, phone="0712999678")
    applied = await service.apply_c2b(confirmation("", msisdn="2547 ***** 678"))
    assert applied.kind is ApplyKind.UNMATCHED


async def test_a_plain_msisdn_is_never_stored_whole(db: TestDatabase) -> None:
    service = make_service()
    await service.apply_c2b(confirmation("WALKIN", msisdn="254700000008"))
    row = await C2BPayment.get(trans_id="TC2ABCDE12")
    assert row.msisdn_masked == "2547 ***** 008" and row.msisdn_hash == msisdn_hash("254700000008")
    assert "254700000008" not in str(row.raw_body)
    assert all("254700000008" not in str(n.detail) for n in await Notification.all())


@pytest.mark.parametrize(
    ("mode", "account", "amount", "answer"),
    [
        ("off", "NOPE", 1500, None),
        ("accept", "NOPE", 1500, None),
        ("strict", "NOPE", 1500, Rejection.INVALID_ACCOUNT),
        ("strict", "ours", 999, Rejection.INVALID_AMOUNT),
        ("strict", "ours", 1500, None),
    ],
)
async def test_validation_modes(
    db: TestDatabase, mode: str, account: str, amount: int, answer: Rejection | None
) -> None:
    service: PaymentService = make_service()
    payment = await start(service)
    bill_ref = payment.account_number if account == "ours" else account
    got = await service.validate_c2b(confirmation(bill_ref, amount=amount), mode)  # type: ignore[arg-type]
    assert got is answer
    assert await PaymentEvent.filter(kind="c2b_validation").count() == 1
    assert (await Payment.get(id=payment.id)).status is S.PENDING  # validation moves nothing


async def test_a_payment_held_by_the_admins_keeps_a_later_confirmation_unmatched(
    db: TestDatabase,
) -> None:
    service = make_service()
    payment = await start(service)
    await service.apply_c2b(confirmation(payment.account_number, amount=10, trans_id="TC2FLAG001"))
    assert (await Payment.get(id=payment.id)).flagged_reason == "amount_mismatch"
    later = await service.apply_c2b(confirmation(payment.account_number, trans_id="TC2FLAG002"))
    assert later.kind is ApplyKind.UNMATCHED
    row = await C2BPayment.get(trans_id="TC2FLAG002")
    assert (row.status, row.note) == (C2BStatus.UNMATCHED, "payment_flagged")


async def test_a_menu_payment_is_announced_to_the_shop_like_a_prompt_payment(
    db: TestDatabase,
) -> None:
    service = make_service()
    service.announce_chat_ids = ADMINS  # as ADMIN_NOTIFY_PAYMENTS wires it
    payment = await start(service)
    await service.apply_c2b(confirmation(payment.account_number))
    assert (await Payment.get(id=payment.id)).status is S.PAID
    announced = await Notification.filter(payment_id=payment.id, kind=K.ANNOUNCE)
    assert sorted(n.chat_id for n in announced) == sorted(ADMINS)
    # The duplicate confirmation changes nothing and announces nothing more.
    await service.apply_c2b(confirmation(payment.account_number))
    assert await Notification.filter(payment_id=payment.id, kind=K.ANNOUNCE).count() == 2
