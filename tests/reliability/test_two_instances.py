"""Two lipabot instances on one PostgreSQL database, sharing 200 customers.

Each instance is a whole object graph (Starlette app with the real callback route, PTB
Application, payments service, outbox, notifier, reconciler) with its own lease owner id. Every
customer talks to one instance, every Confirm tap reaches both, every callback is delivered to
both (and some twice by the emulator itself), a tenth of the callbacks never come, and both
instances' notifier and reconciler loops run at the same time. The outcome: one push per payment,
one final state per payment, one message per customer, and no payment queried by both at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from bot.texts import t
from daraja.emulator import Emulator
from offline.fake_telegram import FakeUser
from payments.models import Notification, NotificationStatus, Payment, PaymentEvent
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.figures import FIGURES
from tests.support.harness import (
    OUTCOME_OPENINGS,
    CallbackFanOut,
    Instance,
    Launch,
    QueryWatch,
    TelegramSeam,
    eventually,
    local_phone,
    phone_for,
)

S = PaymentStatus
CUSTOMERS = 200
CONCURRENCY = 25


def plan(index: int) -> str:
    """What Daraja does for customer `index`."""
    if index % 10 == 0:
        return "dropped"  # no callback at all: the reconcilers must query
    if index % 10 == 1:
        return "cancelled"  # 1032
    if index % 10 == 2:
        return "duplicated"  # the emulator sends it twice (and the fan-out to both instances)
    return "paid"


async def settled() -> bool:
    return not await Payment.filter(status__in=[S.PENDING, S.PUSHING, S.UNKNOWN]).exists()


async def all_sent() -> bool:
    return not await Notification.filter(status=NotificationStatus.PENDING).exists()


async def run_workers(instances: list[Instance], stop: asyncio.Event) -> list[asyncio.Task[None]]:
    tasks = []
    for instance in instances:
        tasks.append(asyncio.create_task(instance.notifier.run(stop, interval=0.01)))
        tasks.append(asyncio.create_task(instance.reconciler.run(stop)))
    return tasks


@pytest.mark.postgres
async def test_two_instances_200_payments_one_message_each(
    postgres_db: TestDatabase,
    launch: Launch,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
    watch: QueryWatch,
    fanout: CallbackFanOut,
) -> None:
    a = await launch("instance-a")
    b = await launch("instance-b")
    users = [FakeUser(id=700_000 + i, first_name=f"Mteja{i}") for i in range(CUSTOMERS)]
    for i in range(CUSTOMERS):
        phone = phone_for(100 + i)
        if plan(i) == "dropped":
            emu.drop_callbacks(phone=phone)
        elif plan(i) == "cancelled":
            emu.set_outcome(phone, 1032)
        elif plan(i) == "duplicated":
            emu.duplicate_callbacks(2, phone=phone)

    stop = asyncio.Event()
    workers = await run_workers([a, b], stop)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def customer(i: int) -> None:
        user = users[i]
        home = a if i % 2 == 0 else b
        async with gate:
            draft = await home.start_payment(user, str(100 + i), local_phone(phone_for(100 + i)))
            tap = home.confirm_update(user, draft.id)
            # The same tap reaches both instances (a retried webhook, a second replica).
            await asyncio.gather(a.feed(tap), b.feed(tap))

    try:
        # A guard against a hang, not a performance bound (about 20 s on an idle machine).
        async with asyncio.timeout(120):
            await asyncio.gather(*(customer(i) for i in range(CUSTOMERS)))
            await emu.drain()
            clock.advance(31)  # the dropped ones are now due for a query
            await eventually(lambda: settled(), within=20)
            await eventually(lambda: all_sent(), within=20)
    finally:
        stop.set()
        await asyncio.gather(*workers)

    payments = await Payment.all()
    assert len(payments) == CUSTOMERS
    assert len(emu.requests) == CUSTOMERS, "exactly one STK push per payment"
    statuses = Counter(p.status for p in payments)
    expected_cancelled = sum(1 for i in range(CUSTOMERS) if plan(i) == "cancelled")
    assert statuses == {S.PAID: CUSTOMERS - expected_cancelled, S.CANCELLED: expected_cancelled}
    assert not [p.id for p in payments if p.flagged_reason]
    moves = Counter(
        await PaymentEvent.filter(to_status__in=[S.PAID, S.CANCELLED]).values_list(
            "payment_id", flat=True
        )
    )
    assert set(moves.values()) == {1}, "a payment moved to its final state more than once"
    notifications = await Notification.all()
    assert len(notifications) == CUSTOMERS
    assert {n.status for n in notifications} == {NotificationStatus.SENT}

    delivered = telegram.outcome_counts()
    expected = {user.id: 1 for user in users}
    assert {chat: delivered.get(chat, 0) for chat in expected} == expected
    error_text = t("en", "error_generic")
    troubled = [u.id for u in users if error_text in telegram.texts_to(u.id)]
    assert troubled == [], "customers were told something went wrong"

    dropped = [
        p for i, p in enumerate(sorted(payments, key=lambda p: p.user_id)) if plan(i) == "dropped"
    ]
    for payment in dropped:
        assert len(watch.queried_by(payment.checkout_request_id or "")) == 1
    assert set(fanout.statuses) == {200}, f"callback answers: {dict(fanout.statuses)}"
    assert watch.overlaps == [], "two instances queried one payment at the same time"
    assert sum(watch.queries.values()) == len(dropped), "a payment with a callback was queried"
    outcome_senders = Counter(
        d.by
        for d in telegram.delivered
        if d.chat_id in expected and d.text.startswith(OUTCOME_OPENINGS)
    )
    assert set(outcome_senders) == {a.name, b.name}, "both notifiers should have delivered"
    print(
        f"\ntwo instances: {CUSTOMERS} payments, pushes {dict(watch.pushes)}, "
        f"callback deliveries {dict(fanout.statuses)}, queries {sum(watch.queries.values())}, "
        f"messages per chat {set(delivered[u.id] for u in users)}, "
        f"outcome messages sent by {dict(outcome_senders)}"
    )
    FIGURES.drove("two instances", CUSTOMERS)
    FIGURES.injected("confirm delivered to both instances", CUSTOMERS)
    sent_by_daraja = CUSTOMERS - len(dropped)
    FIGURES.injected("callback duplicated", fanout.statuses.total() - sent_by_daraja)
    FIGURES.injected("callback dropped", len(dropped))
    FIGURES.delivered(expected, delivered)


async def test_a_conversation_spread_over_two_instances_pays_once(
    sqlite_db: TestDatabase,
    launch: Launch,
    emu: Emulator,
    telegram: TelegramSeam,
    customer: FakeUser,
) -> None:
    """A load balancer sends each of the customer's updates to whichever instance it likes."""
    a = await launch("instance-a")
    b = await launch("instance-b")
    phone = phone_for(300)
    await a.say(customer, "/pay")
    await b.say(customer, "1250")
    assert "KES 1,250" in telegram.fake.last(customer.id).text
    await a.say(customer, local_phone(phone))
    (draft,) = await Payment.filter(user_id=customer.id)
    assert (draft.amount, draft.phone, draft.status) == (1250, phone, S.CREATED)
    tap = b.confirm_update(customer, draft.id)
    await asyncio.gather(b.feed(tap), a.feed(tap))
    async with asyncio.timeout(5):
        await emu.drain()
    await asyncio.gather(a.deliver(), b.deliver())

    assert len(emu.requests) == 1
    assert (await Payment.get(id=draft.id)).status is S.PAID
    outcomes = telegram.outcomes(customer.id)
    assert len(outcomes) == 1 and outcomes[0].startswith("Paid ✓")
    assert t("en", "error_generic") not in telegram.texts_to(customer.id)
    FIGURES.drove("two instances")
    FIGURES.injected("conversation spread over instances", 4)
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())
