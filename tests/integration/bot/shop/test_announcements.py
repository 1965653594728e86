"""Every paid payment is announced once to the admins and the staff chat, through the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from offline.fake_telegram import FakeTelegram, FakeUser
from payments.models import Notification
from tests.support.bot import BotHarness, bot_settings, start_harness, stop_harness
from tests.support.gateway import bot_daraja

ADMIN = 1000  # tests.support.settings: ADMIN_IDS
STAFF = -1001234567890


@pytest.fixture
async def shop_bot(db: object, fake_telegram: FakeTelegram) -> AsyncIterator[BotHarness]:
    harness = await start_harness(
        bot_settings(admin_chat_id=STAFF), fake_telegram, bot_daraja(), announce=True
    )
    try:
        yield harness
    finally:
        await stop_harness(harness)


def announcements(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [text for text in fake.texts(chat_id) if text.startswith("💰")]


async def pay(bot: BotHarness, user: FakeUser, amount: str, code: int, receipt: str) -> int:
    payment = await bot.pay_up_to_confirmation(user, amount=amount)
    payment = await bot.confirm(user)
    await bot.callback(payment, code, receipt=receipt)
    await bot.deliver()
    return payment.id


async def test_a_paid_payment_is_announced_once_in_one_line(
    shop_bot: BotHarness, customer: FakeUser
) -> None:
    payment_id = await pay(shop_bot, customer, "1500", 0, "UKS2DT8DKK")
    for chat in (ADMIN, STAFF):
        (line,) = announcements(shop_bot.fake, chat)
        assert line == (
            "💰 KES 1,500 from Wanjiku (2547•••••678) · receipt UKS2DT8DKK · ref lipabot"
        )
    # Daraja's duplicate callback changes nothing and announces nothing.
    payment = await shop_bot.service.get(payment_id)
    await shop_bot.callback(payment, 0, receipt="UKS2DT8DKK")
    await shop_bot.deliver()
    assert len(announcements(shop_bot.fake, ADMIN)) == 1
    assert len(announcements(shop_bot.fake, customer.id)) == 0  # never to the payer


async def test_failures_are_not_announced(shop_bot: BotHarness, customer: FakeUser) -> None:
    await pay(shop_bot, customer, "500", 1032, "UNUSED0000")
    assert announcements(shop_bot.fake, ADMIN) == []
    assert announcements(shop_bot.fake, STAFF) == []


async def test_the_announcement_survives_a_restart(
    db: object, fake_telegram: FakeTelegram, customer: FakeUser
) -> None:
    first = await start_harness(bot_settings(), fake_telegram, bot_daraja(), announce=True)
    try:
        payment = await first.pay_up_to_confirmation(customer, amount="700")
        payment = await first.confirm(customer)
        await first.callback(payment, 0, receipt="UKS2DT8DKL")
    finally:
        await stop_harness(first)  # stopped before its notifier ran: the rows are in the outbox
    assert announcements(fake_telegram, ADMIN) == []
    second = await start_harness(bot_settings(), fake_telegram, bot_daraja(), announce=True)
    try:
        await second.deliver()
        assert len(announcements(fake_telegram, ADMIN)) == 1
        assert await second.deliver() == 0
    finally:
        await stop_harness(second)
    assert len(announcements(fake_telegram, ADMIN)) == 1


async def test_admin_notify_payments_0_turns_it_off(
    db: object, fake_telegram: FakeTelegram, customer: FakeUser
) -> None:
    harness = await start_harness(
        bot_settings(admin_notify_payments=False), fake_telegram, bot_daraja(), announce=True
    )
    try:
        await pay(harness, customer, "500", 0, "UKS2DT8DKP")
        assert announcements(fake_telegram, ADMIN) == []
        assert not await Notification.filter(kind="announce").exists()
    finally:
        await stop_harness(harness)
