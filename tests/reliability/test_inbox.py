"""The Telegram inbox under redelivery, crashes and two instances (SQLite and PostgreSQL).

Updates go through the real webhook route (secret, parsing, the inbox INSERT before the 200)
and the real PTB Application of each harness instance; the fake Telegram records the answers.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.context import inbox_of
from bot.inbox import Inbox
from daraja.timestamps import now_utc
from offline.fake_telegram import FakeUser
from payments.models import InboundUpdate
from tests.support.db import TestDatabase
from tests.support.figures import FIGURES
from tests.support.harness import Instance, Launch, TelegramSeam, eventually

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": "tg-webhook-secret"}


async def post(instance: Instance, update: dict[str, Any]) -> int:
    async with instance.client("149.154.167.220") as client:
        return (await client.post("/telegram/webhook", json=update, headers=HEADERS)).status_code


async def processed(instance: Instance) -> None:
    async with asyncio.timeout(10):
        await instance.application.update_queue.join()


async def open_updates() -> int:
    return await InboundUpdate.filter(done_at__isnull=True).count()


async def test_a_redelivered_update_is_processed_once(
    db: TestDatabase, launch: Launch, customer: FakeUser, telegram: TelegramSeam
) -> None:
    a, b = await launch("a"), await launch("b")
    update = telegram.fake.command(customer, "help")
    # Telegram retries (our answer was lost), and a retry may reach the other replica.
    assert [await post(a, update), await post(a, update), await post(b, update)] == [200] * 3
    await processed(a)
    await processed(b)
    assert await post(b, update) == 200  # even after it was done
    await processed(b)
    assert len(telegram.texts_to(customer.id)) == 1
    assert await open_updates() == 0
    FIGURES.injected("telegram update redelivered", 3)
    FIGURES.delivered({customer.id: 1}, {customer.id: len(telegram.texts_to(customer.id))})


async def test_two_instances_drain_a_crashed_instances_inbox_once_each_in_order(
    db: TestDatabase, launch: Launch, telegram: TelegramSeam
) -> None:
    """Updates a dead instance acknowledged (its leases run out); both survivors drain them."""
    fake = telegram.fake
    customers = [FakeUser(id=8100 + i, first_name=f"C{i}") for i in range(12)]
    crashed = Inbox(owner="crashed", lease_seconds=1, clock=lambda: now_utc() - timedelta(60))
    for customer in customers:
        # A whole /pay conversation per customer: out of order, it cannot reach the confirmation.
        for text in ("/pay", "1500", f"0712{customer.id:06d}"):
            update = fake.text(customer, text)
            await crashed.accept(
                update["update_id"], update, chat_id=customer.id, user_id=customer.id
            )
    a, b = await launch("a"), await launch("b")

    async def drained() -> bool:
        await asyncio.gather(inbox_of(a.application).drain_once(), drain(b))
        return await open_updates() == 0

    async def drain(instance: Instance) -> int:
        return await inbox_of(instance.application).drain_once()

    await eventually(drained, within=30)
    await processed(a)
    await processed(b)
    for customer in customers:
        replies = telegram.texts_to(customer.id)
        # How much? / Which number? / Number ✓ / Please check … Confirm: once each, in order.
        assert [r.split(" ", 1)[0] for r in replies] == ["How", "Paying", "Number", "Please"]
        assert "Confirm" in str(fake.buttons(customer.id)), replies
    by = {d.by for d in telegram.delivered}
    assert by == {"a", "b"}, "both instances should have taken part"
    FIGURES.drove("telegram inbox", len(customers))
    FIGURES.injected("instance crashed with acknowledged updates", len(customers) * 3)
    FIGURES.delivered(
        {c.id: 4 for c in customers}, {c.id: len(telegram.texts_to(c.id)) for c in customers}
    )
