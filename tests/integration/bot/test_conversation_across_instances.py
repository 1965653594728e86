"""Two bot instances on one database (web dynos behind a router): one conversation between them.

Each instance is a whole `build_application` Application with its own payments service and
`DatabasePersistence`, both started before the customer writes, so nothing they know comes
from loading persistence at start-up. They share the database (SQLite and PostgreSQL), the
fake Telegram and the recording gateway (pushes are counted across both).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.handlers.pay import CONFIRM, CONVERSATION_NAME, PHONE
from bot.persistence import CONVERSATIONS, DatabasePersistence
from bot.shared_conversation import SharedConversationHandler
from bot.texts import t
from config import Settings
from daraja.timestamps import now_utc
from offline.fake_telegram import FakeTelegram, FakeUser
from payments.models import StoredState
from payments.states import PaymentStatus
from tests.support.bot import BotHarness, bot_settings, start_harness, stop_harness
from tests.support.db import TestDatabase
from tests.support.gateway import FakeDaraja

S = PaymentStatus
TIMEOUT = 60.0
TIMED_OUT = t("en", "timeout")


@pytest.fixture
def two_settings() -> Settings:
    return bot_settings(bot_conversation_timeout_seconds=TIMEOUT)


@pytest.fixture
async def pair(
    db: TestDatabase, two_settings: Settings, fake_telegram: FakeTelegram, gateway: FakeDaraja
) -> AsyncIterator[tuple[BotHarness, BotHarness]]:
    first = await start_harness(two_settings, fake_telegram, gateway)
    second = await start_harness(two_settings, fake_telegram, gateway)
    try:
        yield first, second
    finally:
        for harness in (first, second):
            if harness.app.running:
                await stop_harness(harness)


def persistence_of(harness: BotHarness) -> DatabasePersistence:
    persistence = harness.app.persistence
    assert isinstance(persistence, DatabasePersistence)
    return persistence


def clock_ahead(seconds: float) -> Callable[[], datetime]:
    return lambda: now_utc() + timedelta(seconds=seconds)


async def stored_state(user: FakeUser) -> object | None:
    row = await StoredState.get_or_none(
        namespace=CONVERSATIONS + CONVERSATION_NAME, key=f"[{user.id}, {user.id}]"
    )
    return None if row is None else row.value["state"]


def no_errors(fake: FakeTelegram, user: FakeUser) -> None:
    assert not any("went wrong" in text for text in fake.texts(user.id))


async def test_amount_on_one_instance_phone_on_the_other_confirm_back_on_the_first(
    pair: tuple[BotHarness, BotHarness], customer: FakeUser, gateway: FakeDaraja
) -> None:
    a, b = pair
    assert "How much" in await a.say(customer, "/pay")
    assert "Paying KES 2,500" in await a.say(customer, "2500")
    assert await stored_state(customer) == PHONE

    confirmation = await b.say(customer, "0712345678")
    assert "KES 2,500" in confirmation and "Duka la Mama" in confirmation
    payment = await b.payment_of(customer)
    assert payment.amount == 2500 and payment.status is S.CREATED
    assert await stored_state(customer) == CONFIRM

    status_message = a.fake.last(customer.id)
    pushed = await a.confirm(customer)
    assert pushed.status is S.PENDING
    assert gateway.pushed("phone", "amount", "account_reference") == [
        ("254712345678", 2500, pushed.account_number)
    ]
    assert await stored_state(customer) is None  # the conversation ended, for both

    await b.callback(pushed, 0, receipt="TBF34EVY55")
    assert await b.deliver() == 1
    assert status_message.text.startswith("Paid ✓") and "Receipt TBF34EVY55" in status_message.text
    assert await a.deliver() == 0  # delivered once, by one instance
    no_errors(a.fake, customer)


async def test_every_step_on_alternating_instances(
    pair: tuple[BotHarness, BotHarness], customer: FakeUser, gateway: FakeDaraja
) -> None:
    a, b = pair
    await b.say(customer, "/pay")
    assert "could not read an amount" in await a.say(customer, "lots")  # in the AMOUNT state on A
    assert "Paying KES 700" in await b.say(customer, "700")
    assert await a.say(customer, "07123") == t("en", "phone_invalid")  # still in PHONE, on A
    assert "KES 700" in await b.say(customer, "0712345678")
    payment = await a.payment_of(customer)
    await b.press(customer, f"pay:{payment.id}")
    assert len(gateway.pushes) == 1
    assert (await a.service.get(payment.id)).status is S.PENDING
    no_errors(a.fake, customer)


async def test_cancel_on_the_other_instance_cancels_the_draft(
    pair: tuple[BotHarness, BotHarness], customer: FakeUser
) -> None:
    a, b = pair
    payment = await a.pay_up_to_confirmation(customer)
    assert t("en", "cancelled") == await b.say(customer, "/cancel")
    assert (await b.service.get(payment.id)).status is S.CANCELLED
    assert await stored_state(customer) is None
    # Out of the conversation on A as well: /cancel there has nothing to cancel.
    assert t("en", "nothing_to_cancel") == await a.say(customer, "/cancel")


async def test_double_confirm_delivered_to_both_instances_pushes_once(
    pair: tuple[BotHarness, BotHarness], customer: FakeUser, gateway: FakeDaraja
) -> None:
    a, b = pair
    await a.say(customer, "/pay")
    await b.say(customer, "1200")
    payment = await a.pay_up_to_confirmation(customer, amount="1200")
    tap = a.fake.press(customer, f"pay:{payment.id}")
    await asyncio.gather(a.feed(tap), b.feed(tap))
    assert len(gateway.pushes) == 1
    assert (await a.service.get(payment.id)).status is S.PENDING
    assert await stored_state(customer) is None
    assert a.fake.last(customer.id).text.startswith("Check your phone")
    no_errors(a.fake, customer)

    await a.callback(payment, 0)
    assert await b.deliver() == 1
    assert a.fake.last(customer.id).text.startswith("Paid ✓")


async def test_restart_mid_conversation_continues_on_the_new_process(
    db: TestDatabase,
    two_settings: Settings,
    fake_telegram: FakeTelegram,
    gateway: FakeDaraja,
    customer: FakeUser,
) -> None:
    old = await start_harness(two_settings, fake_telegram, gateway)
    await old.say(customer, "/pay")
    await old.say(customer, "900")
    await stop_harness(old)

    new = await start_harness(two_settings, fake_telegram, gateway)
    try:
        assert "KES 900" in await new.say(customer, "0712345678")
        payment = await new.confirm(customer)
        assert payment.status is S.PENDING and payment.amount == 900
        assert len(gateway.pushes) == 1
    finally:
        await stop_harness(new)


async def test_stale_conversation_times_out_politely_on_another_instance(
    pair: tuple[BotHarness, BotHarness], customer: FakeUser, gateway: FakeDaraja
) -> None:
    a, b = pair
    draft = await a.pay_up_to_confirmation(customer, amount="600")
    confirm_message = a.fake.last(customer.id)
    # Instance A goes away (its in-process timeout job with it); the customer comes back late.
    await stop_harness(a)
    persistence_of(b).clock = clock_ahead(TIMEOUT + 1)

    await b.press(customer, f"pay:{draft.id}", message_id=confirm_message.message_id)
    assert TIMED_OUT in b.fake.texts(customer.id)
    assert gateway.pushes == []  # a Confirm after the timeout does not push
    assert (await b.service.get(draft.id)).status is S.CANCELLED
    assert b.fake.answers()[-1].get("text") == t("en", "payment_closed")  # the tap is answered
    assert await stored_state(customer) is None

    # No dead end: /pay starts afresh on the same instance.
    assert "How much" in await b.say(customer, "/pay")
    await b.say(customer, "800")
    assert any("Paying KES 800" in text for text in b.fake.texts(customer.id)[-2:])
    no_errors(b.fake, customer)


async def test_stale_typed_step_is_timed_out_not_taken(
    pair: tuple[BotHarness, BotHarness], customer: FakeUser
) -> None:
    a, b = pair
    await a.say(customer, "/pay")
    await a.say(customer, "600")  # waiting for the phone number
    persistence_of(b).clock = clock_ahead(TIMEOUT + 5)
    assert await b.say(customer, "0712345678") == TIMED_OUT
    assert await b.service.recent_for_user(customer.id) == []  # no draft from a stale amount
    assert await stored_state(customer) is None
    assert b.fake.texts(customer.id).count(TIMED_OUT) == 1


async def test_stale_conversation_reaching_both_instances_at_once_times_out_once(
    pair: tuple[BotHarness, BotHarness], customer: FakeUser
) -> None:
    a, b = pair
    await a.say(customer, "/pay")
    await a.say(customer, "600")
    for harness in pair:
        persistence_of(harness).clock = clock_ahead(TIMEOUT + 1)
    await asyncio.gather(
        a.feed(a.fake.text(customer, "0712345678")), b.feed(b.fake.text(customer, "0712345678"))
    )
    assert a.fake.texts(customer.id).count(TIMED_OUT) == 1
    assert await a.service.recent_for_user(customer.id) == []
    no_errors(a.fake, customer)


async def test_recent_step_on_another_instance_is_not_stale(
    pair: tuple[BotHarness, BotHarness], customer: FakeUser
) -> None:
    a, b = pair
    await a.say(customer, "/pay")
    await a.say(customer, "600")
    persistence_of(b).clock = clock_ahead(TIMEOUT - 5)  # late, but within the timeout
    assert "KES 600" in await b.say(customer, "0712345678")
    assert TIMED_OUT not in b.fake.texts(customer.id)


async def test_live_timeout_job_fires_once_and_not_where_the_customer_left(
    db: TestDatabase, fake_telegram: FakeTelegram, gateway: FakeDaraja, customer: FakeUser
) -> None:
    """The in-process job still works live; the instance the customer moved away from is quiet."""
    settings = bot_settings(bot_conversation_timeout_seconds=0.6)
    a = await start_harness(settings, fake_telegram, gateway)
    b = await start_harness(settings, fake_telegram, gateway)
    try:
        await a.say(customer, "/pay")
        await a.say(customer, "600")  # A's timeout job: due in 0.6 s
        await asyncio.sleep(0.3)
        await b.say(customer, "0712345678")  # the conversation moves on, on B
        draft = await b.payment_of(customer)
        await asyncio.sleep(0.45)  # A's job has fired by now; B's is not due yet
        assert TIMED_OUT not in fake_telegram.texts(customer.id)
        assert (await b.service.get(draft.id)).status is S.CREATED
        assert await stored_state(customer) == CONFIRM

        async with asyncio.timeout(3):  # B's job: the live timeout, exactly once
            await fake_telegram.wait_until(lambda: TIMED_OUT in fake_telegram.texts(customer.id))
        await asyncio.sleep(0.2)
        assert fake_telegram.texts(customer.id).count(TIMED_OUT) == 1
        assert (await b.service.get(draft.id)).status is S.CANCELLED
        assert await stored_state(customer) is None
        await a.app.update_persistence()  # A's periodic flush changes nothing now
        assert await stored_state(customer) is None
    finally:
        await stop_harness(a)
        await stop_harness(b)


def conversation_of(harness: BotHarness) -> SharedConversationHandler[Any]:
    (conversation,) = [
        h for h in harness.app.handlers[0] if isinstance(h, SharedConversationHandler)
    ]
    return conversation


async def test_abandoned_conversation_is_swept_after_a_restart_once_in_its_language(
    pair: tuple[BotHarness, BotHarness], sw_customer: FakeUser, gateway: FakeDaraja
) -> None:
    a, b = pair
    draft = await a.pay_up_to_confirmation(sw_customer, amount="600")
    await stop_harness(a)  # the instance that served the customer is gone, its timer with it
    c = await start_harness(bot_settings(bot_conversation_timeout_seconds=TIMEOUT), b.fake, gateway)
    try:
        assert await conversation_of(b).sweep(b.app) == 0  # not idle long enough yet
        assert t("sw", "timeout") not in b.fake.texts(sw_customer.id)

        for harness in (b, c):
            persistence_of(harness).clock = clock_ahead(TIMEOUT + 1)
        await asyncio.gather(conversation_of(b).sweep(b.app), conversation_of(c).sweep(c.app))
        # Told once, in Kiswahili, without having written again; the draft cannot be pushed.
        assert b.fake.texts(sw_customer.id).count(t("sw", "timeout")) == 1
        assert (await b.service.get(draft.id)).status is S.CANCELLED
        assert await stored_state(sw_customer) is None
        assert await conversation_of(b).sweep(b.app) == 0

        await c.press(sw_customer, f"pay:{draft.id}")
        assert gateway.pushes == []
        assert "kiasi gani" in await c.say(sw_customer, "/pay")  # and /pay starts afresh
    finally:
        await stop_harness(c)


async def test_the_sweep_runs_by_itself_on_a_surviving_instance(
    db: TestDatabase, fake_telegram: FakeTelegram, gateway: FakeDaraja, customer: FakeUser
) -> None:
    settings = bot_settings(bot_conversation_timeout_seconds=4.0)  # sweeps every second
    a = await start_harness(settings, fake_telegram, gateway)
    b = await start_harness(settings, fake_telegram, gateway)
    try:
        await a.say(customer, "/pay")
        await a.say(customer, "600")
        await stop_harness(a)
        persistence_of(b).clock = clock_ahead(10)
        async with asyncio.timeout(3):
            await fake_telegram.wait_until(lambda: TIMED_OUT in fake_telegram.texts(customer.id))
        assert await stored_state(customer) is None
    finally:
        await stop_harness(b)


async def test_the_other_instance_knows_the_step_for_its_hints_and_pointers(
    pair: tuple[BotHarness, BotHarness], customer: FakeUser
) -> None:
    a, b = pair
    await a.say(customer, "/pay")
    await b.feed(b.fake.sticker(customer))  # B learns the step from the database
    assert b.fake.last(customer.id).text == t("en", "hint_amount")
    assert await b.say(customer, "/nope") == (
        t("en", "unknown_command", command="/nope") + "\n" + t("en", "hint_amount")
    )
    await a.say(customer, "500")
    await b.feed(b.fake.photo(customer))
    assert b.fake.last(customer.id).text == t("en", "hint_phone")
    await b.say(customer, "/cancel")
    # Ended on B: A, which saw the conversation last at the phone step, now points the way.
    await a.feed(a.fake.sticker(customer))
    assert a.fake.last(customer.id).text == t("en", "pointer", merchant="Duka la Mama")
