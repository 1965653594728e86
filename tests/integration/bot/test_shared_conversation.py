"""SharedConversationHandler against PTB itself: the private seams it uses are pinned here.

If a PTB upgrade changes `ConversationHandler._conversations`, `_get_key` or `PendingState`,
these tests fail instead of the bot silently keeping conversation state per instance.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from telegram import Update
from telegram.ext import (
    Application,
    CallbackContext,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.app import build_application
from bot.context import BotServices
from bot.persistence import DatabasePersistence
from bot.shared_conversation import SharedConversationHandler, write_through
from daraja.timestamps import now_utc
from offline.fake_telegram import FakeTelegram, FakeUser
from payments.daraja_gateway import DarajaGateway
from payments.outbox import Outbox
from payments.rules import PaymentRules
from payments.service import PaymentService
from tests.support.bot import bot_settings
from tests.support.db import TestDatabase
from tests.support.gateway import bot_daraja
from tests.support.settings import TEST_BOT_TOKEN

ONE, TWO = 1, 2
Context = CallbackContext[Any, Any, Any, Any]


class Toy:
    """A two-state conversation with a slow, non-blocking step in state ONE."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.heard: list[str] = []
        self.conversation: SharedConversationHandler[Any] = SharedConversationHandler(
            entry_points=[CommandHandler("go", self.go)],
            states={
                ONE: [MessageHandler(filters.Regex("^slow$"), self.slow, block=False)],
                TWO: [MessageHandler(filters.TEXT, self.in_two)],
                ConversationHandler.WAITING: [MessageHandler(filters.TEXT, self.waiting)],
            },
            fallbacks=[],
            name="toy",
            persistent=True,
        )

    async def go(self, update: Update, context: Context) -> int:
        self.heard.append("go")
        return ONE

    async def slow(self, update: Update, context: Context) -> int:
        self.heard.append("slow")
        self.started.set()
        await self.release.wait()
        return TWO

    async def in_two(self, update: Update, context: Context) -> int:
        self.heard.append("two")
        return TWO

    async def waiting(self, update: Update, context: Context) -> None:
        self.heard.append("waiting")


@pytest.fixture
async def toy_app(
    db: TestDatabase, fake_telegram: FakeTelegram
) -> AsyncIterator[tuple[Application[Any, Any, Any, Any, Any, Any], Toy]]:
    toy = Toy()
    app = (
        Application.builder()
        .token(TEST_BOT_TOKEN)
        .base_url("https://telegram.test/bot")
        .request(fake_telegram.request())
        .persistence(DatabasePersistence())
        .updater(None)
        .build()
    )
    app.add_handler(toy.conversation.sync_handler(), -1)
    app.add_handler(toy.conversation, 0)
    app.add_handler(TypeHandler(Update, write_through), 99)
    async with app:
        await app.start()
        yield app, toy
        toy.release.set()
        await app.stop()


async def feed(app: Application[Any, Any, Any, Any, Any, Any], update: dict[str, Any]) -> Update:
    parsed = Update.de_json(update, app.bot)
    await app.process_update(parsed)
    return parsed


async def test_state_written_by_another_instance_is_what_check_update_sees(
    toy_app: tuple[Application[Any, Any, Any, Any, Any, Any], Toy],
    fake_telegram: FakeTelegram,
    customer: FakeUser,
) -> None:
    app, toy = toy_app
    key = (customer.id, customer.id)
    elsewhere = DatabasePersistence()
    await elsewhere.update_conversation("toy", key, TWO)

    update = await feed(app, fake_telegram.text(customer, "hello"))
    assert toy.heard == ["two"]
    # The key SharedConversationHandler reads is the key PTB routes by.
    assert toy.conversation.key_of(update) == key
    check = toy.conversation.check_update(update)
    assert check is not None and check[0] == TWO and check[1] == key

    await elsewhere.read_conversation("toy", key)
    await elsewhere.update_conversation("toy", key, None)  # ended over there
    await feed(app, fake_telegram.text(customer, "hello"))
    assert toy.heard == ["two"]  # not in the conversation any more: nobody answered
    assert (
        toy.conversation.check_update(Update.de_json(fake_telegram.text(customer, "x"), None))
        is None
    )


