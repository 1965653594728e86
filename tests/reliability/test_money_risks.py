"""Regressions for three money risks the reliability suite found.

1. A customer told "Nothing was charged" after paying: our own timeout is not M-Pesa's word, so
   the expiry message says so, and an expired payment keeps being queried for a while.
2. Telegram failing the cosmetic "check your phone" edit must not stop (or repeat) the push.
3. A days-old Confirm button must not send a PIN prompt.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.texts import t
from daraja.emulator import Emulator
from offline.fake_telegram import FakeUser
from payments.models import Payment
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.figures import FIGURES
from tests.support.harness import Instance, Launch, QueryWatch, TelegramSeam, local_phone, phone_for

S = PaymentStatus


async def settle(emu: Emulator) -> None:
    async with asyncio.timeout(5):
        await emu.drain()


async def pay(lipabot: Instance, user: FakeUser, phone: str, amount: str = "500") -> Payment:
    draft = await lipabot.start_payment(user, amount, local_phone(phone))
    return await lipabot.confirm(user, draft.id)


def honest_expiry(text: str) -> bool:
    """Our timeout's words: no "Nothing was charged", and check the SMS before trying again."""
    return text == t("en", "expired", amount="KES 500") and "Nothing was charged" not in text


# ------------------------------------------------------------------ 1. paid, told "not charged"


async def test_push_timeout_and_dropped_callback_are_told_honestly(
    lipabot: Instance,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
) -> None:
    # The push timed out but Daraja processed it, and the customer paid; the callback is lost.
    # Without a CheckoutRequestID there is nothing to query: the message must not claim that
    # nothing was charged.
    phone = phone_for(910)
    emu.drop_callbacks(phone=phone)
    emu.hang_next_push(5.0, processed=True)
    payment = await pay(lipabot, customer, phone)
    assert payment.status is S.UNKNOWN and payment.checkout_request_id is None
    await settle(emu)
    (request,) = emu.requests.values()
    assert request.receipt, "the emulator completed the payment"

    clock.advance(181)
    await lipabot.reconcile()
    await lipabot.deliver()
    assert (await lipabot.service.get(payment.id)).status is S.EXPIRED
    (told,) = telegram.outcomes(customer.id)
    assert honest_expiry(told)
    assert "SMS" in told and "as soon as M-Pesa confirms" in told
    FIGURES.drove("money risks")
    FIGURES.injected("push timeout")
    FIGURES.injected("callback dropped")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())


async def test_query_api_down_for_the_whole_timeout_then_paid_late(
    lipabot: Instance,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
    watch: QueryWatch,
) -> None:
    phone = phone_for(920)
    emu.drop_callbacks(phone=phone)
    payment = await pay(lipabot, customer, phone)
    await settle(emu)
    watch.down = True  # every query until long after our timeout fails to connect
    for _ in range(10):
        clock.advance(30)
        await lipabot.reconcile()
        await lipabot.deliver()
    expired = await lipabot.service.get(payment.id)
    assert (expired.status, expired.result_code) == (S.EXPIRED, None)
    (told,) = telegram.outcomes(customer.id)
    assert honest_expiry(told)

    # An hour later Daraja answers queries again: the paid payment is found and announced.
    clock.advance(3600)
    await lipabot.reconcile()
    assert (await lipabot.service.get(payment.id)).status is S.EXPIRED
    watch.down = False
    clock.advance(600)
    await lipabot.reconcile()
    await lipabot.deliver()
    paid = await lipabot.service.get(payment.id)
    assert paid.status is S.PAID
    outcomes = telegram.outcomes(customer.id)
    assert len(outcomes) == 2
    assert outcomes[1].startswith("Good news: M-Pesa has now confirmed your payment.")
    FIGURES.drove("money risks")
    FIGURES.injected("callback dropped")
    FIGURES.injected("daraja query down past the timeout", watch.refused)
    FIGURES.delivered({customer.id: 2}, telegram.outcome_counts())


# ------------------------------------------------------------------ 2. the cosmetic edit


