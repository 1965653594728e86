"""Issue 13: every message and every tap gets an answer, at every step, in both languages.

Driven through the real handler stack (`application.process_update`) with the fake Telegram;
the expected words come from the catalogues, and a few English ones are spelled out so a
catalogue that says nothing useful would still fail.
"""

from __future__ import annotations

import pytest

from bot import texts
from bot.texts import money, t
from offline.fake_telegram import FakeUser
from payments.states import PaymentStatus
from tests.integration.bot.test_conversation_across_instances import clock_ahead, persistence_of
from tests.support.bot import BotHarness

MERCHANT = "Duka la Mama"


@pytest.fixture(params=["en", "sw"])
def person(request: pytest.FixtureRequest) -> FakeUser:
    return FakeUser(id=6060, first_name="Njeri", language_code=request.param)


def lang_of(user: FakeUser) -> str:
    return str(user.language_code)


def pointer(user: FakeUser) -> str:
    return t(lang_of(user), "pointer", merchant=MERCHANT)


async def last_after(bot: BotHarness, update: dict) -> str:  # type: ignore[type-arg]
    await bot.feed(update)
    return bot.fake.last(update_chat(update)).text


def update_chat(update: dict) -> int:  # type: ignore[type-arg]
    return int(update["message"]["chat"]["id"])


def media(bot: BotHarness, user: FakeUser, kind: str) -> dict:  # type: ignore[type-arg]
    if kind == "contact":
        return bot.fake.contact(user, "0712345678")
    return getattr(bot.fake, kind)(user)


# ------------------------------------------------------------------ idle


def test_the_english_pointer_names_pay_and_help() -> None:
    text = t("en", "pointer", merchant=MERCHANT)
    assert "/pay" in text and "/help" in text and "500" in text


@pytest.mark.parametrize("typed", ["hi", "nataka kulipa", "habari", "0712345678"])
async def test_text_outside_a_conversation_gets_a_pointer(
    bot: BotHarness, person: FakeUser, typed: str
) -> None:
    assert await bot.say(person, typed) == pointer(person)
    assert await bot.service.recent_for_user(person.id) == []


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "contact"])
async def test_media_outside_a_conversation_gets_a_pointer(
    bot: BotHarness, person: FakeUser, kind: str
) -> None:
    assert await last_after(bot, media(bot, person, kind)) == pointer(person)


async def test_an_unknown_command_is_named_and_pointed_on(
    bot: BotHarness, person: FakeUser
) -> None:
    reply = await bot.say(person, "/lipa 500")
    lang = lang_of(person)
    assert reply == t(lang, "unknown_command", command="/lipa") + "\n" + pointer(person)


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("500", 500), ("Ksh 1,500", 1500), ("1\u00a0500", 1500), ("KES 2\u2009000", 2000)],
)
async def test_a_bare_amount_starts_a_payment_with_it(
    bot: BotHarness, person: FakeUser, typed: str, amount: int
) -> None:
    reply = await bot.say(person, typed)
    assert reply == t(lang_of(person), "ask_phone", amount=money(amount))
    confirmation = await bot.say(person, "0712345678")
    assert money(amount) in confirmation
    assert (await bot.payment_of(person)).amount == amount


async def test_pay_with_an_amount_skips_the_amount_question(
    bot: BotHarness, person: FakeUser
) -> None:
    assert await bot.say(person, "/pay 500") == t(lang_of(person), "ask_phone", amount="KES 500")


async def test_pay_with_a_wrong_amount_explains_and_asks(bot: BotHarness, person: FakeUser) -> None:
    lang = lang_of(person)
    reply = await bot.say(person, "/pay 300000")
    assert t(lang, "amount_too_large", maximum="KES 250,000") in reply
    assert reply.endswith(t(lang, "amount_again"))
    assert await bot.say(person, "300") == t(lang, "ask_phone", amount="KES 300")


@pytest.mark.parametrize("where", ["idle", "amount step"])
async def test_one_dot_thousand_is_asked_about_not_read_as_one_shilling(
    bot: BotHarness, person: FakeUser, where: str
) -> None:
    lang = lang_of(person)
    if where == "amount step":
        await bot.say(person, "/pay")
    reply = await bot.say(person, "1.000")
    assert t(lang, "amount_ambiguous", thousands="KES 1,000", text="1.000", plain=1000) in reply
    assert await bot.service.recent_for_user(person.id) == []
    assert await bot.say(person, "1000") == t(lang, "ask_phone", amount="KES 1,000")


