"""/start and deep links, /help, /history, /language, the idle timeout, and restarts."""

from __future__ import annotations

import asyncio

import pytest

from offline.fake_telegram import FakeTelegram, FakeUser
from payments.models import StoredState
from payments.states import PaymentStatus
from tests.support.bot import BotHarness, bot_settings, start_harness, stop_harness
from tests.support.gateway import bot_daraja


async def test_start_welcomes_and_says_how_to_pay(bot: BotHarness, customer: FakeUser) -> None:
    reply = await bot.say(customer, "/start")
    assert reply.startswith("Hi Wanjiku! I take M-Pesa payments for Duka la Mama.")
    assert "/pay" in reply


async def test_deep_link_prefills_amount_and_goes_to_the_phone_step(
    bot: BotHarness, customer: FakeUser
) -> None:
    await bot.say(customer, "/start pay-500")
    assert "Paying KES 500" in bot.fake.texts(customer.id)[1]
    await bot.say(customer, "0712345678")
    payment = await bot.payment_of(customer)
    assert (payment.amount, payment.account_reference) == (500, "lipabot")


async def test_deep_link_with_a_reference(bot: BotHarness, customer: FakeUser) -> None:
    await bot.say(customer, "/start pay-1500-INV042")
    confirmation = await bot.say(customer, "0712345678")
    payment = await bot.payment_of(customer)
    assert (payment.amount, payment.account_reference) == (1500, "INV042")
    assert "Reference: INV042" in confirmation
    await bot.confirm(customer)
    assert bot.gateway.pushes[0]["account_reference"] == payment.account_number


@pytest.mark.parametrize("payload", ["pay-abc", "pay-0", "pay-999999", "donate-5", "pay-5-x!y"])
async def test_invalid_deep_link_gives_the_welcome_and_an_explanation(
    bot: BotHarness, customer: FakeUser, payload: str
) -> None:
    reply = await bot.say(customer, f"/start {payload}")
    texts = bot.fake.texts(customer.id)
    assert texts[0].startswith("Hi Wanjiku!")
    assert "That payment link is not valid" in reply
    # Not in a conversation: a bare amount now starts a payment of its own (issue 13).
    assert (await bot.say(customer, "500")).startswith("Paying KES 500.")
    assert bot.fake.texts(customer.id)[: len(texts)] == texts


async def test_help_lists_admin_commands_only_for_admins(
    bot: BotHarness, customer: FakeUser, admin_user: FakeUser
) -> None:
    assert "/reconcile" not in await bot.say(customer, "/help")
    assert "/reconcile" in await bot.say(admin_user, "/help")


async def test_history_shows_only_your_own_payments(
    bot: BotHarness, customer: FakeUser, other_customer: FakeUser
) -> None:
    assert "no payments yet" in await bot.say(customer, "/history")
    await bot.pay_up_to_confirmation(other_customer, amount="999", phone="0722000111")
    await bot.pay_up_to_confirmation(customer, amount="1500")
    payment = await bot.confirm(customer)
    await bot.callback(payment, 0, receipt="TBF34EVY55")
    history = await bot.say(customer, "/history")
    assert history.startswith("Your last payments:")
    assert "KES 1,500 · paid · TBF34EVY55" in history
    assert "999" not in history


async def test_language_switch_is_remembered_and_used_for_new_payments(
    bot: BotHarness, customer: FakeUser
) -> None:
    await bot.say(customer, "/language")
    assert [b["callback_data"] for b in bot.fake.buttons(customer.id)] == ["lang:en", "lang:sw"]
    await bot.press(customer, "lang:sw")
    assert bot.fake.last(customer.id).text == "Sawa, nitazungumza Kiswahili."
    assert "kiasi gani" in await bot.say(customer, "/pay")
    await bot.say(customer, "500")
    await bot.say(customer, "0712345678")
    assert (await bot.payment_of(customer)).language == "sw"
    await bot.press(customer, "lang:xx")
    assert bot.fake.answers()[-1]["text"] == "Kitufe hiki hakitumiki tena."


async def test_idle_conversation_times_out_politely(
    sqlite_db: object, fake_telegram: FakeTelegram, customer: FakeUser
) -> None:
    harness = await start_harness(
        bot_settings(bot_conversation_timeout_seconds=0.3),
        fake_telegram,
        bot_daraja(),
    )
    try:
        payment = await harness.pay_up_to_confirmation(customer)
        confirmation = fake_telegram.last(customer.id).message_id
        async with asyncio.timeout(3):
            await fake_telegram.wait_until(
                lambda: "stopped waiting" in fake_telegram.last(customer.id).text
            )
        assert "Nothing was charged" in fake_telegram.last(customer.id).text
        assert (await harness.service.get(payment.id)).status == PaymentStatus.CANCELLED
        # The conversation is over: the old Confirm button pushes nothing.
        await harness.press(customer, f"pay:{payment.id}", message_id=confirmation)
        assert harness.gateway.pushes == []
    finally:
        await stop_harness(harness)


async def test_conversation_and_language_survive_a_restart(
    sqlite_db: object, fake_telegram: FakeTelegram, customer: FakeUser
) -> None:
    first = await start_harness(bot_settings(), fake_telegram, bot_daraja())
    await first.say(customer, "/language")
    await first.press(customer, "lang:sw")
    await first.say(customer, "/pay")
    await first.say(customer, "750")
    await stop_harness(first)
    stored = await StoredState.filter(namespace__startswith="ptb:").values_list("namespace", "key")
    assert ("ptb:user_data", str(customer.id)) in stored
    assert ("ptb:conversation:pay", f"[{customer.id}, {customer.id}]") in stored

    second = await start_harness(bot_settings(), fake_telegram, bot_daraja())
    try:
        # The new instance picks up at the phone step, in Kiswahili, with the amount kept.
        reply = await second.say(customer, "0712345678")
        assert "Tafadhali hakikisha" in reply
        assert "KES 750" in reply
    finally:
        await stop_harness(second)
