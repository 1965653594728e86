"""The handler stack's own gate (defence in depth behind the webhook route and the
subscription): updates other than messages and button taps never reach a handler."""

from __future__ import annotations

from typing import Any

import pytest

from offline.fake_telegram import FakeUser
from tests.support.bot import BotHarness


def _as(kind: str, update: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"update_id": update["update_id"], kind: {**update["message"], **extra}}


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("business_message", {"business_connection_id": "bc-1"}),
        ("edited_business_message", {"business_connection_id": "bc-1", "edit_date": 1}),
        ("edited_message", {"edit_date": 1}),
    ],
)
async def test_an_admins_status_as_a_business_message_is_not_answered(
    bot: BotHarness, admin_user: FakeUser, customer: FakeUser, kind: str, extra: dict[str, Any]
) -> None:
    await bot.pay_up_to_confirmation(customer)
    sent = len(bot.fake.calls_to("sendMessage"))
    for text in ("/status", "/recent", "/pay", "500", "hi"):
        # Delivered straight to application.process_update: the gate alone must hold.
        await bot.feed(_as(kind, bot.fake.text(admin_user, text), **extra))
    assert len(bot.fake.calls_to("sendMessage")) == sent
    assert bot.fake.chat_messages(admin_user.id) == []
    # The same command as a plain message is answered.
    assert (await bot.say(admin_user, "/status")).startswith("Today")
