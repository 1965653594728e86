"""Within Telegram's limits under a rush, and one slow Daraja call holds up nobody else.

Updates go through the application's queue, as the webhook route puts them, so they are
processed as in production: concurrently, serialised per chat and user
(`bot.app.PerChatUserUpdateProcessor`). Every send goes through the bot's one limiter
(`bot.limiter.SendLimiter`); the fake Telegram can enforce Telegram's own flood limits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.limiter import SendLimiter
from offline.fake_telegram import FakeTelegram, FakeUser
from payments.models import Payment
from payments.states import PaymentStatus
from tests.support.bot import BotHarness, bot_settings, start_harness, stop_harness
from tests.support.db import TestDatabase
from tests.support.gateway import FakeDaraja
from tests.support.settings import TEST_BOT_TOKEN

ADMIN = FakeUser(id=1000, first_name="Boss")  # make_settings' admin_ids


async def _until(fake: FakeTelegram, predicate, within: float) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `predicate()` held; fails the test after `within`."""
    started = time.monotonic()
    async with asyncio.timeout(within):
        await fake.wait_until(predicate)
    return time.monotonic() - started


async def _poll(predicate, within: float) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(within):
        for _ in iter(int, 1):  # until it holds (the timeout fails the test)
            if predicate():
                return
            await asyncio.sleep(0.01)


def _limiter(bot: BotHarness) -> SendLimiter:
    limiter = bot.app.bot.rate_limiter
    assert isinstance(limiter, SendLimiter)
    return limiter


# ------------------------------------------------------------------ no waiting on Daraja


async def test_a_hanging_push_does_not_delay_another_users_reply(
    bot: BotHarness, gateway: FakeDaraja, customer: FakeUser
) -> None:
    other = FakeUser(id=5151, first_name="Otieno")
    payment = await bot.pay_up_to_confirmation(customer)
    gateway.push_gate = asyncio.Event()  # Daraja does not answer the push until we say so
    try:
        await bot.queue(bot.fake.press(customer, f"pay:{payment.id}"))
        # The tap is answered at once, before Daraja says anything.
        await _until(bot.fake, lambda: bool(bot.fake.answers()), within=2)
        assert bot.fake.answers()[-1]["text"].startswith("Sending the M-Pesa prompt")
        await _until(bot.fake, lambda: "Check your phone" in bot.fake.last(customer.id).text, 2)
        assert (await bot.service.get(payment.id)).status == PaymentStatus.PUSHING

        await bot.queue(bot.fake.text(other, "/help"))
        waited = await _until(bot.fake, lambda: bool(bot.fake.texts(other.id)), within=2)
        assert waited < 1.0
        # …and the customer whose push hangs is not locked out of their own chat either.
        await bot.queue(bot.fake.text(customer, "/help"))
        before = len(bot.fake.texts(customer.id))
        await _until(bot.fake, lambda: len(bot.fake.texts(customer.id)) > before, within=2)
        assert (await bot.service.get(payment.id)).status == PaymentStatus.PUSHING
    finally:
        gateway.push_gate.set()
    await bot.pushes_sent()
    assert (await bot.service.get(payment.id)).status == PaymentStatus.PENDING
    assert len(gateway.pushes) == 1


async def test_an_admins_live_query_does_not_delay_a_customers_reply(
    bot: BotHarness, gateway: FakeDaraja, customer: FakeUser
) -> None:
    payment = await bot.pay_up_to_confirmation(customer)
    await bot.confirm(customer)
    gateway.query_gate = asyncio.Event()  # Daraja's query API hangs
    try:
        await bot.queue(bot.fake.text(ADMIN, f"/status {payment.id}"))
        await asyncio.sleep(0.1)
        assert gateway.queries, "the admin's live query is out and waiting"
        other = FakeUser(id=5152, first_name="Akinyi")
        await bot.queue(bot.fake.text(other, "/help"))
        waited = await _until(bot.fake, lambda: bool(bot.fake.texts(other.id)), within=2)
        assert waited < 1.0
        assert not bot.fake.texts(ADMIN.id)  # still waiting for Daraja
    finally:
        gateway.query_gate.set()
    await _until(bot.fake, lambda: bool(bot.fake.texts(ADMIN.id)), within=5)
    card = bot.fake.texts(ADMIN.id)[0]
    assert card.startswith(f"Payment {payment.id}:")
    assert "Live query" in card


