"""Push safety: however often and wherever Confirm arrives, one STK prompt; limits that hold.

A second prompt is not a harmless duplicate: the customer could enter the PIN twice and pay
twice. These tests count the pushes the emulator received.
"""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette

from bot.texts import t
from daraja.emulator import Emulator
from offline.fake_telegram import FakeUser
from payments.models import Payment
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.daraja import bearer, emulator_http_client, push_body
from tests.support.db import TestDatabase
from tests.support.figures import FIGURES
from tests.support.harness import Instance, Launch, QueryWatch, TelegramSeam, local_phone, phone_for

S = PaymentStatus


def no_error_messages(telegram: TelegramSeam, chat_id: int) -> bool:
    return t("en", "error_generic") not in telegram.texts_to(chat_id)


async def test_double_tapped_confirm_pushes_once(
    lipabot: Instance,
    customer: FakeUser,
    emu: Emulator,
    telegram: TelegramSeam,
    watch: QueryWatch,
) -> None:
    emu.set_callback_delay(3600.0)  # the prompt is still open on the phone
    draft = await lipabot.start_payment(customer, "640", local_phone(phone_for(30)))
    first = lipabot.confirm_update(customer, draft.id)
    second = lipabot.confirm_update(customer, draft.id)
    await asyncio.gather(lipabot.feed(first), lipabot.feed(second))
    await lipabot.feed(lipabot.confirm_update(customer, draft.id))  # and once more, later

    assert len(emu.requests) == 1
    assert watch.pushes[lipabot.name] == 1
    answers = [a.get("text") for a in telegram.fake.answers()]
    assert t("en", "already_sent") in answers
    assert no_error_messages(telegram, customer.id)
    FIGURES.drove("push safety")
    FIGURES.injected("confirm tapped again", 2)


async def test_same_confirm_at_two_instances_pushes_once(
    sqlite_db: TestDatabase,
    launch: Launch,
    emu: Emulator,
    telegram: TelegramSeam,
    watch: QueryWatch,
) -> None:
    a = await launch("instance-a")
    b = await launch("instance-b")
    users = [FakeUser(id=810_000 + i, first_name=f"Mteja{i}") for i in range(20)]
    for i, user in enumerate(users):
        home = a if i % 2 else b
        draft = await home.start_payment(user, "100", local_phone(phone_for(40 + i)))
        tap = home.confirm_update(user, draft.id)
        await asyncio.gather(a.feed(tap), b.feed(tap), b.feed(tap))

    assert len(emu.requests) == len(users)
    assert watch.pushes.total() == len(users)
    phones = sorted(r.phone for r in emu.requests.values())
    assert phones == sorted(phone_for(40 + i) for i in range(len(users)))
    assert all(no_error_messages(telegram, u.id) for u in users)
    FIGURES.drove("push safety", len(users))
    FIGURES.injected("confirm delivered to two instances", 2 * len(users))


async def test_push_limit_per_hour_is_enforced_with_a_wait_time(
    sqlite_db: TestDatabase,
    launch: Launch,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
) -> None:
    lipabot = await launch(push_limit_per_hour=2)
    phone = phone_for(60)
    emu.set_outcome(phone, 1032)  # each attempt is cancelled, so the customer tries again
    for _ in range(2):
        draft = await lipabot.start_payment(customer, "200", local_phone(phone))
        await lipabot.confirm(customer, draft.id)
        async with asyncio.timeout(5):
            await emu.drain()
        clock.advance(60)

    await lipabot.say(customer, "/pay")
    await lipabot.say(customer, "200")
    await lipabot.say(customer, local_phone(phone))
    refusal = telegram.fake.last(customer.id).text
    # The oldest push turns an hour old 58 minutes from now.
    assert refusal == t("en", "push_limit", wait=t("en", "wait_minutes", n=58))
    assert len(emu.requests) == 2
    assert await Payment.filter(user_id=customer.id).count() == 2

    clock.advance(3600)
    draft = await lipabot.start_payment(customer, "200", local_phone(phone))
    assert (await lipabot.confirm(customer, draft.id)).status is not S.PUSH_FAILED
    assert len(emu.requests) == 3
    FIGURES.drove("push safety", 3)
    FIGURES.injected("push limit reached")


async def test_unable_to_lock_subscriber_is_told_with_a_wait(
    lipabot: Instance,
    customer: FakeUser,
    daraja_emulator: Starlette,
    emu: Emulator,
    telegram: TelegramSeam,
) -> None:
    phone = phone_for(70)
    # Another shop's prompt is open on the customer's phone.
    emu.set_callback_delay(3600.0)
    async with emulator_http_client(daraja_emulator) as other_shop:
        headers = await bearer(other_shop)
        answer = await other_shop.post(
            "/mpesa/stkpush/v1/processrequest", json=push_body(phone, 50), headers=headers
        )
    assert answer.status_code == httpx.codes.OK

    draft = await lipabot.start_payment(customer, "900", local_phone(phone))
    failed = await lipabot.confirm(customer, draft.id)
    await lipabot.deliver()
    assert failed.status is S.PUSH_FAILED and failed.result_code == "push:subscriber_locked"
    reason = t("en", "push_subscriber_locked", wait=t("en", "wait_seconds", n=60))
    text = telegram.fake.last(customer.id).text
    assert text.startswith(t("en", "push_failed", amount="KES 900", reason=reason))
    # The prompt never reached the phone: the M-Pesa menu steps follow (issue 17).
    assert f"Account number: {failed.account_number}" in text
    assert len(telegram.outcomes(customer.id)) == 1
    FIGURES.drove("push safety")
    FIGURES.injected("unable to lock subscriber")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())


async def test_spike_arrest_is_told_with_a_wait(
    lipabot: Instance,
    customer: FakeUser,
    emu: Emulator,
    telegram: TelegramSeam,
) -> None:
    emu.spike_arrest(10)
    draft = await lipabot.start_payment(customer, "450", local_phone(phone_for(80)))
    failed = await lipabot.confirm(customer, draft.id)
    await lipabot.deliver()
    assert failed.status is S.PUSH_FAILED and failed.result_code == "push:rate_limited"
    assert len(emu.requests) == 0
    reason = t("en", "push_rate_limited", wait=t("en", "wait_seconds", n=30))
    text = telegram.fake.last(customer.id).text
    assert text.startswith(t("en", "push_failed", amount="KES 450", reason=reason))
    assert f"Account number: {failed.account_number}" in text  # the menu steps (issue 17)
    assert len(telegram.outcomes(customer.id)) == 1
    FIGURES.drove("push safety")
    FIGURES.injected("spike arrest")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())
