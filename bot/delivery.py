"""The one place Telegram's send failures become our delivery decisions.

`classify(exc)` says whether a failed send should be retried (and after how long) or given up,
so the notifier (and anyone else sending on their own) treats Telegram errors the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
#: Give up after this many failed attempts (about half an hour of backoff): a message about a
#: payment that arrives hours late is more confusing than none, and /history still shows it.
MAX_ATTEMPTS = 12

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
    """Capped exponential backoff: 2, 4, 8 … seconds, never more than five minutes."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempt - 1, 0))


def classify(exc: TelegramError, *, attempt: int) -> Decision:
    """`attempt` counts this one (1 for the first try)."""
    decision = _classify(exc, attempt)
    if decision.action == "retry" and attempt >= MAX_ATTEMPTS:
        return Decision(
            "undeliverable", 0.0, f"gave up after {attempt} attempts: {decision.reason}"
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
