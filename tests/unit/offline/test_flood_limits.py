"""The fake Telegram's enforcing mode refuses what Telegram refuses, with retry_after."""

from __future__ import annotations

from offline.fake_telegram import FloodLimits, counts_as_message
from tests.support.clock import Clock


def test_one_chat_gets_a_burst_of_three_then_one_a_second() -> None:
    clock = Clock()
    limits = FloodLimits(clock=clock.monotonic)
    assert [limits.refuse(42) for _ in range(3)] == [None, None, None]
    assert limits.refuse(42) == 1  # retry after 1 s
    clock.advance(1.0)
    assert limits.refuse(42) is None
    assert limits.refuse(42) == 1
    assert limits.refuse(43) is None  # another chat has its own second


def test_the_bot_gets_30_a_second_overall() -> None:
    clock = Clock()
    limits = FloodLimits(clock=clock.monotonic)
    assert all(limits.refuse(chat) is None for chat in range(30))
    assert limits.refuse(30) == 1
    # The refused message did not use up its chat's burst.
    clock.advance(0.11)  # three tokens back for the bot (30/s)
    assert [limits.refuse(30) for _ in range(3)] == [None, None, None]


def test_only_messages_count() -> None:
    assert counts_as_message("sendMessage")
    assert counts_as_message("editMessageText")
    assert not counts_as_message("answerCallbackQuery")
    assert not counts_as_message("sendChatAction")
