"""Starting payments: validation, one open payment, push limit, and exactly one STK push."""

from __future__ import annotations

import asyncio

import pytest

from daraja.errors import (
    AuthError,
    ConnectFailed,
    DarajaError,
    InvalidRequest,
    RateLimited,
    SubscriberLocked,
    TimedOut,
)
from payments.accounts import looks_like_account_number
from payments.errors import (
    AmountProblem,
    InvalidAmount,
    InvalidPhone,
    PaymentInProgress,
    PaymentNotFound,
    PushLimitExceeded,
)
from payments.models import Notification, NotificationKind, Payment, PaymentEvent
from payments.rules import PaymentRules
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.gateway import FakeDaraja
from tests.support.payments import callback, make_service, start

S = PaymentStatus


async def test_create_payment_stores_a_normalised_draft(db: TestDatabase) -> None:
    gateway = FakeDaraja()
    service = make_service(gateway)
    payment = await service.create_payment(
        user_id=7, chat_id=70, language="sw", amount="Ksh. 1,500", phone="+254 712 345 678"
    )
    stored = await Payment.get(id=payment.id)
    assert (stored.status, stored.amount, stored.phone) == (S.CREATED, 1500, "254712345678")
    assert (stored.user_id, stored.chat_id, stored.language) == (7, 70, "sw")
    assert stored.account_reference == "DukaLaMama"
    assert gateway.pushes == []  # a draft sends nothing
    assert [e.kind for e in await service.timeline(payment.id)] == ["created"]


async def test_invalid_input_is_refused_and_nothing_is_stored(db: TestDatabase) -> None:
    service = make_service()
    with pytest.raises(InvalidAmount) as amount:
        await service.create_payment(
            user_id=7, chat_id=7, language="en", amount="10.50", phone="0712345678"
        )
    assert amount.value.reason is AmountProblem.NOT_WHOLE
    with pytest.raises(InvalidPhone):
        await service.create_payment(
            user_id=7, chat_id=7, language="en", amount=100, phone="020 123 4567"
        )
    assert await Payment.all().count() == 0


async def test_push_moves_to_pending_with_daraja_ids(db: TestDatabase) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    assert payment.status is S.PENDING
    assert payment.checkout_request_id == "ws_CO_02032026120000000001"
    assert payment.merchant_request_id == "29115-1"
    assert payment.pushed_at == clock.now
    assert (payment.next_check_at - clock.now).total_seconds() == 30
    assert gateway.pushes == [
        {
            "phone": "254712345678",
            "amount": 1500,
            # The payment's own account number; the shop's reference stays on the row.
            "account_reference": payment.account_number,
            "description": "Payment",
            "callback_url": "https://lipabot.test/payments/callback/token",
        }
    ]
    assert payment.account_reference == "DukaLaMama"
    kinds = [(e.kind, e.from_status, e.to_status) for e in await service.timeline(payment.id)]
    assert kinds == [
        ("created", None, "created"),
        ("push_requested", "created", "pushing"),
        ("pushed", "pushing", "pending"),
    ]


async def test_double_tap_and_concurrent_pushes_make_one_gateway_call(db: TestDatabase) -> None:
    gate = asyncio.Event()
    gateway = FakeDaraja(push_gate=gate)
    service = make_service(gateway)
    draft = await service.create_payment(
        user_id=7, chat_id=7, language="en", amount=100, phone="0712345678"
    )
    tasks = [asyncio.create_task(service.push(draft.id, user_id=7)) for _ in range(10)]
    await asyncio.sleep(0.05)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert len(gateway.pushes) == 1
    assert {r.id for r in results} == {draft.id}
    assert (await Payment.get(id=draft.id)).status is S.PENDING
    # Tapping again later changes nothing either.
    again = await service.push(draft.id, user_id=7)
    assert again.status is S.PENDING and len(gateway.pushes) == 1
    assert await PaymentEvent.filter(payment_id=draft.id, kind="push_requested").count() == 1


