"""Telegram misbehaving while the notifier delivers: flood control, 5xx, refused connections.

The outcome must reach the customer exactly once after Telegram recovers, and never before the
wait Telegram asked for. Time is the harness clock (the outbox schedules retries with it).
"""

from __future__ import annotations

import asyncio

from daraja.emulator import Emulator
from offline.fake_telegram import FakeUser
from payments.models import Notification, NotificationStatus
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.figures import FIGURES
from tests.support.harness import Instance, TelegramSeam, local_phone, phone_for

S = PaymentStatus


async def paid_but_not_told(lipabot: Instance, user: FakeUser, emu: Emulator, index: int) -> int:
    draft = await lipabot.start_payment(user, "750", local_phone(phone_for(index)))
    await lipabot.confirm(user, draft.id)
    async with asyncio.timeout(5):
        await emu.drain()
    assert (await lipabot.service.get(draft.id)).status is S.PAID
    return draft.id


async def test_429_then_success_delivers_once_after_retry_after(
    lipabot: Instance,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
) -> None:
    payment_id = await paid_but_not_told(lipabot, customer, emu, 10)
    telegram.fake.fail_retry_after(7, method="editMessageText")

    assert await lipabot.deliver() == 0
    row = await Notification.get(payment_id=payment_id)
    assert row.status is NotificationStatus.PENDING and "RetryAfter" in (row.last_error or "")
    clock.advance(6)
    assert await lipabot.deliver() == 0, "retried before Telegram's retry_after"
    clock.advance(1)
    assert await lipabot.deliver() == 1
    assert await lipabot.deliver() == 0

    outcomes = telegram.outcomes(customer.id)
    assert len(outcomes) == 1 and outcomes[0].startswith("Paid ✓")
    row = await Notification.get(payment_id=payment_id)
    assert row.status is NotificationStatus.SENT and row.attempts == 2
    FIGURES.drove("telegram faults")
    FIGURES.injected("telegram 429")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())


async def test_telegram_down_for_a_while_then_delivered_once(
    lipabot: Instance,
    customer: FakeUser,
    other_customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
) -> None:
    first = await paid_but_not_told(lipabot, customer, emu, 11)
    second = await paid_but_not_told(lipabot, other_customer, emu, 12)

    telegram.down = True  # connection refused
    for _ in range(4):
        assert await lipabot.deliver() == 0
        clock.advance(400)  # past the longest backoff
    telegram.down = False
    telegram.fake.fail_server_error(502, times=None)  # up again, but answering 502
    for _ in range(3):
        assert await lipabot.deliver() == 0
        clock.advance(400)
    telegram.fake.clear_failures()
    assert await lipabot.deliver() == 2
    clock.advance(400)
    assert await lipabot.deliver() == 0

    assert telegram.refused >= 8
    for user, payment_id in ((customer, first), (other_customer, second)):
        outcomes = telegram.outcomes(user.id)
        assert len(outcomes) == 1 and outcomes[0].startswith("Paid ✓")
        row = await Notification.get(payment_id=payment_id)
        assert row.status is NotificationStatus.SENT and row.attempts == 8
    FIGURES.drove("telegram faults", 2)
    FIGURES.injected("telegram connection refused", telegram.refused)
    FIGURES.injected("telegram 502", 6)
    FIGURES.delivered({customer.id: 1, other_customer.id: 1}, telegram.outcome_counts())


async def test_slow_backoff_is_respected_while_telegram_is_down(
    lipabot: Instance, customer: FakeUser, emu: Emulator, clock: Clock, telegram: TelegramSeam
) -> None:
    """A down Telegram is not hammered: the next attempt waits for the backoff."""
    await paid_but_not_told(lipabot, customer, emu, 13)
    telegram.down = True
    await lipabot.deliver()
    refused = telegram.refused
    await lipabot.deliver()
    await lipabot.deliver()
    assert telegram.refused == refused, "retried at once instead of backing off"
    telegram.down = False
    clock.advance(2)
    assert await lipabot.deliver() == 1
    assert len(telegram.outcomes(customer.id)) == 1
    FIGURES.drove("telegram faults")
    FIGURES.injected("telegram connection refused", refused)
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())


async def test_lost_answer_after_telegram_edited_is_not_a_second_message(
    lipabot: Instance, customer: FakeUser, emu: Emulator, clock: Clock, telegram: TelegramSeam
) -> None:
    """Telegram applied the edit but the answer timed out: the retry must not say it twice."""
    payment_id = await paid_but_not_told(lipabot, customer, emu, 14)
    telegram.lose_answers = 1
    assert await lipabot.deliver() == 0
    clock.advance(2)
    assert await lipabot.deliver() == 1  # "message is not modified": already there

    assert len(telegram.outcomes(customer.id)) == 1
    status = telegram.fake.last(customer.id)
    assert status.text.startswith("Paid ✓") and status.edits == 2  # check-phone, then paid
    row = await Notification.get(payment_id=payment_id)
    assert row.status is NotificationStatus.SENT
    FIGURES.drove("telegram faults")
    FIGURES.injected("telegram answer lost")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())
