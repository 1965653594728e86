"""The fake Bot API behaves like Telegram where the bot can tell the difference."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from offline.fake_telegram import FakeTelegram, FakeUser
from tests.support.settings import TEST_BOT_TOKEN

BASE_URL = "https://telegram.test/bot"


def _bot(fake: FakeTelegram, **kwargs: object) -> Bot:
    return Bot(
        TEST_BOT_TOKEN,
        base_url=BASE_URL,
        request=fake.request(**kwargs),  # type: ignore[arg-type]
        get_updates_request=fake.request(read_timeout=3),
    )


async def test_send_and_edit_keep_per_chat_message_ids(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Confirm", callback_data="pay:1")]])
        first = await bot.send_message(7, "500", reply_markup=markup)
        second = await bot.send_message(7, "two")
        other = await bot.send_message(8, "hello")
        await bot.edit_message_text("Paid", chat_id=7, message_id=first.message_id)
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert first.text == "500"  # strings stay strings even when they look like numbers
    assert fake_telegram.texts(7) == ["Paid", "two"]
    assert fake_telegram.messages[7][1].history == ["500"]
    assert fake_telegram.calls_to("sendMessage")[0]["reply_markup"] == markup.to_dict()


async def test_edit_errors_are_telegrams(fake_telegram: FakeTelegram) -> None:
    async with _bot(fake_telegram) as bot:
        sent = await bot.send_message(7, "same")
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("same", chat_id=7, message_id=sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=7, message_id=99)


async def test_flood_control_then_success(fake_telegram: FakeTelegram) -> None:
    fake_telegram.fail_retry_after(3, method="sendMessage")
    async with _bot(fake_telegram) as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(7, "a")
        assert caught.value.retry_after == timedelta(seconds=3)
        await bot.send_message(7, "b")
    assert fake_telegram.texts(7) == ["b"]


async def test_blocked_chat_unknown_chat_server_error_and_slowness(
    fake_telegram: FakeTelegram,
) -> None:
    fake_telegram.block_chat(7)
    fake_telegram.unknown_chat(9)
    async with _bot(fake_telegram, read_timeout=0.05) as bot:
        with pytest.raises(Forbidden, match="blocked by the user"):
            await bot.send_message(7, "a")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(9, "a")
        await bot.send_message(8, "other chats are fine")
        fake_telegram.fail_server_error(502, times=2)
        for _ in range(2):
            with pytest.raises(NetworkError):
                await bot.send_message(8, "a")
        fake_telegram.fail_timeout()
        with pytest.raises(TimedOut):
            await bot.send_message(8, "no answer")
        await bot.send_message(8, "recovered")
    assert fake_telegram.texts(8)[-1] == "recovered"


async def test_wrong_token_is_unauthorized(fake_telegram: FakeTelegram) -> None:
    transport = fake_telegram.transport()
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/bot999:wrong/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_update_builders_parse_as_telegram_updates(fake_telegram: FakeTelegram) -> None:
    user = FakeUser(42, language_code="sw")
    async with _bot(fake_telegram) as bot:
        command = Update.de_json(fake_telegram.command(user, "start", "pay-500"), bot)
        contact = Update.de_json(fake_telegram.contact(user, "+254712345678"), bot)
        sticker = Update.de_json(fake_telegram.sticker(user), bot)
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Confirm", callback_data="pay:5")]])
        sent = await bot.send_message(42, "Confirm?", reply_markup=markup)
        press = Update.de_json(fake_telegram.press(user, "pay:5"), bot)
    assert command.message.text == "/start pay-500"
    assert command.message.entities[0].type == "bot_command"
    assert contact.message.contact.user_id == 42
    assert sticker.message.sticker is not None
    assert press.callback_query.data == "pay:5"
    # Message ids are per chat and shared by both sides, as in Telegram.
    assert sent.message_id == 4
    assert press.callback_query.message.message_id == sent.message_id
    assert command.update_id < contact.update_id < press.update_id
    assert command.effective_user.language_code == "sw"


async def test_get_updates_long_polls_and_honours_offset(fake_telegram: FakeTelegram) -> None:
    user = FakeUser(42)
    async with _bot(fake_telegram) as bot:
        empty = await bot.get_updates(timeout=0)
        later = asyncio.get_running_loop().call_later(
            0.05, fake_telegram.enqueue, fake_telegram.text(user, "hi")
        )
        got = await bot.get_updates(timeout=1)
        again = await bot.get_updates(offset=got[0].update_id + 1, timeout=0)
        later.cancel()
    assert empty == ()
    assert [u.message.text for u in got] == ["hi"]
    assert again == ()


async def test_served_over_a_real_socket(fake_telegram: FakeTelegram) -> None:
    fake_telegram.fail_slow(0.5, method="sendMessage")
    async with fake_telegram.serve() as api_url:
        request = HTTPXRequest(read_timeout=0.1)
        async with Bot(TEST_BOT_TOKEN, base_url=api_url, request=request) as bot:
            me = await bot.get_me()
            with pytest.raises(TimedOut):
                await bot.send_message(3, "too slow")
            await bot.send_message(3, "over tcp")
    assert me.username == "lipa_test_bot"
    # Like Telegram, a request the client gave up on may still have been carried out.
    assert sorted(fake_telegram.texts(3)) == ["over tcp", "too slow"]
