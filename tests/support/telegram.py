"""Fixtures: the fake Telegram Bot API (`offline.fake_telegram`) and users who talk to the bot.

Names are stable, other suites reuse them:
- `fake_telegram`: a `FakeTelegram` for the test bot token (in-process, via ASGITransport);
- `customer`, `sw_customer`, `other_customer`, `admin_user`: `FakeUser`s (admin id = 1000, the
  `make_settings` default ADMIN_IDS);
- `feed(application, update_dict)`: run one update through the application's real handler stack.
"""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from offline.fake_telegram import FakeTelegram, FakeUser
from tests.support.settings import TEST_BOT_TOKEN


@pytest.fixture
def fake_telegram() -> FakeTelegram:
    return FakeTelegram(TEST_BOT_TOKEN)


@pytest.fixture
def customer() -> FakeUser:
    return FakeUser(id=4242, first_name="Wanjiku", language_code="en")


@pytest.fixture
def sw_customer() -> FakeUser:
    return FakeUser(id=4343, first_name="Otieno", language_code="sw")


@pytest.fixture
def other_customer() -> FakeUser:
    return FakeUser(id=5151, first_name="Akinyi", language_code="en")


@pytest.fixture
def admin_user() -> FakeUser:
    return FakeUser(id=1000, first_name="Mama Duka", language_code="en")


async def feed(application: Application[Any, Any, Any, Any, Any, Any], update: dict) -> None:  # type: ignore[type-arg]
    """Process one update (a dict from FakeTelegram's builders) like a webhook delivery would."""
    await application.process_update(Update.de_json(update, application.bot))
