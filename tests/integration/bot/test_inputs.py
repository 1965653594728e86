"""Bad input at every step gets the reason and the question again, never a dead end."""

from __future__ import annotations

import pytest

from offline.fake_telegram import FakeUser
from payments.states import PaymentStatus
from tests.support.bot import BotHarness


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("0", "The smallest amount is KES 1."),
        ("-5", "The smallest amount is KES 1."),
        ("10.50", "M-Pesa only takes whole shillings"),
        ("abc", "I could not read an amount in “abc”"),
        ("300000", "The largest amount for one M-Pesa payment is KES 250,000."),
    ],
)
async def test_bad_amounts_are_explained_and_asked_again(
    bot: BotHarness, customer: FakeUser, typed: str, reason: str
) -> None:
    await bot.say(customer, "/pay")
    reply = await bot.say(customer, typed)
    assert reason in reply
    assert reply.endswith("How much do you want to pay?")
    # Still at the amount step: a good amount now moves on.
    assert "Paying KES 500" in await bot.say(customer, "500")


async def test_bad_amount_in_kiswahili(bot: BotHarness, sw_customer: FakeUser) -> None:
    await bot.say(sw_customer, "/pay")
    reply = await bot.say(sw_customer, "300000")
    assert "Kiasi cha juu kabisa kwa malipo moja ya M-Pesa ni KES 250,000." in reply


@pytest.mark.parametrize(
    "typed",
    ["020 2222222", "+44 7700 900123", "12345", "0712 345", "hello"],
    ids=["landline", "foreign", "short", "truncated", "words"],
)
async def test_bad_phones_are_explained_with_an_example(
    bot: BotHarness, customer: FakeUser, typed: str
) -> None:
    await bot.say(customer, "/pay")
    await bot.say(customer, "500")
    reply = await bot.say(customer, typed)
    assert "not a Kenyan mobile number" in reply
    assert "0712 345 678" in reply
    assert await bot.service.recent_for_user(customer.id) == []
    # Still at the phone step.
    assert "Please check" in await bot.say(customer, "+254 712 345 678")


@pytest.mark.parametrize("typed", ["0712345678", "712345678", "254712345678", "+254-712-345-678"])
async def test_local_forms_of_a_number_all_work(
    bot: BotHarness, customer: FakeUser, typed: str
) -> None:
    payment = await bot.pay_up_to_confirmation(customer, phone=typed)
    assert payment.phone == "254712345678"


async def test_shared_own_contact_is_used(bot: BotHarness, customer: FakeUser) -> None:
    await bot.say(customer, "/pay")
    await bot.say(customer, "500")
    await bot.feed(bot.fake.contact(customer, "+254 701 234 567"))
    payment = await bot.payment_of(customer)
    assert payment.phone == "254701234567"
    assert payment.status == PaymentStatus.CREATED


async def test_someone_elses_contact_is_refused(
    bot: BotHarness, customer: FakeUser, other_customer: FakeUser
) -> None:
    await bot.say(customer, "/pay")
    await bot.say(customer, "500")
    await bot.feed(bot.fake.contact(customer, "254701234567", contact_user_id=other_customer.id))
    assert "someone else's contact" in bot.fake.last(customer.id).text
    assert await bot.service.recent_for_user(customer.id) == []
    # A contact with no Telegram account behind it is not the sender's either.
    await bot.feed(bot.fake.contact(customer, "254701234567", contact_user_id=0))
    assert "someone else's contact" in bot.fake.last(customer.id).text
    # The question stands: the own number still works.
    await bot.feed(bot.fake.contact(customer, "254712345678"))
    assert (await bot.payment_of(customer)).phone == "254712345678"


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice"])
async def test_unexpected_content_gets_a_hint_at_every_step(
    bot: BotHarness, customer: FakeUser, kind: str
) -> None:
    def odd() -> dict:  # type: ignore[type-arg]
        return getattr(bot.fake, kind)(customer)

    await bot.say(customer, "/pay")
    await bot.feed(odd())
    assert bot.fake.last(customer.id).text == "I need the amount as a number, e.g. 500."
    await bot.say(customer, "500")
    await bot.feed(odd())
    assert bot.fake.last(customer.id).text.startswith("I need a phone number")
    await bot.say(customer, "0712345678")
    await bot.feed(odd())
    assert bot.fake.last(customer.id).text.startswith("Please use the Confirm or Cancel button")
    payment = await bot.confirm(customer)
    assert payment.status == PaymentStatus.PENDING


async def test_tampered_callback_data_is_refused(
    bot: BotHarness, customer: FakeUser, other_customer: FakeUser
) -> None:
    theirs = await bot.pay_up_to_confirmation(other_customer)
    await bot.say(customer, "/pay")
    await bot.say(customer, "500")
    await bot.say(customer, "0722000111")
    for data in (f"pay:{theirs.id}", "pay:999999", "pay:abc", "pay:", f"cancel:{theirs.id}"):
        await bot.press(customer, data)
    answers = [a.get("text") for a in bot.fake.answers()]
    assert answers.count("This button is not for you.") == 2
    assert answers.count("This button is no longer valid.") == 3
    assert bot.gateway.pushes == []
    assert (await bot.service.get(theirs.id)).status == PaymentStatus.CREATED


async def test_push_limit_says_how_long_to_wait(bot: BotHarness, customer: FakeUser) -> None:
    # Five payments to five of the customer's numbers: the per-user limit, not the phone's.
    for n in range(5):
        await bot.pay_up_to_confirmation(customer, amount=str(100 + n), phone=f"071234567{n}")
        payment = await bot.confirm(customer)
        await bot.callback(payment, 1032)
    await bot.say(customer, "/pay")
    await bot.say(customer, "100")
    reply = await bot.say(customer, "0712345679")
    assert "You have started many payments in a short time" in reply
    assert "try again in 60 minutes" in reply
    assert len(bot.gateway.pushes) == 5


async def test_one_phone_gets_at_most_three_prompts_an_hour_whoever_asks(
    bot: BotHarness, customer: FakeUser, other_customer: FakeUser
) -> None:
    # Several accounts cannot flood someone's phone with PIN prompts.
    for n, user in enumerate((customer, other_customer, customer)):
        await bot.pay_up_to_confirmation(user, amount=str(200 + n), phone="0722000111")
        payment = await bot.confirm(user)
        await bot.callback(payment, 1032)
    await bot.say(other_customer, "/pay")
    await bot.say(other_customer, "250")
    reply = await bot.say(other_customer, "0722000111")
    assert reply.startswith("That number has had several M-Pesa prompts in the last hour.")
    assert "try again in 60 minutes" in reply
    assert len(bot.gateway.pushes) == 3
