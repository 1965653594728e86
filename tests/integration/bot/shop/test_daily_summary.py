"""The daily summary: once a day per admin and staff chat, whatever the instances and restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.daily_summary import JOB_NAME, NAMESPACE, TICK_SECONDS, DailySummary
from config import Settings
from offline.fake_telegram import FakeTelegram
from payments.models import EventKind, PaymentEvent, StoredState
from payments.states import PaymentStatus
from tests.support.bot import (
    BotHarness,
    bot_settings,
    start_harness,
    stop_harness,
)
from tests.support.db import TestDatabase
from tests.support.gateway import FakeDaraja
from tests.support.shop import add_payment

S = PaymentStatus
ADMINS = (1000, 1001)
STAFF_CHAT = -1001234567890
RECIPIENTS = (*ADMINS, STAFF_CHAT)
#: Wednesday 2 Dec 2026, 20:00:30 in Nairobi: just after the summary time.
NOW = datetime(2026, 12, 2, 17, 0, 30, tzinfo=UTC)
WEEK = timedelta(days=7)


@pytest.fixture
def settings() -> Settings:
    return bot_settings(
        admin_ids=list(ADMINS), admin_chat_id=STAFF_CHAT, admin_daily_summary_at=time(20, 0)
    )


Start = Callable[[], "AsyncIterator[BotHarness]"]


@pytest.fixture
async def instances(
    db: TestDatabase, settings: Settings, fake_telegram: FakeTelegram, gateway: FakeDaraja
) -> AsyncIterator[list[BotHarness]]:
    """Started instances on one database; a test appends more with `start(instances)`."""
    started: list[BotHarness] = []
    yield started
    for harness in started:
        if harness.app.running:
            await stop_harness(harness)


async def start(
    started: list[BotHarness], settings: Settings, fake: FakeTelegram, gateway: FakeDaraja
) -> BotHarness:
    harness = await start_harness(settings, fake, gateway)
    started.append(harness)
    return harness


def summary_of(harness: BotHarness) -> DailySummary:
    summary = harness.app.bot_data.daily_summary
    assert summary is not None
    return summary


async def run_job(harness: BotHarness, at: datetime) -> None:
    """Run the instance's scheduled summary job once, as its job queue would, at `at`."""
    summary_of(harness).clock = lambda: at
    [job] = harness.app.job_queue.get_jobs_by_name(JOB_NAME)
    await job.run(harness.app)


def summaries(fake: FakeTelegram) -> dict[int, list[str]]:
    sent: dict[int, list[str]] = {chat: [] for chat in RECIPIENTS}
    for params in fake.calls_to("sendMessage"):
        sent.setdefault(int(params["chat_id"]), []).append(str(params["text"]))
    return sent


def counts(fake: FakeTelegram) -> dict[int, int]:
    return {chat: len(texts) for chat, texts in summaries(fake).items()}


async def test_two_instances_and_a_restart_send_one_summary_per_chat(
    instances: list[BotHarness],
    settings: Settings,
    fake_telegram: FakeTelegram,
    gateway: FakeDaraja,
) -> None:
    first = await start(instances, settings, fake_telegram, gateway)
    second = await start(instances, settings, fake_telegram, gateway)

    import asyncio

    await asyncio.gather(run_job(first, NOW), run_job(second, NOW))
    assert counts(fake_telegram) == dict.fromkeys(RECIPIENTS, 1)
    # Later ticks the same day, on either instance: nothing more.
    await run_job(first, NOW + timedelta(minutes=1))
    await run_job(second, NOW + timedelta(hours=3))
    assert counts(fake_telegram) == dict.fromkeys(RECIPIENTS, 1)

    # Both restart (a deploy): the new instances know from the database it went out.
    for harness in (first, second):
        await stop_harness(harness)
    third = await start(instances, settings, fake_telegram, gateway)
    await run_job(third, NOW + timedelta(hours=2))
    assert counts(fake_telegram) == dict.fromkeys(RECIPIENTS, 1)

    # The next day at the same time: one more each.
    await run_job(third, NOW + timedelta(days=1))
    assert counts(fake_telegram) == dict.fromkeys(RECIPIENTS, 2)
    claims = await StoredState.filter(namespace=NAMESPACE).count()
    assert claims == 2 * len(RECIPIENTS)


async def test_nothing_before_the_time_and_late_starters_catch_up(
    instances: list[BotHarness],
    settings: Settings,
    fake_telegram: FakeTelegram,
    gateway: FakeDaraja,
) -> None:
    harness = await start(instances, settings, fake_telegram, gateway)
    await run_job(harness, NOW - timedelta(minutes=1))  # 19:59:30
    assert counts(fake_telegram) == dict.fromkeys(RECIPIENTS, 0)
    # An instance that was down at 20:00 sends it when it comes back, the same evening.
    await run_job(harness, NOW + timedelta(hours=3, minutes=50))  # 23:50:30
    assert counts(fake_telegram) == dict.fromkeys(RECIPIENTS, 1)