def test_the_english_ambiguity_question_offers_the_thousands_reading() -> None:
    text = t("en", "amount_ambiguous", thousands="KES 1,000", text="1.000", plain=1000)
    assert text.startswith("Did you mean KES 1,000?") and "without" in text


# ------------------------------------------------------------------ at each step


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "contact"])
async def test_media_at_the_amount_step_gets_its_hint(
    bot: BotHarness, person: FakeUser, kind: str
) -> None:
    await bot.say(person, "/pay")
    assert await last_after(bot, media(bot, person, kind)) == t(lang_of(person), "hint_amount")


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice"])
async def test_media_at_the_phone_step_gets_its_hint(
    bot: BotHarness, person: FakeUser, kind: str
) -> None:
    await bot.say(person, "/pay 500")
    assert await last_after(bot, media(bot, person, kind)) == t(lang_of(person), "hint_phone")


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "contact"])
async def test_media_and_text_at_the_confirmation_get_its_hint(
    bot: BotHarness, person: FakeUser, kind: str
) -> None:
    await bot.pay_up_to_confirmation(person)
    assert await last_after(bot, media(bot, person, kind)) == t(lang_of(person), "hint_confirm")
    assert await bot.say(person, "500") == t(lang_of(person), "hint_confirm")


@pytest.mark.parametrize(
    ("steps", "hint"),
    [(["/pay"], "hint_amount"), (["/pay", "500"], "hint_phone"), (None, "hint_confirm")],
    ids=["amount", "phone", "confirm"],
)
async def test_an_unknown_command_mid_payment_gets_the_steps_hint(
    bot: BotHarness, person: FakeUser, steps: list[str] | None, hint: str
) -> None:
    if steps is None:
        await bot.pay_up_to_confirmation(person)
    else:
        for step in steps:
            await bot.say(person, step)
    lang = lang_of(person)
    reply = await bot.say(person, "/foo")
    assert reply == t(lang, "unknown_command", command="/foo") + "\n" + t(lang, hint)
    # The step is still there: /help and the step's own input keep working.
    assert await bot.say(person, "/help") != reply


async def test_while_a_payment_waits_for_the_pin(bot: BotHarness, person: FakeUser) -> None:
    lang = lang_of(person)
    await bot.pay_up_to_confirmation(person)
    payment = await bot.confirm(person)
    assert payment.status is PaymentStatus.PENDING
    waiting = t(lang, "pointer_waiting", amount="KES 500")
    assert await bot.say(person, "hi") == waiting
    assert await last_after(bot, bot.fake.sticker(person)) == waiting
    assert await bot.say(person, "/nope") == (
        t(lang, "unknown_command", command="/nope") + "\n" + waiting
    )
    # A new amount or /pay: refused while this one is on its way, with its details.
    busy = t(
        lang,
        "in_progress",
        amount="KES 500",
        phone="2547•••••678",
        when=texts.when(payment.created_at, lang),
    )
    for attempt in ("300", "/pay"):
        assert await bot.say(person, attempt) == busy
    assert len(await bot.service.recent_for_user(person.id)) == 1


# ------------------------------------------------------------------ buttons


async def test_every_tap_is_answered_and_a_stale_one_says_so(
    bot: BotHarness, person: FakeUser
) -> None:
    lang = lang_of(person)
    await bot.pay_up_to_confirmation(person, phone="0712345678")
    await bot.confirm(person)
    await bot.callback(await bot.payment_of(person), 0)
    await bot.deliver()
    # A second payment: the phone step offers the number from last time.
    await bot.say(person, "/pay 200")
    offer = bot.fake.last(person.id)
    assert [b["callback_data"] for b in bot.fake.buttons(person.id)] == ["lastphone"]
    await bot.say(person, "/cancel")
    # Cancelling took the button away; an old copy of it is still answered, in one line.
    assert bot.fake.buttons(person.id, offer.message_id) == []
    taps_before = len(bot.fake.answers())
    await bot.press(person, "lastphone", message_id=offer.message_id)
    answers = bot.fake.answers()
    assert len(answers) == taps_before + 1
    assert answers[-1]["text"] == t(lang, "button_stale")
    await bot.press(person, "something-unknown", message_id=offer.message_id)
    assert bot.fake.answers()[-1]["text"] == t(lang, "button_stale")


