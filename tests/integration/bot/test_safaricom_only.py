"""Issue 13: only Safaricom lines reach the confirmation; the customer sees their own number in
full there and masked everywhere else."""

from __future__ import annotations

import pytest

from bot.texts import t
from offline.fake_telegram import FakeUser
from payments.states import PaymentStatus
from tests.support.bot import BotHarness


@pytest.fixture(params=["en", "sw"])
def person(request: pytest.FixtureRequest) -> FakeUser:
    return FakeUser(id=7070, first_name="Kamau", language_code=request.param)


def test_the_english_refusal_gives_the_reason() -> None:
    text = t("en", "phone_not_safaricom", network="Airtel")
    assert "M-Pesa prompts only reach Safaricom lines" in text and "Airtel" in text


@pytest.mark.parametrize(
    ("typed", "network_key"),
    [
        ("0733 123 456", "network_airtel"),
        ("0750 123 456", "network_airtel"),
        ("0781 123 456", "network_airtel"),
        ("0100 123 456", "network_airtel"),
        ("0102 123 456", "network_airtel"),
        ("+254 771 234 567", "network_telkom"),
        ("0765 123 456", "network_other"),  # Equitel
    ],
)
async def test_other_networks_are_refused_at_the_phone_step_with_the_reason(
    bot: BotHarness, person: FakeUser, typed: str, network_key: str
) -> None:
    lang = str(person.language_code)
    await bot.say(person, "/pay 500")
    reply = await bot.say(person, typed)
    assert reply == t(lang, "phone_not_safaricom", network=t(lang, network_key))
    assert await bot.service.recent_for_user(person.id) == []
    # Still at the phone step: a Safaricom number now goes through.
    assert "0712 345 678" in await bot.say(person, "0712345678")


async def test_a_shared_airtel_contact_is_refused_too(bot: BotHarness, person: FakeUser) -> None:
    lang = str(person.language_code)
    await bot.say(person, "/pay 500")
    await bot.feed(bot.fake.contact(person, "+254733123456"))
    reply = bot.fake.last(person.id).text
    assert reply == t(lang, "phone_not_safaricom", network="Airtel")
    assert await bot.service.recent_for_user(person.id) == []


@pytest.mark.parametrize("typed", ["0110 123 456", "0115123456", "0740123456", "0758123456"])
async def test_newer_safaricom_ranges_go_through(
    bot: BotHarness, person: FakeUser, typed: str
) -> None:
    await bot.say(person, "/pay 500")
    await bot.say(person, typed)
    assert (await bot.payment_of(person)).status is PaymentStatus.CREATED


async def test_the_confirmation_shows_the_number_in_full_and_only_there(
    bot: BotHarness, person: FakeUser, admin_user: FakeUser
) -> None:
    lang = str(person.language_code)
    payment = await bot.pay_up_to_confirmation(person, phone="+254712345678")
    confirmation = bot.fake.last(person.id).text
    assert "0712 345 678" in confirmation
    assert t(lang, "preparing", phone="0712 345 678") in bot.fake.texts(person.id)
    await bot.confirm(person)
    # Everywhere else masked: the customer's in-progress notice, /history, the admin views.
    busy = await bot.say(person, "/pay")
    assert "2547•••••678" in busy and "0712 345 678" not in busy
    for command in (f"/status {payment.id}", "/pending", "/recent"):
        reply = await bot.say(admin_user, command)
        assert "2547•••••678" in reply, command
        assert "0712 345 678" not in reply and "254712345678" not in reply, command


async def test_an_old_airtel_number_is_not_offered_as_last_time(
    bot: BotHarness, person: FakeUser
) -> None:
    # A payment from before Airtel numbers were refused (the service itself still takes them).
    await bot.service.create_payment(
        user_id=person.id, chat_id=person.id, amount=100, phone="0733123456", language="en"
    )
    await bot.say(person, "/pay 500")
    assert bot.fake.buttons(person.id) == []
    assert "0733" not in " ".join(bot.fake.texts(person.id))
