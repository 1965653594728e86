"""Issue 13: the bot subscribes only to the updates it handles, and drops any other that arrives.

An admin's /status written as a Telegram Business message must never be answered (the answer
would land in a customer's chat with the shop's figures); nor edits, channel posts and the like.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.app import ALLOWED_UPDATES
from offline.fake_telegram import FakeTelegram, FakeUser
from tests.support.webhooks import WEBHOOK_SECRET, Service, ServiceFactory

HEADER = "X-Telegram-Bot-Api-Secret-Token"


def test_the_bot_asks_for_messages_and_button_taps_only() -> None:
    assert list(ALLOWED_UPDATES) == ["message", "callback_query"]


async def test_webhook_registration_subscribes_only_to_handled_types(
    make_service: ServiceFactory, fake_telegram: FakeTelegram
) -> None:
    async with make_service(app_kwargs={"register_webhook": True}):
        registered = fake_telegram.calls_to("setWebhook")
    assert registered, "setWebhook was not called"
    assert registered[-1]["allowed_updates"] == ["message", "callback_query"]


async def test_polling_subscribes_only_to_handled_types(
    make_service: ServiceFactory, fake_telegram: FakeTelegram
) -> None:
    kwargs = {"telegram_mode": "polling", "telegram_updates_request": fake_telegram.request()}
    async with make_service(app_kwargs=kwargs):
        for _ in range(250):
            if fake_telegram.calls_to("getUpdates"):
                break
            await asyncio.sleep(0.02)
    polls = fake_telegram.calls_to("getUpdates")
    assert polls and polls[0]["allowed_updates"] == ["message", "callback_query"]


def _as(kind: str, update: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The same message delivered as another update type (business_message, edited_message…)."""
    message = {**update["message"], **extra}
    return {"update_id": update["update_id"], kind: message}


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("business_message", {"business_connection_id": "bc-1"}),
        ("edited_business_message", {"business_connection_id": "bc-1", "edit_date": 1}),
        ("edited_message", {"edit_date": 1}),
    ],
)
async def test_other_update_types_never_reach_the_handlers(
    service: Service, admin_user: FakeUser, kind: str, extra: dict[str, Any]
) -> None:
    telegram = service.telegram
    for text in ("/status", "/recent", "/pay", "500", "hi"):
        update = _as(kind, telegram.text(admin_user, text), **extra)
        response = await service.client.post(
            "/telegram/webhook", json=update, headers={HEADER: WEBHOOK_SECRET}
        )
        assert response.status_code == 200
        assert response.json()["detail"] == "ignored"  # acknowledged, never queued
    application = service.runtime.application
    assert application is not None
    await asyncio.wait_for(application.update_queue.join(), timeout=5)
    assert telegram.calls_to("sendMessage") == []
    # The same words as a plain message are answered: the gate is about the type only.
    await service.client.post(
        "/telegram/webhook",
        json=telegram.text(admin_user, "/status"),
        headers={HEADER: WEBHOOK_SECRET},
    )
    await asyncio.wait_for(application.update_queue.join(), timeout=5)
    assert len(telegram.calls_to("sendMessage")) == 1