async def test_the_figures_against_the_same_weekday_last_week(
    instances: list[BotHarness],
    settings: Settings,
    fake_telegram: FakeTelegram,
    gateway: FakeDaraja,
) -> None:
    morning = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 09:00 in Nairobi
    await add_payment(morning, amount=500)
    await add_payment(morning, amount=800, paid_amount=700)
    await add_payment(morning, status=S.CANCELLED, result_code="1032")
    await add_payment(morning, status=S.CANCELLED, result_code="1032")
    await add_payment(morning, status=S.FAILED, result_code="1")
    await add_payment(morning, status=S.EXPIRED)  # we gave up waiting: no code
    await add_payment(morning, status=S.PAID, amount=999, flagged_reason="receipt_conflict")
    await add_payment(NOW + timedelta(minutes=5), amount=5000)  # after the summary: not in it
    await add_payment(datetime(2026, 12, 1, 20, 59, tzinfo=UTC), amount=3000)  # the day before
    await PaymentEvent.create(
        payment=None,
        checkout_request_id="ws_CO_nobody",
        kind=EventKind.UNKNOWN_CHECKOUT,
        source="callback",
        created_at=morning,
    )
    await add_payment(morning - WEEK, amount=1000)
    await add_payment(morning - WEEK, status=S.FAILED, result_code="1")
    await add_payment(NOW - WEEK + timedelta(minutes=5), amount=9000)  # later that evening

    harness = await start(instances, settings, fake_telegram, gateway)
    await run_job(harness, NOW)

    [text] = summaries(fake_telegram)[1000]
    assert text == (
        "📊 Duka la Mama, 2 Dec 2026 up to 20:00\n"
        "Takings: KES 1,200 from 2 paid payments\n"
        "Payments: 7, success rate 29%\n"
        "Failures:\n"
        "• cancelled (1032): 2\n"
        "• expired (no code): 1\n"
        "• failed (1): 1\n"
        "Flagged for review: 1 · Unmatched callbacks: 1\n\n"
        "Same day last week (25 Nov 2026, up to 20:00): KES 1,000 from 1 paid, 2 payments, "
        "success rate 50%. Takings are up 20%."
    )
    assert summaries(fake_telegram)[STAFF_CHAT] == [text]


async def test_an_admin_who_chose_kiswahili_gets_it_in_kiswahili(
    instances: list[BotHarness],
    settings: Settings,
    fake_telegram: FakeTelegram,
    gateway: FakeDaraja,
) -> None:
    from offline.fake_telegram import FakeUser

    first = await start(instances, settings, fake_telegram, gateway)
    second = await start(instances, settings, fake_telegram, gateway)
    admin = FakeUser(id=1001, first_name="Baraka", language_code="en")
    await first.say(admin, "/language")
    await first.press(admin, "lang:sw")
    await run_job(second, NOW)  # the other instance never saw the choice
    assert summaries(fake_telegram)[1001][-1].startswith("📊 Duka la Mama, 2 Des 2026 hadi 20:00")
    assert summaries(fake_telegram)[1000][-1].startswith("📊 Duka la Mama, 2 Dec 2026 up to")


async def test_a_failed_send_is_tried_again_a_blocked_chat_is_not(
    instances: list[BotHarness],
    settings: Settings,
    fake_telegram: FakeTelegram,
    gateway: FakeDaraja,
) -> None:
    harness = await start(instances, settings, fake_telegram, gateway)
    fake_telegram.fail_server_error(502, method="sendMessage", times=1)  # the first admin's
    fake_telegram.block_chat(1001)
    await run_job(harness, NOW)
    delivered = {chat: len(fake_telegram.chat_messages(chat)) for chat in RECIPIENTS}
    assert delivered == {1000: 0, 1001: 0, STAFF_CHAT: 1}

    await run_job(harness, NOW + timedelta(minutes=1))
    delivered = {chat: len(fake_telegram.chat_messages(chat)) for chat in RECIPIENTS}
    assert delivered == {1000: 1, 1001: 0, STAFF_CHAT: 1}
    # The blocked chat was asked once: the bot does not hammer it every minute.
    assert counts(fake_telegram)[1001] == 1


async def test_the_job_runs_every_minute_only_when_set(
    db: TestDatabase, fake_telegram: FakeTelegram, gateway: FakeDaraja
) -> None:
    off = await start_harness(bot_settings(), fake_telegram, gateway)
    on = await start_harness(
        bot_settings(admin_daily_summary_at=time(20, 0)), fake_telegram, gateway
    )
    try:
        assert off.app.bot_data.daily_summary is None
        assert off.app.job_queue.get_jobs_by_name(JOB_NAME) == ()
        [job] = on.app.job_queue.get_jobs_by_name(JOB_NAME)
        assert job.job.trigger.interval == timedelta(seconds=TICK_SECONDS)
        assert summary_of(on).recipients == [1000]  # no ADMIN_CHAT_ID: the admins only
    finally:
        await stop_harness(off)
        await stop_harness(on)
