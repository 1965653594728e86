"""The notifier's token bucket: bursts up to its size, then one send per 1/rate seconds."""

from __future__ import annotations

import pytest

from bot.notifier import TokenBucket
from tests.support.clock import Clock


def test_a_full_bucket_lets_a_burst_through_then_spaces_sends_at_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(25.0, 3, clock=clock.monotonic)
    assert [bucket.delay() for _ in range(3)] == [0.0, 0.0, 0.0]
    # The 4th and 5th wait one and two intervals of 1/25 s: debts queue up in order.
    assert bucket.delay() == pytest.approx(0.04)
    assert bucket.delay() == pytest.approx(0.08)


def test_tokens_refill_with_time_but_never_beyond_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(10.0, 2, clock=clock.monotonic)
    bucket.delay()
    bucket.delay()
    clock.advance(60.0)  # a long quiet spell refills to 2, not to 600
    assert [bucket.delay() for _ in range(2)] == [0.0, 0.0]
    assert bucket.delay() == pytest.approx(0.1)


def test_nonsense_rates_are_refused() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0.0, 5)
    with pytest.raises(ValueError):
        TokenBucket(10.0, 0)
