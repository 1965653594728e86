"""Updates through the application's queue run concurrently, yet each conversation stays whole.

Eight customers send /pay, an amount and a phone number, interleaved, all queued at once (as the
webhook route does): every one ends at the confirmation with their own amount and phone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Update

from bot.app import PerChatUserUpdateProcessor, build_application
from bot.context import BotServices
from config import Settings
from offline.fake_telegram import FakeTelegram, FakeUser
from payments.daraja_gateway import DarajaGateway
from payments.outbox import Outbox
from payments.rules import PaymentRules
from payments.service import PaymentService
from payments.states import PaymentStatus
from tests.support.bot import BotHarness
from tests.support.db import TestDatabase
from tests.support.gateway import bot_daraja


@pytest.fixture
async def bot(
    sqlite_db: TestDatabase, settings: Settings, fake_telegram: FakeTelegram
) -> AsyncIterator[BotHarness]:
    """The conftest harness, but with 8 concurrent updates."""
    gateway = bot_daraja()
    service = PaymentService(
        DarajaGateway(gateway),
        rules=PaymentRules.from_settings(settings),
        callback_url="https://lipabot.test/payments/callback/x",
    )
    outbox = Outbox()
    application = build_application(
        settings,
        BotServices(payments=service, outbox=outbox, owner="test-instance"),
        request=fake_telegram.request(),
        concurrent_updates=8,
    )
    await application.initialize()
    await application.start()
    try:
        yield BotHarness(application, fake_telegram, gateway, service, outbox)
    finally:
        await application.stop()
        await application.shutdown()


async def test_interleaved_conversations_through_the_queue_each_reach_confirmation(
    bot: BotHarness,
) -> None:
    assert isinstance(bot.app.update_processor, PerChatUserUpdateProcessor)
    assert bot.app.concurrent_updates == 8
    users = [FakeUser(id=7000 + i, first_name=f"c{i}") for i in range(8)]
    steps = [
        lambda u: "/pay",
        lambda u: str(100 + u.id % 100),
        lambda u: f"07123450{u.id % 100:02d}",
    ]
    for step in steps:
        for user in users:
            data = bot.fake.text(user, step(user))
            await bot.app.update_queue.put(Update.de_json(data, bot.app.bot))
    async with asyncio.timeout(20):
        await bot.app.update_queue.join()
    for user in users:
        payment = await bot.payment_of(user)
        assert payment.status is PaymentStatus.CREATED  # waiting for the Confirm tap
        assert payment.amount == 100 + user.id % 100
        assert payment.phone == f"2547123450{user.id % 100:02d}"
        assert bot.fake.buttons(user.id), "the confirmation with its buttons was sent"