async def test_a_running_non_blocking_step_is_not_overwritten(
    toy_app: tuple[Application[Any, Any, Any, Any, Any, Any], Toy],
    fake_telegram: FakeTelegram,
    customer: FakeUser,
) -> None:
    app, toy = toy_app
    await feed(app, fake_telegram.command(customer, "go"))
    await feed(app, fake_telegram.text(customer, "slow"))
    async with asyncio.timeout(2):
        await toy.started.wait()  # the slow step is running, in a task
    # Whatever the row says (the previous state, written while the step is pending), this
    # instance knows a step is under way and PTB answers from WAITING.
    await feed(app, fake_telegram.text(customer, "anything"))
    assert toy.heard == ["go", "slow", "waiting"]

    toy.release.set()
    await asyncio.sleep(0.05)
    await feed(app, fake_telegram.text(customer, "after"))
    assert toy.heard[-1] == "two"  # the step's result, TWO, is the state now
    stored = await DatabasePersistence().read_conversation("toy", (customer.id, customer.id))
    assert stored is not None and stored.state == TWO


async def test_ignored_updates_are_left_alone(
    toy_app: tuple[Application[Any, Any, Any, Any, Any, Any], Toy],
) -> None:
    app, toy = toy_app
    channel_post = {
        "update_id": 99,
        "channel_post": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": -100, "type": "channel", "title": "news"},
            "text": "hello",
        },
    }
    update = await feed(app, channel_post)
    assert toy.conversation.key_of(update) is None
    assert toy.conversation.key_of("not an update") is None
    assert toy.heard == []


def test_a_shared_conversation_must_be_named_and_persistent() -> None:
    with pytest.raises(ValueError, match="name and persistent"):
        SharedConversationHandler(entry_points=[], states={}, fallbacks=[], name="x")
    with pytest.raises(ValueError, match="name and persistent"):
        SharedConversationHandler(entry_points=[], states={}, fallbacks=[], persistent=True)


def test_states_outside_a_persistent_application_are_refused_loudly() -> None:
    conversation: SharedConversationHandler[Any] = SharedConversationHandler(
        entry_points=[], states={}, fallbacks=[], name="x", persistent=True
    )
    with pytest.raises(RuntimeError, match="TrackingDict"):
        conversation._live_states()


async def test_without_persistence_the_conversation_lives_in_memory(
    sqlite_db: TestDatabase, fake_telegram: FakeTelegram, customer: FakeUser
) -> None:
    settings = bot_settings()
    service = PaymentService(
        DarajaGateway(bot_daraja()),
        rules=PaymentRules.from_settings(settings),
        callback_url="https://x/cb",
    )
    app = build_application(
        settings,
        BotServices(payments=service, outbox=Outbox()),
        request=fake_telegram.request(),
        persistence=False,
    )
    assert app.persistence is None
    assert not any(isinstance(h, TypeHandler) for h in app.handlers.get(-1, []))
    async with app:
        await app.start()
        await feed(app, fake_telegram.text(customer, "/pay"))
        await feed(app, fake_telegram.text(customer, "500"))
        await app.stop()
    assert any("Paying KES 500" in text for text in fake_telegram.texts(customer.id))


async def test_a_stale_state_without_timeout_handlers_is_ended_all_the_same(
    db: TestDatabase, fake_telegram: FakeTelegram, customer: FakeUser
) -> None:
    heard: list[str] = []

    async def in_one(update: Update, context: Context) -> int:
        heard.append("one")
        return ONE

    conversation: SharedConversationHandler[Any] = SharedConversationHandler(
        entry_points=[],
        states={ONE: [MessageHandler(filters.TEXT, in_one)]},
        fallbacks=[],
        name="quiet",
        persistent=True,
        conversation_timeout=60,
    )
    persistence = DatabasePersistence()
    app = (
        Application.builder()
        .token(TEST_BOT_TOKEN)
        .base_url("https://telegram.test/bot")
        .request(fake_telegram.request())
        .persistence(persistence)
        .updater(None)
        .build()
    )
    app.add_handler(conversation.sync_handler(), -1)
    app.add_handler(conversation, 0)
    key = (customer.id, customer.id)
    await DatabasePersistence().update_conversation("quiet", key, ONE)
    async with app:
        await app.start()
        persistence.clock = lambda: now_utc() + timedelta(seconds=61)
        await feed(app, fake_telegram.text(customer, "hello"))
        await app.stop()
    assert heard == []  # the stale state was not carried on
    assert await DatabasePersistence().read_conversation("quiet", key) is None