@pytest.mark.parametrize(
    "fault",
    ["retry_after", "server_error", "cannot_edit"],
)
async def test_a_failed_check_your_phone_edit_still_pushes_once(
    lipabot: Instance,
    customer: FakeUser,
    emu: Emulator,
    telegram: TelegramSeam,
    watch: QueryWatch,
    fault: str,
) -> None:
    phone = phone_for(900)
    emu.set_callback_delay(3600.0)  # the prompt stays open while the customer looks
    draft = await lipabot.start_payment(customer, "730", local_phone(phone))
    if fault == "retry_after":
        telegram.fake.fail_retry_after(5, method="editMessageText")
    elif fault == "server_error":
        telegram.fake.fail_server_error(502, method="editMessageText")
    else:
        telegram.fake.fail_bad_request(
            "Bad Request: message can't be edited", method="editMessageText"
        )

    pushed = await lipabot.confirm(customer, draft.id)

    assert watch.pushes[lipabot.name] == 1 and len(emu.requests) == 1
    assert pushed.status is S.PENDING
    confirmation = telegram.fake.last(customer.id)
    assert pushed.status_message_id == confirmation.message_id
    assert t("en", "error_generic") not in telegram.fake.texts(customer.id)
    # A second tap of the still-visible Confirm button does not push again.
    await lipabot.feed(lipabot.confirm_update(customer, draft.id))
    assert len(emu.requests) == 1
    assert t("en", "already_sent") in [a.get("text") for a in telegram.fake.answers()]

    # The outcome still reaches the customer, in the message that kept the Confirm button.
    await emu.complete_now(pushed.checkout_request_id or "")
    await settle(emu)
    await lipabot.deliver()
    assert telegram.fake.last(customer.id).message_id == confirmation.message_id
    assert telegram.fake.last(customer.id).text.startswith("Paid ✓")
    FIGURES.drove("money risks")
    FIGURES.injected(f"check-your-phone edit failed ({fault})")


# ------------------------------------------------------------------ 3. stale drafts


async def test_a_days_old_confirm_button_sends_no_prompt(
    sqlite_db: TestDatabase,
    launch: Launch,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
    watch: QueryWatch,
) -> None:
    # No conversation timeout: nothing else would stop the old button.
    lipabot = await launch(bot_conversation_timeout_seconds=0)
    draft = await lipabot.start_payment(customer, "880", local_phone(phone_for(930)))
    confirmation = telegram.fake.last(customer.id)
    clock.advance(3 * 24 * 3600)

    stale = await lipabot.confirm(customer, draft.id)

    assert watch.pushes[lipabot.name] == 0 and len(emu.requests) == 0
    assert stale.status is S.CANCELLED and stale.pushed_at is None
    message = telegram.fake.messages[customer.id][confirmation.message_id]
    assert message.text == t("en", "draft_expired")
    assert message.edits == 1, "never told to check the phone for a prompt that is not coming"
    assert telegram.fake.buttons(customer.id, confirmation.message_id) == []
    assert t("en", "error_generic") not in telegram.fake.texts(customer.id)
    # Tapping once more: still nothing pushed, and told it is finished.
    await lipabot.feed(lipabot.confirm_update(customer, draft.id))
    assert len(emu.requests) == 0
    assert t("en", "payment_closed") in [a.get("text") for a in telegram.fake.answers()]
    FIGURES.drove("money risks")
    FIGURES.injected("days-old Confirm button")


async def test_the_reconciler_cancels_abandoned_drafts(
    lipabot: Instance, customer: FakeUser, clock: Clock
) -> None:
    draft = await lipabot.start_payment(customer, "880", local_phone(phone_for(931)))
    clock.advance(299)
    await lipabot.reconcile()
    assert (await lipabot.service.get(draft.id)).status is S.CREATED
    clock.advance(2)
    await lipabot.reconcile()
    assert (await lipabot.service.get(draft.id)).status is S.CANCELLED
    FIGURES.drove("money risks")
    FIGURES.injected("abandoned confirmation")
