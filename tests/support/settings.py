"""Settings built directly for tests: no environment, no `.env`."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from config import Settings

# Shaped like a real token (`check` refuses others): digits, a colon, 35+ characters.
TEST_BOT_TOKEN = "123456:TEST-bot-token-never-logged-0123456789"
TEST_CALLBACK_TOKEN = "cb-token-3f9a1c7e5b2d4a6f8e0c1b3d5f7a9c2e"


def make_settings(**overrides: object) -> Settings:
    base: dict[str, object] = {
        "telegram_bot_token": SecretStr(TEST_BOT_TOKEN),
        "telegram_api_url": "https://telegram.test/bot",
        "telegram_webhook_secret": SecretStr("tg-webhook-secret"),
        "admin_ids": [1000],
        "merchant_name": "Duka la Mama",
        "mpesa_callback_token": SecretStr(TEST_CALLBACK_TOKEN),
        "public_url": "https://lipabot.test",
        "database_url": "sqlite://:memory:",
        "emulator_callback_delay_seconds": 0.0,
        # Tests that are not about Telegram's pace do not wait a second per message in a chat;
        # the ones that are set it (tests/integration/bot/test_limits.py).
        "telegram_chat_rate": 0.0,
    }
    base.update(overrides)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


@pytest.fixture
def settings() -> Settings:
    return make_settings()
