"""Customer messages survive a long Telegram outage; a message given up tells the admins.

SQLite and PostgreSQL, the harness clock moved by hand (the outbox schedules retries with it).
"""

from __future__ import annotations

from itertools import pairwise

from bot.delivery import BACKOFF_CAP_SECONDS
from daraja.emulator import Emulator
from offline.fake_telegram import FakeUser
from payments.models import Notification, NotificationKind, NotificationStatus, Payment
from payments.rules import mask_phone
from tests.reliability.test_telegram_faults import paid_but_not_told
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.figures import FIGURES
from tests.support.harness import Instance, Launch, TelegramSeam

ADMIN = 1000  # make_settings' ADMIN_IDS
STEP = 60.0


async def refused_times(
    instance: Instance, clock: Clock, telegram: TelegramSeam, hours: float
) -> list[float]:
    """Deliver every simulated minute for `hours` while Telegram is down; when it was tried."""
    tried: list[float] = []
    start = clock.monotonic()
    while clock.monotonic() - start < hours * 3600:
        before = telegram.refused
        assert await instance.deliver() == 0
        if telegram.refused > before:
            tried.append(clock.monotonic() - start)
        clock.advance(STEP)
    return tried


async def test_telegram_down_for_two_hours_then_the_receipt_is_delivered(
    db: TestDatabase,
    launch: Launch,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
) -> None:
    lipabot = await launch()
    payment_id = await paid_but_not_told(lipabot, customer, emu, 21)
    telegram.down = True
    tried = await refused_times(lipabot, clock, telegram, hours=2)
    telegram.down = False
    gaps = [b - a for a, b in pairwise(tried)]
    assert max(gaps) <= BACKOFF_CAP_SECONDS + STEP, "retries too far apart"
    assert tried[-1] > 2 * 3600 - BACKOFF_CAP_SECONDS - STEP, "gave up during the outage"
    clock.advance(BACKOFF_CAP_SECONDS)
    assert await lipabot.deliver() == 1

    receipt = (await Payment.get(id=payment_id)).receipt
    outcomes = telegram.outcomes(customer.id)
    assert len(outcomes) == 1 and outcomes[0].startswith("Paid ✓") and receipt in outcomes[0]
    assert telegram.texts_to(ADMIN) == []  # nothing given up, nothing to alert about
    FIGURES.drove("telegram faults")
    FIGURES.injected("telegram down for 2 simulated hours")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())


async def test_a_customer_who_blocked_the_bot_gets_the_admins_alerted_once(
    db: TestDatabase,
    launch: Launch,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
) -> None:
    lipabot = await launch()
    payment_id = await paid_but_not_told(lipabot, customer, emu, 22)
    telegram.fake.block_chat(customer.id)
    for _ in range(5):
        await lipabot.deliver()
        clock.advance(BACKOFF_CAP_SECONDS)

    row = await Notification.get(payment_id=payment_id, kind=NotificationKind.PAID)
    assert row.status is NotificationStatus.UNDELIVERABLE and row.attempts == 1
    payment = await Payment.get(id=payment_id)
    [alert] = telegram.texts_to(ADMIN)
    assert alert.startswith(f"⚠ Payment #{payment_id}: the customer could not be told (paid)")
    assert mask_phone(payment.phone) in alert and str(payment.receipt) in alert
    assert payment.phone not in alert
    assert "blocked" in alert
    FIGURES.drove("telegram faults")
    FIGURES.injected("customer blocked the bot")
    FIGURES.delivered({ADMIN: 1}, {ADMIN: len(telegram.texts_to(ADMIN))})


async def test_a_day_of_telegram_errors_gives_up_and_alerts_the_admins(
    db: TestDatabase,
    launch: Launch,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
) -> None:
    lipabot = await launch()
    payment_id = await paid_but_not_told(lipabot, customer, emu, 23)
    telegram.fake.fail_server_error(502, method="editMessageText", times=None)
    telegram.fake.fail_server_error(502, method="sendMessage", times=None)
    for _ in range(int(23 * 3600 / BACKOFF_CAP_SECONDS)):
        assert await lipabot.deliver() == 0
        clock.advance(BACKOFF_CAP_SECONDS)
    row = await Notification.get(payment_id=payment_id, kind=NotificationKind.PAID)
    assert row.status is NotificationStatus.PENDING, "given up before 24 hours"
    clock.advance(3600)
    await lipabot.deliver()
    await row.refresh_from_db()
    assert row.status is NotificationStatus.UNDELIVERABLE
    assert (row.last_error or "").startswith("gave up after")
    telegram.fake.clear_failures()
    assert await lipabot.deliver() == 1  # the admins' alert
    [alert] = telegram.texts_to(ADMIN)
    assert "could not be told" in alert
    assert telegram.outcomes(customer.id) == []
    FIGURES.injected("telegram 502 for 24 simulated hours")
