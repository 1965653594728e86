"""Daraja misbehaving after the push: dropped, duplicated, contradictory and missing callbacks.

Each test drives a customer through the real bot, lets the emulator (with a fault switch) answer,
and checks the payment row and what Telegram accepted for the customer.
"""

from __future__ import annotations

import asyncio

from daraja.emulator import Emulator
from offline.fake_telegram import FakeUser
from payments.models import Notification, Payment, PaymentEvent
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.figures import FIGURES
from tests.support.harness import Instance, QueryWatch, TelegramSeam, local_phone, phone_for

S = PaymentStatus


async def pay(lipabot: Instance, user: FakeUser, phone: str, amount: str = "500") -> Payment:
    draft = await lipabot.start_payment(user, amount, local_phone(phone))
    return await lipabot.confirm(user, draft.id)


async def settle(emu: Emulator) -> None:
    async with asyncio.timeout(5):
        await emu.drain()


async def test_dropped_callback_is_settled_by_a_query(
    lipabot: Instance,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
    watch: QueryWatch,
) -> None:
    phone = phone_for(1)
    emu.drop_callbacks(phone=phone)
    payment = await pay(lipabot, customer, phone)
    await settle(emu)
    assert (await lipabot.service.get(payment.id)).status is S.PENDING
    assert await lipabot.reconcile() == 0, "not due yet: no query before RECONCILE_AFTER_SECONDS"

    clock.advance(31)
    await lipabot.reconcile()
    await lipabot.deliver()

    paid = await lipabot.service.get(payment.id)
    assert paid.status is S.PAID
    assert watch.queries[(lipabot.name, paid.checkout_request_id)] == 1
    outcomes = telegram.outcomes(customer.id)
    assert len(outcomes) == 1 and outcomes[0].startswith("Paid ✓")
    FIGURES.drove("callback faults")
    FIGURES.injected("callback dropped")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())


async def test_callback_delivered_three_times_moves_once_and_tells_once(
    lipabot: Instance, customer: FakeUser, emu: Emulator, telegram: TelegramSeam
) -> None:
    phone = phone_for(2)
    emu.duplicate_callbacks(3, phone=phone)
    payment = await pay(lipabot, customer, phone)
    await settle(emu)
    await lipabot.deliver()
    await lipabot.deliver()

    paid = await lipabot.service.get(payment.id)
    assert paid.status is S.PAID and paid.receipt
    moves = await PaymentEvent.filter(payment_id=payment.id, to_status=S.PAID).count()
    assert moves == 1
    received = await PaymentEvent.filter(payment_id=payment.id, source="callback").count()
    assert received == 3, "every copy is kept in the audit trail"
    assert await Notification.filter(payment_id=payment.id).count() == 1
    outcomes = telegram.outcomes(customer.id)
    assert len(outcomes) == 1 and paid.receipt in outcomes[0]
    FIGURES.drove("callback faults")
    FIGURES.injected("callback duplicated", 2)
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())


async def test_1037_then_late_1019_gives_one_failure_message(
    lipabot: Instance, customer: FakeUser, emu: Emulator, telegram: TelegramSeam
) -> None:
    phone = phone_for(3)
    emu.set_outcome(phone, 1037)
    emu.late_second_callback(1019, after=0.0, phone=phone)
    payment = await pay(lipabot, customer, phone)
    await settle(emu)
    await lipabot.deliver()

    failed = await lipabot.service.get(payment.id)
    assert failed.result_code == "1037", "the first final answer stands"
    assert failed.status in (S.FAILED, S.EXPIRED)
    assert await PaymentEvent.filter(payment_id=payment.id, source="callback").count() == 2
    outcomes = telegram.outcomes(customer.id)
    assert len(outcomes) == 1
    assert "could not be reached" in outcomes[0]
    FIGURES.drove("callback faults")
    FIGURES.injected("late contradictory callback")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())


