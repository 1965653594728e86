"""Fixtures for the bot's integration tests: a started `BotHarness` (tests/support/bot.py) on
a fresh SQLite database, the fake Telegram, and a `FakeDaraja` standing in for Daraja."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from config import Settings
from offline.fake_telegram import FakeTelegram
from tests.support.bot import BotHarness, bot_settings, start_harness, stop_harness
from tests.support.db import TestDatabase
from tests.support.gateway import FakeDaraja, bot_daraja


@pytest.fixture
def gateway() -> FakeDaraja:
    return bot_daraja()


@pytest.fixture
def settings() -> Settings:
    return bot_settings()


@pytest.fixture
async def bot(
    sqlite_db: TestDatabase,
    settings: Settings,
    fake_telegram: FakeTelegram,
    gateway: FakeDaraja,
) -> AsyncIterator[BotHarness]:
    harness = await start_harness(settings, fake_telegram, gateway)
    try:
        yield harness
    finally:
        await stop_harness(harness)