async def test_one_users_rapid_taps_stay_in_order(
    bot: BotHarness, gateway: FakeDaraja, customer: FakeUser
) -> None:
    payment = await bot.pay_up_to_confirmation(customer)
    confirmation = bot.fake.last(customer.id).message_id
    # Cancel, then Confirm, then Confirm again, all queued at once: handled in that order, so
    # the draft is cancelled and nothing is pushed (out of order, Confirm would push).
    for data in (f"cancel:{payment.id}", f"pay:{payment.id}", f"pay:{payment.id}"):
        await bot.queue(bot.fake.press(customer, data, message_id=confirmation))
    await _until(bot.fake, lambda: len(bot.fake.answers()) >= 3, within=5)
    await bot.pushes_sent()
    assert (await bot.service.get(payment.id)).status == PaymentStatus.CANCELLED
    assert gateway.pushes == []
    answers = bot.fake.answers()
    assert [int(a["callback_query_id"]) for a in answers] == sorted(
        int(a["callback_query_id"]) for a in answers
    )
    assert [a.get("text") for a in answers][1:] == ["This payment is already finished."] * 2


async def test_rapid_confirm_taps_push_once_and_are_answered_in_order(
    bot: BotHarness, gateway: FakeDaraja, customer: FakeUser
) -> None:
    payment = await bot.pay_up_to_confirmation(customer)
    confirmation = bot.fake.last(customer.id).message_id
    for _ in range(3):
        await bot.queue(bot.fake.press(customer, f"pay:{payment.id}", message_id=confirmation))
    await _until(bot.fake, lambda: len(bot.fake.answers()) >= 3, within=5)
    await bot.pushes_sent()
    assert len(gateway.pushes) == 1
    assert (await bot.service.get(payment.id)).status == PaymentStatus.PENDING
    texts = [a.get("text", "") for a in bot.fake.answers()]
    assert texts[0].startswith("Sending the M-Pesa prompt")
    assert texts[1:] == ["Already sent: check your phone for the M-Pesa prompt."] * 2


# ------------------------------------------------------------------ one pace


@pytest.fixture
async def paced(
    sqlite_db: TestDatabase, fake_telegram: FakeTelegram, gateway: FakeDaraja
) -> AsyncIterator[BotHarness]:
    """100 messages/s overall, one at a time, no per-chat pace: a queue forms at once."""
    harness = await start_harness(bot_settings(telegram_send_rate=100.0), fake_telegram, gateway)
    try:
        yield harness
    finally:
        await stop_harness(harness)


async def _paid(bot: BotHarness, customer: FakeUser) -> Payment:
    payment = await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    await bot.callback(payment, 0, receipt="TBF34EVY55")
    return payment


async def test_a_receipt_due_while_200_replies_wait_goes_first_after_a_retry_after(
    paced: BotHarness, customer: FakeUser
) -> None:
    bot = paced
    await _paid(bot, customer)
    limiter = _limiter(bot)
    seen = len(bot.fake.calls)
    # Telegram's flood control answers the next message with "retry after 1".
    bot.fake.fail_retry_after(1, method="sendMessage")
    users = [FakeUser(id=60_000 + i, first_name=f"m{i}") for i in range(200)]
    replies = [asyncio.create_task(bot.feed(bot.fake.text(u, "/help"))) for u in users]
    # One got the 429; the rest queue behind the pause.
    await _poll(lambda: limiter.waiting >= 199, within=10)
    refused_at = next(c.at for c in bot.fake.calls[seen:] if c.method == "sendMessage")
    delivered = asyncio.create_task(bot.deliver())  # the receipt falls due now
    assert await asyncio.wait_for(delivered, 10) == 1
    await asyncio.wait_for(asyncio.gather(*replies), 15)

    sends = [c for c in bot.fake.calls[seen:] if c.method in ("sendMessage", "editMessageText")]
    assert sends[0].at == refused_at  # the 429
    first_after = sends[1]
    # Nothing went out during the pause, for any chat: retry_after holds for the whole bot.
    assert first_after.at - refused_at >= 0.95
    # The receipt went first, ahead of 200 replies that were waiting before it.
    assert first_after.method == "editMessageText"
    assert "TBF34EVY55" in first_after.params["text"]
    # And every reply still arrived, once (the refused one was sent again).
    assert all(len(bot.fake.texts(u.id)) == 1 for u in users)
    assert limiter.retry_afters == 1
    assert bot.fake.too_many_requests == 1


