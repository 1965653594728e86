"""The process dies at the worst moments; a fresh process on the same database finishes the job.

These tests start the real service (`webhooks.app.create_app` with its lifespan, the in-process
Daraja emulator, workers) on one SQLite file, stop it, and start a brand-new one on the same file:
nothing survives but the database, exactly as after a crash or a deploy.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from starlette.applications import Starlette
from telegram import Update

from config import Settings
from daraja.emulator import Emulator
from offline.fake_telegram import FakeTelegram, FakeUser
from payments.models import Notification, NotificationStatus, Payment
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.figures import FIGURES
from tests.support.harness import Instance, TelegramSeam, local_phone, phone_for
from tests.support.settings import make_settings
from webhooks.app import create_app
from webhooks.wiring import Runtime

S = PaymentStatus


@pytest.fixture
def database_file(_sqlite_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "survives.sqlite3"
    shutil.copyfile(_sqlite_template, path)
    return path


@pytest.fixture
def restart_settings(database_file: Path) -> Settings:
    return make_settings(database_url=f"sqlite://{database_file}")


@asynccontextmanager
async def running(
    settings: Settings, telegram: TelegramSeam, *, workers: bool
) -> AsyncIterator[Runtime]:
    """One process lifetime: the real app with its lifespan (database, emulator, PTB, workers)."""
    app: Starlette = create_app(
        settings,
        telegram_request=telegram.request(),
        run_workers=workers,
        reconcile_interval=60.0,
    )
    async with app.router.lifespan_context(app):
        yield app.state.runtime


async def say(runtime: Runtime, update: dict) -> None:  # type: ignore[type-arg]
    assert runtime.application is not None
    await runtime.application.process_update(Update.de_json(update, runtime.application.bot))


async def callbacks_done(runtime: Runtime) -> None:
    assert runtime.emulator_app is not None
    async with asyncio.timeout(5):
        await runtime.emulator_app.state.emulator.drain()


async def wait_for_outcome(telegram: TelegramSeam, chat_id: int) -> None:
    async with asyncio.timeout(5):
        await telegram.fake.wait_until(lambda: bool(telegram.outcomes(chat_id)))


async def test_killed_between_the_state_change_and_the_message(
    restart_settings: Settings,
    fake_telegram: FakeTelegram,
    customer: FakeUser,
) -> None:
    telegram = TelegramSeam(fake_telegram)
    # First life: the notifier never runs (as if the process died right after the commit).
    async with running(restart_settings, telegram, workers=False) as first:
        for text in ("/pay", "1200", local_phone(phone_for(20))):
            await say(first, fake_telegram.text(customer, text))
        (draft,) = await Payment.filter(user_id=customer.id)
        await say(first, fake_telegram.press(customer, f"pay:{draft.id}"))
        await callbacks_done(first)
        paid = await Payment.get(id=draft.id)
        assert paid.status is S.PAID
        owed = await Notification.get(payment_id=draft.id)
        assert owed.status is NotificationStatus.PENDING
    assert telegram.outcomes(customer.id) == []

    # Second life: a fresh process on the same database tells the customer, once.
    async with running(restart_settings, telegram, workers=True) as second:
        await wait_for_outcome(telegram, customer.id)
        assert await second.notifier.deliver_due() == 0
        sent = await Notification.get(payment_id=draft.id)
        assert sent.status is NotificationStatus.SENT
    outcomes = telegram.outcomes(customer.id)
    assert len(outcomes) == 1 and paid.receipt and paid.receipt in outcomes[0]
    FIGURES.drove("restarts")
    FIGURES.injected("process killed after commit")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())


async def test_conversation_half_way_through_survives_a_restart(
    restart_settings: Settings,
    fake_telegram: FakeTelegram,
    customer: FakeUser,
) -> None:
    telegram = TelegramSeam(fake_telegram)
    async with running(restart_settings, telegram, workers=False) as first:
        await say(first, fake_telegram.text(customer, "/pay"))
        await say(first, fake_telegram.text(customer, "2500"))
        assert "KES 2,500" in fake_telegram.texts(customer.id)[-1]

    async with running(restart_settings, telegram, workers=True) as second:
        # The new process remembers the amount: the phone number goes straight to confirmation.
        await say(second, fake_telegram.text(customer, local_phone(phone_for(21))))
        confirmation = fake_telegram.last(customer.id)
        assert "KES 2,500" in confirmation.text
        buttons = [b["callback_data"] for b in fake_telegram.buttons(customer.id)]
        assert buttons[0].startswith("pay:")
        (draft,) = await Payment.filter(user_id=customer.id)
        assert draft.amount == 2500 and draft.status is S.CREATED
        await say(second, fake_telegram.press(customer, f"pay:{draft.id}"))
        await callbacks_done(second)
        await wait_for_outcome(telegram, customer.id)
        assert (await Payment.get(id=draft.id)).status is S.PAID
    assert len(telegram.outcomes(customer.id)) == 1
    FIGURES.drove("restarts")
    FIGURES.injected("restart mid-conversation")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())


async def test_instance_dies_holding_the_outbox_lease(
    lipabot: Instance,
    customer: FakeUser,
    emu: Emulator,
    clock: Clock,
    telegram: TelegramSeam,
) -> None:
    """A crashed instance claimed the message and never sent it: it goes out when the lease ends."""
    draft = await lipabot.start_payment(customer, "300", local_phone(phone_for(22)))
    await lipabot.confirm(customer, draft.id)
    async with asyncio.timeout(5):
        await emu.drain()
    assert (await lipabot.service.get(draft.id)).status is S.PAID
    crashed = await lipabot.outbox.claim(owner="crashed-instance", lease_seconds=30)
    assert [row.payment_id for row in crashed] == [draft.id]

    assert await lipabot.deliver() == 0, "another instance's live lease must be respected"
    clock.advance(31)
    assert await lipabot.deliver() == 1
    assert len(telegram.outcomes(customer.id)) == 1
    FIGURES.drove("restarts")
    FIGURES.injected("process killed holding a lease")
    FIGURES.delivered({customer.id: 1}, telegram.outcome_counts())
