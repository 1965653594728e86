"""The builder: polling mode against the fake Bot API, shared user data, errors, command menu."""

from __future__ import annotations

import asyncio

from bot.app import build_application, publish_commands
from bot.context import BotServices
from offline.fake_telegram import FakeTelegram, FakeUser
from payments.daraja_gateway import DarajaGateway
from payments.outbox import Outbox
from payments.rules import PaymentRules
from payments.service import PaymentService
from tests.support.bot import BotHarness, bot_settings, start_harness, stop_harness
from tests.support.db import TestDatabase
from tests.support.gateway import bot_daraja


async def test_polling_mode_answers_queued_updates(
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
        get_updates_request=fake_telegram.request(read_timeout=5),
        updater=True,
    )
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        fake_telegram.enqueue(fake_telegram.text(customer, "/pay"))
        async with asyncio.timeout(3):
            await fake_telegram.wait_until(lambda: bool(fake_telegram.messages[customer.id]))
        await app.updater.stop()
        await app.stop()
    assert fake_telegram.texts(customer.id)[0].startswith("How much do you want to pay")
    assert fake_telegram.calls_to("deleteWebhook")  # PTB clears any webhook before polling


async def test_language_chosen_on_one_instance_is_seen_by_another(
    sqlite_db: TestDatabase, fake_telegram: FakeTelegram, customer: FakeUser
) -> None:
    first = await start_harness(bot_settings(), fake_telegram, bot_daraja())
    second = await start_harness(bot_settings(), fake_telegram, bot_daraja())
    try:
        await second.say(customer, "/help")  # the second instance has seen this user before
        await first.say(customer, "/language")
        await first.press(customer, "lang:sw")
        assert "Jinsi ya kulipa" in await second.say(customer, "/help")
    finally:
        await stop_harness(first)
        await stop_harness(second)


async def test_an_unexpected_error_is_logged_and_the_user_hears_something(
    bot: BotHarness, customer: FakeUser
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    bot.service.recent_for_user = broken  # type: ignore[method-assign]
    reply = await bot.say(customer, "/history")
    # The database is what failed: a prompt may be out, so nothing about charges is claimed.
    assert reply.startswith("Sorry, something went wrong on our side.")
    assert "Nothing was charged" not in reply
    assert "being checked with M-Pesa" in reply


async def test_an_error_after_the_prompt_went_out_says_it_is_being_checked(
    bot: BotHarness, customer: FakeUser
) -> None:
    await bot.pay_up_to_confirmation(customer, amount="700")
    await bot.confirm(customer)  # the prompt is out: the payment is pending
    real = bot.service.recent_for_user
    calls = 0

    async def fails_once(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug in /history")
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    bot.service.recent_for_user = fails_once  # type: ignore[method-assign]
    reply = await bot.say(customer, "/history")
    assert "Nothing was charged" not in reply
    assert reply == (
        "Sorry, something went wrong on our side. Your payment of KES 700 is being checked "
        "with M-Pesa: I will tell you here how it ended. Please do not pay again until then."
    )


async def test_phone_busy_with_someone_elses_payment(
    bot: BotHarness, customer: FakeUser, other_customer: FakeUser
) -> None:
    await bot.pay_up_to_confirmation(other_customer, amount="300")
    await bot.confirm(other_customer)
    await bot.say(customer, "/pay")
    await bot.say(customer, "500")
    reply = await bot.say(customer, "0712345678")
    assert reply.startswith("That number already has an M-Pesa payment waiting.")
    assert "300" not in reply  # nothing about the other person's payment
    assert len(bot.gateway.pushes) == 1


async def test_command_menu_in_both_languages(fake_telegram: FakeTelegram) -> None:
    from telegram import Bot

    from tests.support.settings import TEST_BOT_TOKEN

    async with Bot(
        TEST_BOT_TOKEN, base_url="https://telegram.test/bot", request=fake_telegram.request()
    ) as bot:
        await publish_commands(bot)
    calls = fake_telegram.calls_to("setMyCommands")
    assert [c.get("language_code") for c in calls] == [None, "sw"]
    assert {"command": "pay", "description": "Lipa kwa M-Pesa"} in calls[1]["commands"]
