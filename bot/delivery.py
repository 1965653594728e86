"""The one place Telegram's send failures become our delivery decisions.

`classify(exc)` says whether a failed send should be retried (and after how long) or given up,
so the notifier (and anyone else sending on their own) treats Telegram errors the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

BACKOFF_BASE_SECONDS = 2.0
#: Transient failures are retried at least this often once the backoff has grown.
BACKOFF_CAP_SECONDS = 600.0
#: Transient failures (network, 5xx, 429) are retried for this long before a message is given
#: up: a receipt that arrives hours late still tells the customer the truth, where "Check your
#: phone" forever does not. Permanent answers (blocked, chat gone) give up at once.
GIVE_UP_AFTER = timedelta(hours=24)

# Bad requests that will never succeed for this chat: stop, do not retry forever.
_GONE = ("chat not found", "user is deactivated", "peer_id_invalid", "bot was kicked")
# The message already shows exactly this: the delivery has, in effect, happened.
_NOT_MODIFIED = "message is not modified"


@dataclass(frozen=True)
class Decision:
    """What to do after a failed send: `retry` after `delay` seconds, or give up (`gone`)."""

    action: str  # "retry" | "undeliverable" | "done"
    delay: float = 0.0
    reason: str = ""


def backoff(attempt: int) -> float:
    """Capped exponential backoff: 2, 4, 8 … seconds, never more than ten minutes."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempt - 1, 0))


def classify(
    exc: TelegramError,
    *,
    attempt: int,
    age: timedelta = timedelta(0),
    give_up_after: timedelta = GIVE_UP_AFTER,
) -> Decision:
    """`attempt` counts this one (1 for the first try); `age` is how long the message has
    been owed. A transient failure is retried until `give_up_after` has passed."""
    decision = _classify(exc, attempt)
    if decision.action == "retry" and age >= give_up_after:
        hours = age.total_seconds() / 3600
        return Decision(
            "undeliverable",
            0.0,
            f"gave up after {attempt} attempts in {hours:.0f} h: {decision.reason}",
        )
    return decision


def _classify(exc: TelegramError, attempt: int) -> Decision:
    reason = f"{type(exc).__name__}: {exc.message}"[:200]
    if isinstance(exc, RetryAfter):
        return Decision("retry", _seconds(exc), reason)
    if isinstance(exc, Forbidden):
        return Decision("undeliverable", 0.0, reason)
    if isinstance(exc, BadRequest):
        text = exc.message.lower()
        if _NOT_MODIFIED in text:
            return Decision("done", 0.0, reason)
        if any(marker in text for marker in _GONE):
            return Decision("undeliverable", 0.0, reason)
        # Any other 400 is our bug (bad markup, too long…): retrying the same request won't help.
        return Decision("undeliverable", 0.0, reason)
    if isinstance(exc, NetworkError):  # includes TimedOut and 5xx answers
        return Decision("retry", backoff(attempt), reason)
    return Decision("retry", backoff(attempt), reason)


def _seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # a timedelta: bot/__init__.py opts in to PTB_TIMEDELTA
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