async def test_push_timeout_is_never_repeated_and_its_callback_still_settles_it(
    lipabot: Instance,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
    watch: QueryWatch,
) -> None:
    phone = phone_for(4)
    emu.set_callback_delay(60.0)  # the callback comes after our client gave up on the push
    emu.hang_next_push(5.0, processed=True)
    payment = await pay(lipabot, customer, phone)

    assert payment.status is S.UNKNOWN
    assert payment.checkout_request_id is None
    # Pressing Confirm again, and the reconciler running, must not push a second time.
    await lipabot.feed(lipabot.confirm_update(customer, payment.id))
    clock.advance(31)
    await lipabot.reconcile()
    assert watch.pushes[lipabot.name] == 1
    assert len(emu.requests) == 1

    (request,) = emu.requests.values()
    await emu.complete_now(request.checkout_request_id)
    await settle(emu)
    await lipabot.deliver()
    paid = await lipabot.service.get(payment.id)
    assert paid.status is S.PAID
    assert paid.checkout_request_id == request.checkout_request_id
    assert paid.receipt == request.receipt
    outcomes = telegram.outcomes(customer.id)
    assert len(outcomes) == 1 and outcomes[0].startswith("Paid ✓")
    FIGURES.drove("callback faults")
    FIGURES.injected("push timeout")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())


async def test_push_timeout_without_any_callback_expires_once(
    lipabot: Instance,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
    watch: QueryWatch,
) -> None:
    phone = phone_for(5)
    emu.set_outcome(phone, 1032)
    emu.drop_callbacks(phone=phone)
    emu.hang_next_push(5.0, processed=True)
    payment = await pay(lipabot, customer, phone)
    assert payment.status is S.UNKNOWN
    await settle(emu)

    clock.advance(181)
    await lipabot.reconcile()
    await lipabot.deliver()
    await lipabot.reconcile()
    await lipabot.deliver()
    assert (await lipabot.service.get(payment.id)).status is S.EXPIRED
    assert watch.pushes[lipabot.name] == 1
    assert len(telegram.outcomes(customer.id)) == 1
    FIGURES.drove("callback faults")
    FIGURES.injected("push timeout")
    FIGURES.injected("callback dropped")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())


async def test_no_final_answer_expires_then_a_late_success_is_paid_and_told(
    lipabot: Instance,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
) -> None:
    phone = phone_for(6)
    emu.set_callback_delay(3600.0)  # Daraja keeps quiet past our patience
    payment = await pay(lipabot, customer, phone)
    assert payment.status is S.PENDING

    # Queries keep saying "being processed" (the emulator's request is still pending).
    for _ in range(4):
        clock.advance(50)
        await lipabot.reconcile()
    await lipabot.deliver()
    expired = await lipabot.service.get(payment.id)
    assert expired.status is S.EXPIRED
    (expiry,) = telegram.outcomes(customer.id)
    # Our own timeout: M-Pesa never said no, so the customer is not told nothing was charged.
    assert "no confirmation came from M-Pesa" in expiry
    assert "Nothing was charged" not in expiry

    await emu.complete_now(payment.checkout_request_id or "")
    await settle(emu)
    await lipabot.deliver()
    late = await lipabot.service.get(payment.id)
    assert late.status is S.PAID and late.receipt
    outcomes = telegram.outcomes(customer.id)
    assert len(outcomes) == 2
    assert outcomes[1].startswith("Good news: M-Pesa has now confirmed your payment.")
    assert late.receipt in outcomes[1]
    FIGURES.drove("callback faults")
    FIGURES.injected("no final answer")
    FIGURES.delivered({customer.id: 2}, telegram.outcome_counts())


async def test_daraja_unreachable_while_reconciling_then_back(
    lipabot: Instance,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
    watch: QueryWatch,
) -> None:
    phone = phone_for(8)
    emu.drop_callbacks(phone=phone)
    payment = await pay(lipabot, customer, phone)
    await settle(emu)

    watch.down = True
    clock.advance(31)
    await lipabot.reconcile()  # the first query cannot connect
    assert watch.refused >= 1
    waiting = await lipabot.service.get(payment.id)
    assert waiting.status is S.PENDING and waiting.check_attempts == 1
    assert await PaymentEvent.filter(payment_id=payment.id, kind="query_error").count() == 1
    clock.advance(29)
    await lipabot.reconcile()
    assert (await lipabot.service.get(payment.id)).check_attempts == 1, "retried before backoff"

    watch.down = False
    clock.advance(1)  # RECONCILE_AFTER_SECONDS after the failure: the next query is due
    await lipabot.reconcile()
    await lipabot.deliver()
    assert (await lipabot.service.get(payment.id)).status is S.PAID
    assert len(telegram.outcomes(customer.id)) == 1
    FIGURES.drove("callback faults")
    FIGURES.injected("callback dropped")
    FIGURES.injected("daraja unreachable", watch.refused)
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())
