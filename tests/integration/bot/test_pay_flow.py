"""The /pay conversation end to end through the real handler stack, service and database."""

from __future__ import annotations

import asyncio

import pytest

from bot.texts import t
from offline.fake_telegram import FakeUser
from payments.models import Payment
from payments.service import DRAFT_TTL
from payments.states import PaymentStatus
from tests.support.bot import BotHarness


async def test_happy_path_ends_with_the_receipt_in_the_same_message(
    bot: BotHarness, customer: FakeUser
) -> None:
    assert "How much" in await bot.say(customer, "/pay")
    ask_phone = await bot.say(customer, "1500")
    assert "Paying KES 1,500" in ask_phone
    share = bot.fake.calls_to("sendMessage")[-1]["reply_markup"]["keyboard"][0][0]
    assert share["request_contact"] is True

    confirmation = await bot.say(customer, "0712 345 678")
    assert "KES 1,500" in confirmation
    assert "Duka la Mama" in confirmation
    assert "0712345678" not in confirmation and "254712345678" not in confirmation
    payment = await bot.payment_of(customer)
    assert payment.status == PaymentStatus.CREATED
    assert [b["callback_data"] for b in bot.fake.buttons(customer.id)] == [
        f"pay:{payment.id}",
        f"cancel:{payment.id}",
    ]
    status_message = bot.fake.last(customer.id)

    payment = await bot.confirm(customer)
    assert payment.status == PaymentStatus.PENDING
    assert bot.gateway.pushed("phone", "amount", "account_reference") == [
        ("254712345678", 1500, payment.account_number)
    ]
    assert payment.status_message_id == status_message.message_id
    assert "Check your phone and enter your M-Pesa PIN" in status_message.text

    await bot.callback(payment, 0, receipt="TBF34EVY55")
    assert await bot.deliver() == 1
    assert status_message.text.startswith("Paid ✓")
    assert "Receipt TBF34EVY55" in status_message.text
    assert "KES 1,500" in status_message.text
    assert "15 Feb 2025 14:03" in status_message.text
    assert await bot.deliver() == 0  # delivered once


async def test_kiswahili_customer_gets_kiswahili_all_the_way(
    bot: BotHarness, sw_customer: FakeUser
) -> None:
    assert "kiasi gani" in await bot.say(sw_customer, "/pay")
    await bot.say(sw_customer, "500")
    await bot.say(sw_customer, "0712345678")
    payment = await bot.confirm(sw_customer)
    assert payment.language == "sw"
    message = bot.fake.last(sw_customer.id)
    assert "Angalia simu yako na uweke PIN yako ya M-Pesa" in message.text
    await bot.callback(payment, 0)
    await bot.deliver()
    assert message.text.startswith("Malipo yamefanikiwa ✓")


async def test_double_tapped_confirm_pushes_once(bot: BotHarness, customer: FakeUser) -> None:
    payment = await bot.pay_up_to_confirmation(customer)
    first = bot.fake.press(customer, f"pay:{payment.id}")
    second = bot.fake.press(customer, f"pay:{payment.id}")
    await asyncio.gather(bot.feed(first), bot.feed(second))
    await bot.press(customer, f"pay:{payment.id}", message_id=bot.fake.last(customer.id).message_id)
    assert len(bot.gateway.pushes) == 1
    assert (await bot.service.get(payment.id)).status == PaymentStatus.PENDING
    answers = [a.get("text") for a in bot.fake.answers()]
    assert "Already sent: check your phone for the M-Pesa prompt." in answers
    # No error reached the customer, and the message shows the prompt is on its way.
    assert not any("went wrong" in text for text in bot.fake.texts(customer.id))
    assert bot.fake.last(customer.id).text.startswith("Check your phone")


async def test_second_pay_while_one_is_pending_is_refused_with_its_details(
    bot: BotHarness, customer: FakeUser
) -> None:
    await bot.pay_up_to_confirmation(customer, amount="700")
    await bot.confirm(customer)
    reply = await bot.say(customer, "/pay")
    assert "already have a payment waiting" in reply
    assert "KES 700" in reply
    assert "2547•••••678" in reply or "678" in reply
    assert len(bot.gateway.pushes) == 1


async def test_cancel_button_cancels_the_draft(bot: BotHarness, customer: FakeUser) -> None:
    payment = await bot.pay_up_to_confirmation(customer)
    await bot.press(customer, f"cancel:{payment.id}")
    assert (await bot.service.get(payment.id)).status == PaymentStatus.CANCELLED
    assert bot.fake.last(customer.id).text.startswith("Cancelled. Nothing was charged.")
    assert bot.gateway.pushes == []


async def test_slash_cancel_at_every_step(bot: BotHarness, customer: FakeUser) -> None:
    await bot.say(customer, "/pay")
    assert "Cancelled" in await bot.say(customer, "/cancel")
    await bot.say(customer, "/pay")
    await bot.say(customer, "500")
    assert "Cancelled" in await bot.say(customer, "/cancel")
    payment = await bot.pay_up_to_confirmation(customer)
    assert "Cancelled" in await bot.say(customer, "/cancel")
    assert (await bot.service.get(payment.id)).status == PaymentStatus.CANCELLED
    # After leaving, the amount step is gone: a number is not taken as an amount.
    assert "nothing to cancel" in await bot.say(customer, "/cancel")
    assert bot.gateway.pushes == []


async def test_try_again_after_a_failure_restarts_with_the_same_amount(
    bot: BotHarness, customer: FakeUser
) -> None:
    payment = await bot.pay_up_to_confirmation(customer, amount="250")
    payment = await bot.confirm(customer)
    await bot.callback(payment, 1032)
    await bot.deliver()
    message = bot.fake.last(customer.id)
    assert "You cancelled the request on your phone" in message.text
    assert bot.fake.buttons(customer.id)[0]["callback_data"] == "retry:250"
    await bot.press(customer, "retry:250")
    ask_phone, last_phone = bot.fake.texts(customer.id)[-2:]
    assert "Paying KES 250" in ask_phone
    assert "2547•••••678" in last_phone
    # One tap on the number from last time goes straight to the confirmation.
    await bot.press(customer, "lastphone")
    retry = await bot.payment_of(customer)
    assert retry.id != payment.id and retry.amount == 250 and retry.phone == "254712345678"
    assert "KES 250" in bot.fake.last(customer.id).text
    assert bot.fake.buttons(customer.id)[0]["callback_data"] == f"pay:{retry.id}"


@pytest.mark.parametrize("lang", ["en", "sw"])
async def test_confirm_on_an_expired_draft_pushes_nothing_and_says_so(
    bot: BotHarness, lang: str
) -> None:
    user = FakeUser(7300, language_code=lang)
    draft = await bot.pay_up_to_confirmation(user)
    await Payment.filter(id=draft.id).update(created_at=draft.created_at - DRAFT_TTL)
    await bot.press(user, f"pay:{draft.id}")
    assert bot.gateway.pushes == []
    assert (await bot.service.get(draft.id)).status is PaymentStatus.CANCELLED
    assert bot.fake.last(user.id).text == t(lang, "draft_expired")
    assert bot.fake.buttons(user.id) == []