async def test_a_new_pay_retires_the_old_confirmation_with_the_reason(
    bot: BotHarness, person: FakeUser
) -> None:
    lang = lang_of(person)
    old = await bot.pay_up_to_confirmation(person, amount="700")
    old_message = bot.fake.last(person.id)
    assert old_message.reply_markup is not None
    await bot.say(person, "/pay")
    assert old_message.text == t(lang, "confirm_replaced")
    assert bot.fake.buttons(person.id, old_message.message_id) == []
    assert (await bot.service.get(old.id)).status is PaymentStatus.CANCELLED
    # Its Confirm, tapped from an old copy: one line, nothing pushed, the new payment goes on.
    await bot.press(person, f"pay:{old.id}", message_id=old_message.message_id)
    assert bot.fake.answers()[-1]["text"] == t(lang, "payment_closed")
    assert bot.gateway.pushes == []
    await bot.say(person, "300")
    assert t(lang, "ask_phone", amount="KES 300") in bot.fake.texts(person.id)[-2:]


async def test_a_stale_tap_mid_payment_keeps_the_new_payment_going(
    bot: BotHarness, person: FakeUser
) -> None:
    lang = lang_of(person)
    old = await bot.pay_up_to_confirmation(person, amount="700")
    old_message = bot.fake.last(person.id)
    await bot.say(person, "/pay 300")
    await bot.press(person, f"cancel:{old.id}", message_id=old_message.message_id)
    assert bot.fake.answers()[-1]["text"] == t(lang, "payment_closed")
    confirmation = await bot.say(person, "0712345678")  # still at the phone step
    assert "KES 300" in confirmation
    new = await bot.payment_of(person)
    assert new.amount == 300 and new.status is PaymentStatus.CREATED


async def test_cancel_retires_the_confirmation(bot: BotHarness, person: FakeUser) -> None:
    lang = lang_of(person)
    await bot.pay_up_to_confirmation(person)
    confirmation = bot.fake.last(person.id)
    assert await bot.say(person, "/cancel") == t(lang, "cancelled")
    assert confirmation.text == t(lang, "confirm_ended")
    assert bot.fake.buttons(person.id, confirmation.message_id) == []


async def test_an_expired_confirmation_loses_its_buttons_and_says_why(
    bot: BotHarness, person: FakeUser
) -> None:
    lang = lang_of(person)
    payment = await bot.pay_up_to_confirmation(person)
    confirmation = bot.fake.last(person.id)
    persistence_of(bot).clock = clock_ahead(3600)
    await bot.app.bot_data.conversation.sweep(bot.app)  # nobody came back: the sweep ends it
    assert confirmation.text == t(lang, "confirm_expired")
    assert bot.fake.buttons(person.id, confirmation.message_id) == []
    assert bot.fake.last(person.id).text == t(lang, "timeout")
    assert (await bot.service.get(payment.id)).status is PaymentStatus.CANCELLED
    await bot.press(person, f"pay:{payment.id}", message_id=confirmation.message_id)
    assert bot.fake.answers()[-1]["text"] == t(lang, "payment_closed")
    assert bot.gateway.pushes == []


async def test_the_typed_step_after_a_timeout_gets_only_the_timeout_message(
    bot: BotHarness, person: FakeUser
) -> None:
    await bot.say(person, "/pay")
    before = len(bot.fake.texts(person.id))
    persistence_of(bot).clock = clock_ahead(3600)
    await bot.say(person, "500")
    assert bot.fake.texts(person.id)[before:] == [t(lang_of(person), "timeout")]


async def test_a_pushed_confirmation_answers_a_second_tap_in_one_line(
    bot: BotHarness, person: FakeUser
) -> None:
    payment = await bot.pay_up_to_confirmation(person)
    message = bot.fake.last(person.id)
    await bot.confirm(person)
    # Confirm and Cancel are gone; only "pay from the M-Pesa menu instead" remains.
    assert [b["callback_data"] for b in bot.fake.buttons(person.id, message.message_id)] == [
        f"menupay:{payment.id}"
    ]
    await bot.press(person, f"pay:{payment.id}", message_id=message.message_id)
    assert bot.fake.answers()[-1]["text"] == t(lang_of(person), "already_sent")
    assert len(bot.gateway.pushes) == 1


async def test_the_use_last_number_button_goes_when_the_phone_step_ends(
    bot: BotHarness, person: FakeUser
) -> None:
    await bot.pay_up_to_confirmation(person)
    await bot.say(person, "/cancel")
    await bot.say(person, "/pay 200")
    offer = bot.fake.last(person.id)
    assert bot.fake.buttons(person.id, offer.message_id)
    await bot.say(person, "0722 000 111")  # typed instead of tapped
    assert bot.fake.buttons(person.id, offer.message_id) == []
    assert offer.text == t(lang_of(person), "ask_phone_last", phone="2547•••••678")
    assert (await bot.payment_of(person)).phone == "254722000111"