async def test_priorities_receipts_then_replies_then_admin_messages(
    paced: BotHarness, customer: FakeUser
) -> None:
    bot = paced
    await _paid(bot, customer)
    seen = len(bot.fake.calls)
    bot.fake.fail_retry_after(1, method="sendMessage")
    users = [FakeUser(id=61_000 + i, first_name=f"m{i}") for i in range(20)]
    # A blocked first send makes everyone queue: 20 admin alerts (through the notifier),
    # 20 customers' replies, and the receipt.
    first = asyncio.create_task(bot.feed(bot.fake.text(users[0], "/help")))
    await _poll(lambda: bot.fake.too_many_requests == 1, within=5)
    admin_sends = [asyncio.create_task(_admin_send(bot, i)) for i in range(20)]
    replies = [asyncio.create_task(bot.feed(bot.fake.text(u, "/help"))) for u in users[1:]]
    await asyncio.sleep(0.1)
    receipt = asyncio.create_task(bot.deliver())
    await asyncio.wait_for(asyncio.gather(first, receipt, *admin_sends, *replies), 15)
    order = [
        _kind(c.params)
        for c in bot.fake.calls[seen:]
        if c.method in ("sendMessage", "editMessageText")
    ][1:]  # after the refused one
    assert order[0] == "receipt", order
    assert order[1:21] == ["reply"] * 20
    assert order[21:] == ["admin"] * 20


async def _admin_send(bot: BotHarness, i: int) -> None:
    from bot.limiter import Priority, sending_as

    with sending_as(Priority.ADMIN):
        await bot.app.bot.send_message(ADMIN.id, f"admin note {i}")


def _kind(params: dict) -> str:  # type: ignore[type-arg]
    text = str(params.get("text", ""))
    if "TBF34EVY55" in text:
        return "receipt"
    if text.startswith("admin note"):
        return "admin"
    return "reply"


# ------------------------------------------------------------------ the enforcing fake


@pytest.fixture
async def telegram_paced(sqlite_db: TestDatabase, gateway: FakeDaraja) -> AsyncIterator[BotHarness]:
    """Telegram's own limits enforced by the fake; the bot with its production pace."""
    fake = FakeTelegram(TEST_BOT_TOKEN, enforce_limits=True)
    settings = bot_settings(telegram_send_rate=25.0, telegram_chat_rate=1.0)
    harness = await start_harness(settings, fake, gateway)
    try:
        yield harness
    finally:
        await stop_harness(harness)


async def test_a_rush_through_the_limiter_meets_no_429(
    telegram_paced: BotHarness, customer: FakeUser
) -> None:
    bot = telegram_paced
    # One customer pays (several messages and edits in one chat in quick succession) while
    # 40 others ask for help at once: more than Telegram allows in one second.
    users = [FakeUser(id=62_000 + i, first_name=f"m{i}") for i in range(40)]
    helps = [asyncio.create_task(bot.feed(bot.fake.text(u, "/help"))) for u in users]
    await _paid(bot, customer)
    await asyncio.wait_for(asyncio.gather(*helps), 10)
    assert await bot.deliver() == 1
    assert bot.fake.too_many_requests == 0
    assert all(len(bot.fake.texts(u.id)) == 1 for u in users)
    assert "TBF34EVY55" in bot.fake.last(customer.id).text