async def test_push_of_someone_elses_payment_is_not_found(db: TestDatabase) -> None:
    gateway = FakeDaraja()
    service = make_service(gateway)
    draft = await service.create_payment(
        user_id=7, chat_id=7, language="en", amount=100, phone="0712345678"
    )
    with pytest.raises(PaymentNotFound):
        await service.push(draft.id, user_id=8)
    with pytest.raises(PaymentNotFound):
        await service.push(999_999, user_id=7)
    assert gateway.pushes == []


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            InvalidRequest("Bad Request - Invalid PhoneNumber", field="PhoneNumber"),
            "push:invalid_phone",
        ),
        (InvalidRequest("Bad Request - Invalid PartyA", field="PartyA"), "push:invalid_phone"),
        (InvalidRequest("Bad Request - Invalid Amount", field="Amount"), "push:invalid_amount"),
        (InvalidRequest("Bad Request - Invalid CallBackURL", field="CallBackURL"), "push:rejected"),
        (
            SubscriberLocked("Unable to lock subscriber", code="500.001.1001"),
            "push:subscriber_locked",
        ),
        (RateLimited("Spike Arrest Violation", code="500.003.02"), "push:rate_limited"),
        (AuthError("Invalid Access Token", code="404.001.03"), "push:unavailable"),
        (ConnectFailed("connection refused"), "push:unavailable"),
        (DarajaError("Internal Server Error", http_status=500), "push:unavailable"),
    ],
)
async def test_refused_push_is_recorded_and_the_customer_told(
    db: TestDatabase, error: DarajaError, code: str
) -> None:
    gateway = FakeDaraja(push_error=error)
    service = make_service(gateway)
    payment = await start(service)
    assert payment.status is S.PUSH_FAILED
    assert payment.result_code == code
    assert payment.completed_at is not None
    notes = await Notification.filter(payment_id=payment.id)
    assert [(n.kind, n.chat_id, n.language) for n in notes] == [
        (NotificationKind.PUSH_FAILED, 107, "en")
    ]
    event = (await service.timeline(payment.id))[-1]
    assert (event.kind, event.to_status) == ("push_failed", "push_failed")
    assert event.detail["error"] == type(error).__name__
    # Not reconcilable, not open: the customer may try again straight away.
    assert await service.reconcile_due("a") == 0
    gateway.push_error = None
    retry = await start(service)
    assert retry.status is S.PENDING


