"""Hostile or odd input on the Telegram side: wrong content at each step, tampered buttons,
someone else's payment, admin commands from customers, forged webhook calls.

The customer must always get words (never silence, never "something went wrong"), nobody can
act on another person's payment, and no M-Pesa prompt leaves without its owner's Confirm.
"""

from __future__ import annotations

import pytest

from bot.texts import t
from daraja.emulator import Emulator
from offline.fake_telegram import FakeUser
from payments.models import Payment
from payments.states import PaymentStatus
from tests.support.figures import FIGURES
from tests.support.harness import Instance, TelegramSeam, local_phone, phone_for

S = PaymentStatus
ODD_CONTENT = ("sticker", "photo", "voice")


def no_error(telegram: TelegramSeam, chat_id: int) -> None:
    assert t("en", "error_generic") not in telegram.texts_to(chat_id)


@pytest.mark.parametrize("kind", ODD_CONTENT)
async def test_unexpected_content_at_every_step_gets_a_hint_and_keeps_the_step(
    lipabot: Instance, customer: FakeUser, other_customer: FakeUser, emu: Emulator,
    telegram: TelegramSeam, kind: str,
) -> None:  # fmt: skip
    fake = telegram.fake
    odd = getattr(fake, kind)
    await lipabot.say(customer, "/pay")
    await lipabot.feed(odd(customer))
    assert fake.last(customer.id).text == t("en", "hint_amount")
    await lipabot.feed(fake.contact(customer, "+254712345678"))
    assert fake.last(customer.id).text == t("en", "hint_amount")
    await lipabot.say(customer, "800")

    await lipabot.feed(odd(customer))
    assert fake.last(customer.id).text == t("en", "hint_phone")
    await lipabot.feed(fake.contact(customer, "+254799999999", contact_user_id=other_customer.id))
    assert fake.last(customer.id).text == t("en", "not_own_contact")
    await lipabot.say(customer, local_phone(phone_for(100)))

    (draft,) = await Payment.filter(user_id=customer.id)
    assert draft.amount == 800 and draft.phone == phone_for(100)
    await lipabot.feed(odd(customer))
    assert fake.last(customer.id).text == t("en", "hint_confirm")
    await lipabot.say(customer, "yes please")
    assert fake.last(customer.id).text == t("en", "hint_confirm")
    assert emu.requests == {}, "nothing may be pushed without the Confirm button"

    assert (await lipabot.confirm(customer, draft.id)).status is not S.CREATED
    assert len(emu.requests) == 1
    no_error(telegram, customer.id)
    FIGURES.drove("hostile input")
    FIGURES.injected("hostile: unexpected content", 6)


@pytest.mark.parametrize(
    "data",
    [
        "pay:999999",
        "pay:",
        "pay:abc",
        "pay:-1",
        "pay:1 OR 1=1",
        "pay:²",
        "pay:" + "9" * 60,
        "cancel:x",
    ],
)
async def test_tampered_buttons_are_refused(
    lipabot: Instance, customer: FakeUser, emu: Emulator, telegram: TelegramSeam, data: str
) -> None:
    draft = await lipabot.start_payment(customer, "300", local_phone(phone_for(101)))
    await lipabot.feed(telegram.fake.press(customer, data))
    answer = telegram.fake.answers()[-1]
    assert answer.get("text") == t("en", "callback_invalid")
    assert (await Payment.get(id=draft.id)).status is S.CREATED
    assert emu.requests == {}
    no_error(telegram, customer.id)
    FIGURES.injected("hostile: tampered button")


async def test_someone_elses_payment_cannot_be_confirmed_or_cancelled(
    lipabot: Instance,
    customer: FakeUser,
    other_customer: FakeUser,
    emu: Emulator,
    telegram: TelegramSeam,
) -> None:
    victim = await lipabot.start_payment(customer, "5000", local_phone(phone_for(102)))
    await lipabot.say(other_customer, "/help")  # the attacker has a chat with the bot
    for data in (f"pay:{victim.id}", f"cancel:{victim.id}"):
        await lipabot.feed(telegram.fake.press(other_customer, data))
        assert telegram.fake.answers()[-1].get("text") == t("en", "callback_not_yours")
    assert (await Payment.get(id=victim.id)).status is S.CREATED
    assert emu.requests == {}
    leaked = [text for text in telegram.texts_to(other_customer.id) if "5,000" in text]
    assert leaked == []
    # The owner can still go ahead.
    assert (await lipabot.confirm(customer, victim.id)).status is not S.CREATED
    assert len(emu.requests) == 1
    FIGURES.drove("hostile input")
    FIGURES.injected("hostile: another user's button", 2)


@pytest.mark.parametrize(
    "command", ["/status", "/pending", "/recent", "/recent 50", "/reconcile 1", "/status 1"]
)
async def test_admin_commands_from_a_customer_are_refused(
    lipabot: Instance,
    customer: FakeUser,
    other_customer: FakeUser,
    emu: Emulator,
    telegram: TelegramSeam,
    command: str,
) -> None:
    emu.set_callback_delay(3600.0)
    draft = await lipabot.start_payment(customer, "7777", local_phone(phone_for(103)))
    await lipabot.confirm(customer, draft.id)
    queries_before = len(emu.requests)
    await lipabot.say(other_customer, command)
    replies = telegram.texts_to(other_customer.id)
    assert replies == [t("en", "admin_only")]
    assert (await Payment.get(id=draft.id)).status is S.PENDING
    assert len(emu.requests) == queries_before
    FIGURES.injected("hostile: admin command from a customer")


async def test_forged_telegram_webhook_calls_are_refused(
    lipabot: Instance, customer: FakeUser, telegram: TelegramSeam
) -> None:
    update = telegram.fake.text(customer, "/pay")
    async with lipabot.client("203.0.113.9") as client:
        no_secret = await client.post("/telegram/webhook", json=update)
        wrong = await client.post(
            "/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "guessed"},
        )
        garbage = await client.post(
            "/telegram/webhook",
            content=b"[" * 5000 + b"]" * 5000,
            headers={
                "X-Telegram-Bot-Api-Secret-Token": "tg-webhook-secret",
                "Content-Type": "application/json",
            },
        )
        not_update = await client.post(
            "/telegram/webhook",
            json={"update_id": "1; drop table"},
            headers={"X-Telegram-Bot-Api-Secret-Token": "tg-webhook-secret"},
        )
    assert (no_secret.status_code, wrong.status_code) == (403, 403)
    assert (garbage.status_code, not_update.status_code) == (400, 400)
    assert lipabot.application.update_queue.empty()
    assert telegram.texts_to(customer.id) == []
    FIGURES.injected("hostile: forged Telegram webhook", 4)
