"""Telegram send failures → retry, give up, or count as delivered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.delivery import BACKOFF_CAP_SECONDS, GIVE_UP_AFTER, backoff, classify


def test_flood_control_waits_as_told() -> None:
    decision = classify(RetryAfter(timedelta(seconds=17)), attempt=1)
    assert (decision.action, decision.delay) == ("retry", 17.0)


@pytest.mark.parametrize(
    "exc",
    [
        Forbidden("Forbidden: bot was blocked by the user"),
        BadRequest("Bad Request: chat not found"),
        BadRequest("Bad Request: can't parse entities"),
    ],
)
def test_permanent_failures_are_undeliverable(exc: Exception) -> None:
    assert classify(exc, attempt=1).action == "undeliverable"  # type: ignore[arg-type]


def test_not_modified_means_already_shown() -> None:
    exc = BadRequest("Bad Request: message is not modified: specified new message content")
    assert classify(exc, attempt=3).action == "done"


@pytest.mark.parametrize("exc", [NetworkError("Bad Gateway"), TimedOut()])
def test_network_trouble_backs_off_exponentially_with_a_cap(exc: Exception) -> None:
    delays = [classify(exc, attempt=n).delay for n in (1, 2, 3, 11)]  # type: ignore[arg-type]
    assert delays[:3] == [2.0, 4.0, 8.0]
    assert delays[3] == BACKOFF_CAP_SECONDS
    assert backoff(0) == 2.0


@pytest.mark.parametrize("exc", [NetworkError("Bad Gateway"), RetryAfter(timedelta(seconds=5))])
def test_transient_failures_are_retried_for_a_day_then_given_up(exc: Exception) -> None:
    late = GIVE_UP_AFTER - timedelta(seconds=1)
    assert classify(exc, attempt=200, age=late).action == "retry"  # type: ignore[arg-type]
    final = classify(exc, attempt=201, age=GIVE_UP_AFTER)  # type: ignore[arg-type]
    assert final.action == "undeliverable"
    assert final.reason.startswith("gave up after 201 attempts in 24 h")


def test_the_backoff_never_exceeds_ten_minutes() -> None:
    assert BACKOFF_CAP_SECONDS <= 600
    assert max(backoff(n) for n in range(1, 300)) == BACKOFF_CAP_SECONDS
