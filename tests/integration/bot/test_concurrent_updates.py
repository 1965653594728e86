"""Updates through the application's queue run concurrently, yet each conversation stays whole.

Eight customers send /pay, an amount and a phone number, interleaved, all queued at once (as the
webhook route does): every one ends at the confirmation with their own amount and phone.
"""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.app import PerChatUserUpdateProcessor
from bot.fake_telegram import FakeUser
from payments.states import PaymentStatus
from tests.integration.bot.conftest import BotHarness


async def test_interleaved_conversations_through_the_queue_each_reach_confirmation(
    bot: BotHarness,
) -> None:
    assert isinstance(bot.app.update_processor, PerChatUserUpdateProcessor)
    assert bot.app.concurrent_updates > 1
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