async def test_without_the_limiter_the_enforcing_fake_answers_429(
    telegram_paced: BotHarness,
) -> None:
    """The same kind of rush straight at the fake, past the limiter: Telegram would refuse."""
    from telegram import Bot

    bot = telegram_paced
    raw = Bot(bot.fake.token, base_url="https://telegram.test/bot", request=bot.fake.request())
    async with raw:
        results = await asyncio.gather(
            *(raw.send_message(62_500 + i, "hello") for i in range(40)), return_exceptions=True
        )
        same_chat = await asyncio.gather(
            *(raw.send_message(62_999, f"n{i}") for i in range(5)), return_exceptions=True
        )
    refused = [r for r in results if isinstance(r, Exception)]
    assert 1 <= len(refused) <= 10  # the 31st onwards, within the second
    assert "retry after" in str(refused[0]).lower() or "flood" in str(refused[0]).lower()
    assert sum(isinstance(r, Exception) for r in same_chat) >= 2  # a burst of 3, then 1/s
    assert bot.fake.too_many_requests == len(refused) + sum(
        isinstance(r, Exception) for r in same_chat
    )


async def test_within_a_priority_answers_go_in_the_order_their_updates_arrived(
    paced: BotHarness,
) -> None:
    """The second message of an answer does not queue behind updates that arrived later."""
    from bot.limiter import Priority, sending_as

    bot = paced
    bot.fake.fail_retry_after(1, method="sendMessage")
    blocked = asyncio.create_task(bot.app.bot.send_message(63_000, "first"))
    await _poll(lambda: bot.fake.too_many_requests == 1, within=5)
    now = time.monotonic()

    async def send(chat: int, text: str, since: float) -> None:
        with sending_as(Priority.REPLY, since=since):
            await bot.app.bot.send_message(chat, text)

    later = asyncio.create_task(send(63_001, "for an update that came later", now))
    await asyncio.sleep(0.05)
    earlier = asyncio.create_task(send(63_002, "second part of an earlier answer", now - 5))
    await asyncio.wait_for(asyncio.gather(blocked, later, earlier), 10)
    texts = [c.params["text"] for c in bot.fake.calls if c.method == "sendMessage"][1:]
    # The refused call was made at `now` minus a little, so it keeps its place too.
    assert texts == [
        "second part of an earlier answer",
        "first",
        "for an update that came later",
    ]


async def test_a_refused_push_reaches_the_customer_at_once_through_the_outbox(
    bot: BotHarness, gateway: FakeDaraja, customer: FakeUser
) -> None:
    """The background push wakes the notifier: no waiting for its next tick (30 s here)."""
    from daraja.errors import SubscriberLocked

    gateway.push_error = SubscriberLocked("Unable to lock subscriber")
    payment = await bot.pay_up_to_confirmation(customer)
    stop = asyncio.Event()
    worker = asyncio.create_task(bot.notifier.run(stop, interval=30))
    try:
        await asyncio.sleep(0.05)  # the worker's first (empty) round is done; it sleeps 30 s
        await bot.queue(bot.fake.press(customer, f"pay:{payment.id}"))
        waited = await _until(
            bot.fake, lambda: "prompt open" in bot.fake.last(customer.id).text, within=3
        )
        assert waited < 1.5
    finally:
        stop.set()
        await asyncio.wait_for(worker, 5)
    fresh = await bot.service.get(payment.id)
    assert fresh.status == PaymentStatus.PUSH_FAILED
    assert bot.fake.last(customer.id).message_id == fresh.status_message_id  # edited in place


async def test_a_receipt_does_not_outwait_its_lease_in_the_limiter(
    paced: BotHarness, customer: FakeUser
) -> None:
    """While the bot is paused longer than half the notifier's lease, the row is not sent by
    this round (it could be claimed again and sent twice); it is retried after the pause."""
    from bot.notifier import Notifier
    from payments.models import Notification, NotificationStatus

    bot = paced
    payment = await _paid(bot, customer)
    bot.fake.fail_retry_after(3, method="sendMessage")
    reply = asyncio.create_task(bot.feed(bot.fake.text(FakeUser(id=64_000), "/help")))
    await _poll(lambda: bot.fake.too_many_requests == 1, within=5)
    notifier = Notifier(bot.app.bot, bot.outbox, bot.service, owner="lease-test", lease_seconds=1)
    started = time.monotonic()
    assert await notifier.deliver_due() == 0
    assert time.monotonic() - started < 1.5  # gave up after half the lease, not 3 s
    row = await Notification.get(payment_id=payment.id)
    assert row.status == NotificationStatus.PENDING
    assert "RetryAfter" in (row.last_error or "")
    assert not any("TBF34EVY55" in t for t in bot.fake.texts(customer.id))
    await asyncio.wait_for(reply, 10)
