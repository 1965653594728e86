"""The limiter's pieces: which calls count, and the token bucket behind each pace."""

from __future__ import annotations

import pytest

from bot.limiter import Bucket, is_limited
from tests.support.clock import Clock


@pytest.mark.parametrize(
    ("endpoint", "limited"),
    [
        ("sendMessage", True),
        ("sendPhoto", True),
        ("sendDocument", True),
        ("editMessageText", True),
        ("editMessageReplyMarkup", True),
        ("copyMessage", True),
        ("forwardMessage", True),
        ("sendChatAction", False),
        ("answerCallbackQuery", False),
        ("setMyCommands", False),
        ("getMe", False),
    ],
)
def test_only_calls_that_put_a_message_in_a_chat_are_paced(endpoint: str, limited: bool) -> None:
    assert is_limited(endpoint) is limited


def test_a_full_bucket_lets_a_burst_through_then_one_per_interval() -> None:
    clock = Clock()
    bucket = Bucket(25.0, 3, clock.monotonic())
    for _ in range(3):
        assert bucket.wait(clock.monotonic()) == 0.0
        bucket.take(clock.monotonic())
    assert bucket.wait(clock.monotonic()) == pytest.approx(0.04)
    clock.advance(0.04)
    assert bucket.wait(clock.monotonic()) == pytest.approx(0.0, abs=1e-6)


def test_tokens_refill_with_time_but_never_beyond_the_burst() -> None:
    clock = Clock()
    bucket = Bucket(10.0, 2, clock.monotonic())
    bucket.take(clock.monotonic())
    bucket.take(clock.monotonic())
    clock.advance(60.0)  # a long quiet spell refills to 2, not to 600
    assert bucket.idle(clock.monotonic())
    bucket.take(clock.monotonic())
    bucket.take(clock.monotonic())
    assert bucket.wait(clock.monotonic()) == pytest.approx(0.1)


def test_nonsense_rates_are_refused() -> None:
    with pytest.raises(ValueError):
        Bucket(0.0, 5, 0.0)
    with pytest.raises(ValueError):
        Bucket(10.0, 0, 0.0)