async def test_timed_out_push_becomes_unknown_and_is_never_repeated(db: TestDatabase) -> None:
    gateway, clock = FakeDaraja(push_error=TimedOut("read timeout")), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    assert payment.status is S.UNKNOWN
    assert payment.checkout_request_id is None
    assert await Notification.all().count() == 0  # nothing honest to say yet
    assert (await service.push(payment.id, user_id=7)).status is S.UNKNOWN
    # Still open: the customer cannot start a second prompt on top of a maybe-sent one.
    with pytest.raises(PaymentInProgress):
        await start(service)
    assert len(gateway.pushes) == 1
    # Without a CheckoutRequestID there is nothing to query; expiry settles it honestly.
    clock.advance(181)
    assert await service.reconcile_due("a") == 0
    assert gateway.queries == []
    assert await service.expire_overdue() == 1
    assert (await service.get(payment.id)).status is S.EXPIRED
    # The callback we could not link by id still finds it by phone and amount.
    late = await service.apply_result(callback("ws_CO_unknown_to_us", amount=1500))
    assert late.kind == "applied"
    assert late.payment.id == payment.id
    assert late.payment.status is S.PAID
    assert late.payment.checkout_request_id == "ws_CO_unknown_to_us"
    kinds = (
        await Notification.filter(payment_id=payment.id)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == [NotificationKind.EXPIRED, NotificationKind.LATE_PAID]


async def test_unexpected_gateway_error_is_treated_as_maybe_processed(db: TestDatabase) -> None:
    gateway = FakeDaraja(push_error=RuntimeError("bug in a transport"))
    service = make_service(gateway)
    payment = await start(service)
    assert payment.status is S.UNKNOWN
    assert (await service.push(payment.id, user_id=7)).status is S.UNKNOWN
    assert len(gateway.pushes) == 1


async def test_one_open_payment_per_user_and_per_phone(db: TestDatabase) -> None:
    service = make_service()
    first = await start(service, user_id=7, phone="0712345678")
    with pytest.raises(PaymentInProgress) as same_user:
        await start(service, user_id=7, phone="0722000000")
    assert same_user.value.existing.id == first.id
    with pytest.raises(PaymentInProgress) as same_phone:
        await start(service, user_id=8, phone="+254712345678")
    assert same_phone.value.existing.id == first.id
    # Someone else, another phone: fine.
    other = await start(service, user_id=9, phone="0733000000")
    assert other.status is S.PENDING
    # Once M-Pesa answers, the user may pay again.
    await service.apply_result(callback(first.checkout_request_id, "1032"))
    again = await start(service, user_id=7, phone="0712345678")
    assert again.status is S.PENDING


async def test_a_users_own_draft_is_superseded_by_a_new_one(db: TestDatabase) -> None:
    service = make_service()
    abandoned = await service.create_payment(
        user_id=7, chat_id=7, language="en", amount=100, phone="0712345678"
    )
    fresh = await service.create_payment(
        user_id=7, chat_id=7, language="en", amount=200, phone="0712345678"
    )
    assert (await service.get(abandoned.id)).status is S.CANCELLED
    assert (await service.get(fresh.id)).status is S.CREATED
    cancelled = (await service.timeline(abandoned.id))[-1]
    assert (cancelled.kind, cancelled.detail) == ("cancelled", {"by": "superseded"})
    # The old confirmation button now does nothing.
    assert (await service.push(abandoned.id, user_id=7)).status is S.CANCELLED


async def test_another_users_draft_never_blocks_my_number(db: TestDatabase) -> None:
    # Only a sent push holds a phone: someone else's unconfirmed draft on my number (typo or
    # mischief) must not lock me out of paying.
    service = make_service()
    theirs = await service.create_payment(
        user_id=7, chat_id=7, language="en", amount=100, phone="0712345678"
    )
    mine = await service.start_payment(
        user_id=8, chat_id=8, language="en", amount=100, phone="0712345678"
    )
    assert mine.status is S.PENDING
    # Their draft, confirmed now, finds the phone busy with my prompt.
    with pytest.raises(PaymentInProgress):
        await service.push(theirs.id, user_id=7)
    assert (await service.get(theirs.id)).status is S.CREATED


async def test_cancel_draft(db: TestDatabase) -> None:
    gateway = FakeDaraja()
    service = make_service(gateway)
    draft = await service.create_payment(
        user_id=7, chat_id=7, language="en", amount=100, phone="0712345678"
    )
    with pytest.raises(PaymentNotFound):
        await service.cancel_draft(draft.id, user_id=8)
    cancelled = await service.cancel_draft(draft.id, user_id=7)
    assert cancelled.status is S.CANCELLED
    assert (await service.push(draft.id, user_id=7)).status is S.CANCELLED
    assert gateway.pushes == []
    pushed = await start(service)
    assert (await service.cancel_draft(pushed.id, user_id=7)).status is S.PENDING


async def test_push_limit_per_hour(db: TestDatabase) -> None:
    clock = Clock()
    service = make_service(clock=clock, rules=PaymentRules(push_limit_per_hour=3))
    for _ in range(3):
        payment = await start(service)
        await service.apply_result(callback(payment.checkout_request_id, "1032"))
        clock.advance(600)  # pushes at t=0, 10 min, 20 min
    with pytest.raises(PushLimitExceeded) as limited:
        await start(service)
    # Now t=30 min; the oldest push leaves the window at t=60 min.
    assert limited.value.retry_after_seconds == 30 * 60
    # Other users are not affected.
    assert (await start(service, user_id=8, phone="0722000000")).status is S.PENDING
    clock.advance(30 * 60)
    assert (await start(service)).status is S.PENDING


async def test_two_drafts_pushed_at_once_make_one_prompt(db: TestDatabase) -> None:
    gateway = FakeDaraja()
    service = make_service(gateway)
    first = await service.create_payment(
        user_id=7, chat_id=7, language="en", amount=100, phone="0712345678"
    )
    # What two racing /pay requests can leave behind: two drafts of one customer.
    second = await Payment.create(
        user_id=7,
        chat_id=7,
        amount=200,
        phone="254712345678",
        account_reference="x",
        status=S.CREATED,
        created_at=first.created_at,
        updated_at=first.created_at,
    )
    outcomes = await asyncio.gather(
        service.push(first.id, user_id=7),
        service.push(second.id, user_id=7),
        return_exceptions=True,
    )
    assert len(gateway.pushes) == 1
    refused = [o for o in outcomes if isinstance(o, PaymentInProgress)]
    pushed = [o for o in outcomes if isinstance(o, Payment)]
    assert len(refused) == 1 and len(pushed) == 1
    assert pushed[0].status is S.PENDING
    assert refused[0].existing.id == pushed[0].id


async def test_every_payment_gets_its_own_short_unambiguous_account_number(
    db: TestDatabase,
) -> None:
    service = make_service(FakeDaraja(), Clock())
    numbers = set()
    for user in range(30):
        payment = await service.create_payment(
            user_id=100 + user,
            chat_id=100 + user,
            language="en",
            amount=10,
            phone=f"0712{user:06d}",
        )
        number = payment.account_number
        assert number is not None and len(number) <= 12 and looks_like_account_number(number)
        assert not set(number[2:]) & set("0O1IL5S2Z8B")
        numbers.add(number)
    assert len(numbers) == 30
    stored = await Payment.filter(account_number__in=list(numbers)).count()
    assert stored == 30
