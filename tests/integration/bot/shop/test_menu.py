"""The admins' command menu and /help list the shop's commands; customers see neither."""

from __future__ import annotations

from telegram import Bot

from bot.app import publish_commands
from bot.texts import t
from offline.fake_telegram import FakeTelegram, FakeUser
from tests.support.bot import BotHarness
from tests.support.settings import TEST_BOT_TOKEN

SHOP = ["link", "export", "find", "report"]


async def test_admins_get_the_shop_commands_in_their_menu(fake_telegram: FakeTelegram) -> None:
    async with Bot(
        TEST_BOT_TOKEN, base_url="https://telegram.test/bot", request=fake_telegram.request()
    ) as bot:
        await publish_commands(bot, admin_ids=[1000, 1001])
    default = [c["command"] for c in fake_telegram.commands_for({"type": "default"})]
    assert default == ["pay", "history", "language", "help", "cancel"]
    for admin in (1000, 1001):
        menu = fake_telegram.commands_for({"type": "chat", "chat_id": admin})
        names = [c["command"] for c in menu]
        assert names[:5] == default and names[-4:] == SHOP
        assert {"command": "link", "description": t("en", "menu_link")} in menu
        sw_menu = fake_telegram.commands_for({"type": "chat", "chat_id": admin}, "sw")
        assert {"command": "export", "description": t("sw", "menu_export")} in sw_menu


async def test_help_tells_admins_about_the_shop_commands(
    shop: BotHarness, admin_user: FakeUser, customer: FakeUser
) -> None:
    assert t("en", "help_shop") in await shop.say(admin_user, "/help")
    assert "/link" not in await shop.say(customer, "/help")
