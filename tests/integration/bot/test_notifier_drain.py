"""The notifier's run loop drains a backlog at the send rate, not one batch per interval.

The rate is the bot's one limiter's (`bot.limiter`, TELEGRAM_SEND_RATE), not the notifier's own.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from bot.limiter import SendLimiter
from bot.notifier import Notifier
from offline.fake_telegram import FakeTelegram
from payments.models import Notification, NotificationKind, NotificationStatus
from tests.support.bot import BotHarness, start_harness, stop_harness
from tests.support.gateway import bot_daraja
from tests.support.settings import make_settings

ADMIN_CHAT = 4242


async def _queue_alerts(count: int) -> None:
    now = datetime.now(UTC)
    for i in range(count):
        await Notification.create(
            payment_id=None,
            chat_id=ADMIN_CHAT,
            language="en",
            kind=NotificationKind.ADMIN_ALERT,
            topic=f"topic_{i}",
            detail={"reason": f"topic_{i}"},
            next_attempt_at=now,
            created_at=now,
        )


def _notifier(bot: BotHarness, **kwargs: object) -> Notifier:
    return Notifier(bot.app.bot, bot.outbox, bot.service, owner="drain-test", **kwargs)  # type: ignore[arg-type]


async def _run_until_sent(notifier: Notifier, bot: BotHarness, count: int) -> float:
    stop = asyncio.Event()
    started = time.monotonic()
    task = asyncio.create_task(notifier.run(stop, interval=30))
    try:
        async with asyncio.timeout(5):
            await bot.fake.wait_until(lambda: len(bot.fake.texts(ADMIN_CHAT)) >= count)
        return time.monotonic() - started
    finally:
        stop.set()
        await asyncio.wait_for(task, 2)


async def test_a_backlog_bigger_than_a_batch_goes_out_without_waiting_for_the_interval(
    bot: BotHarness,
) -> None:
    await _queue_alerts(23)
    # batch 5 and a 30 s interval: the old loop would send 5 and sleep 30 s.
    elapsed = await _run_until_sent(_notifier(bot, batch=5), bot, 23)
    assert elapsed < 3
    assert len(bot.fake.texts(ADMIN_CHAT)) == 23  # each once
    pending = await Notification.filter(status=NotificationStatus.PENDING).count()
    assert pending == 0


async def test_the_send_rate_is_kept_while_draining(
    sqlite_db: object, fake_telegram: FakeTelegram
) -> None:
    harness = await start_harness(
        make_settings(telegram_send_rate=20.0), fake_telegram, bot_daraja()
    )
    try:
        await _queue_alerts(30)
        # A burst of 20 at once, then 10 more at 20/s: at least half a second.
        elapsed = await _run_until_sent(_notifier(harness, batch=5), harness, 30)
        assert elapsed >= 0.45
        assert len(fake_telegram.texts(ADMIN_CHAT)) == 30
    finally:
        await stop_harness(harness)


@pytest.mark.parametrize("rate", [7.0, 0.0])
async def test_the_send_rate_comes_from_settings(
    sqlite_db: object, fake_telegram: FakeTelegram, rate: float
) -> None:
    settings = make_settings(telegram_send_rate=rate)
    harness = await start_harness(settings, fake_telegram, bot_daraja())
    try:
        limiter = harness.app.bot.rate_limiter
        assert isinstance(limiter, SendLimiter)
        assert limiter.rate == rate
    finally:
        await stop_harness(harness)
