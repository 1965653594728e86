"""Regressions for three money risks the reliability suite found.

1. A customer told "Nothing was charged" after paying: our own timeout is not M-Pesa's word, so
   the expiry message says so, and an expired payment keeps being queried for a while.
2. Telegram failing the cosmetic "check your phone" edit must not stop (or repeat) the push.
3. A days-old Confirm button must not send a PIN prompt.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.fake_telegram import FakeUser
from bot.texts import t
from daraja.emulator import Emulator
from payments.states import PaymentStatus
from tests.reliability.figures import FIGURES
from tests.reliability.harness import Instance, QueryWatch, TelegramSeam, local_phone, phone_for

S = PaymentStatus


async def settle(emu: Emulator) -> None:
    async with asyncio.timeout(5):
        await emu.drain()


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
