"""The bot's words: one catalogue per language and the helpers that format money, dates and reasons.

`t(lang, key, **kw)` is the only way handlers and the notifier produce text. Unknown languages fall
back to English; a key missing from a catalogue is a bug (a test checks both have the same keys).
"""

from __future__ import annotations

import math
from datetime import datetime

from bot.texts import en, sw
from daraja.timestamps import NAIROBI

DEFAULT_LANGUAGE = "en"
CATALOGUES: dict[str, dict[str, str]] = {"en": en.TEXTS, "sw": sw.TEXTS}
MONTHS: dict[str, tuple[str, ...]] = {"en": en.MONTHS, "sw": sw.MONTHS}
LANGUAGES = tuple(CATALOGUES)

# Result codes whose customer text is about the merchant's setup, not the customer's phone.
_PUSH_KEYS = {
    "push:subscriber_locked": "push_subscriber_locked",
    "push:rate_limited": "push_rate_limited",
    "push:invalid_phone": "push_invalid_phone",
    "push:unavailable": "push_unavailable",
}
# Fallback waits (seconds) when the service did not record one: a minute for a locked phone is
# Daraja's advice, 30 s for throttling is ours (docs/DARAJA.md §8).
_PUSH_DEFAULT_WAIT = {"push:subscriber_locked": 60, "push:rate_limited": 30}


def lang_or_default(lang: str | None) -> str:
    return lang if lang in CATALOGUES else DEFAULT_LANGUAGE


def language_from_telegram(language_code: str | None) -> str:
    """Telegram's client language ("sw", "sw-KE") → our catalogue; everything else is English."""
    if language_code and language_code.lower().split("-")[0] == "sw":
        return "sw"
    return DEFAULT_LANGUAGE


def t(lang: str | None, key: str, **kw: object) -> str:
    """The text for `key` in `lang`, with placeholders filled."""
    template = CATALOGUES[lang_or_default(lang)][key]
    return template.format(**kw) if kw else template


def has(lang: str | None, key: str) -> bool:
    return key in CATALOGUES[lang_or_default(lang)]


def money(amount: int) -> str:
    """Whole shillings as customers read them: `KES 1,500`."""
    return f"KES {amount:,}"


def when(at: datetime, lang: str | None = None) -> str:
    """An aware instant in Nairobi time: `15 Feb 2025 14:03` (month names per language)."""
    local = at.astimezone(NAIROBI)
    month = MONTHS[lang_or_default(lang)][local.month - 1]
    return f"{local.day} {month} {local.year} {local:%H:%M}"


def wait(seconds: float, lang: str | None) -> str:
    """A wait in words, rounded up: under two minutes in seconds, else in minutes."""
    seconds = max(1, math.ceil(seconds))
    if seconds == 1:
        return t(lang, "wait_second")
    if seconds < 120:
        return t(lang, "wait_seconds", n=seconds)
    return t(lang, "wait_minutes", n=math.ceil(seconds / 60))


def failure_reason(lang: str | None, code: str | None, *, merchant: str) -> str:
    """Plain words for an STK result code: its own text, else the text for its outcome."""
    code = (code or "").strip()
    key = f"fail_{code}"
    if code and has(lang, key):
        return t(lang, key, merchant=merchant)
    return t(lang, f"fail_outcome_{_outcome(code)}", merchant=merchant)


def push_failure_reason(
    lang: str | None, code: str | None, *, merchant: str, retry_after: float | None = None
) -> str:
    """Plain words for a push that never reached the phone (`push:…` codes from the service)."""
    key = _PUSH_KEYS.get(code or "", "push_generic")
    seconds = retry_after if retry_after else _PUSH_DEFAULT_WAIT.get(code or "", 60)
    return t(lang, key, merchant=merchant, wait=wait(seconds, lang))


def is_expiry_code(code: str | None) -> bool:
    """Daraja's own "expired/timed out" result codes (1037, 1019, 1036, 2026, …)."""
    code = (code or "").strip()
    return bool(code) and _outcome(code) == "expired"


def _outcome(code: str) -> str:
    if not code:
        return "unknown"
    # Imported here: daraja.result_codes is the one code → outcome table (ARCHITECTURE.md).
    from daraja.result_codes import outcome_for

    outcome = str(outcome_for(code))
    # A success code never reaches a failure text; if it does, say nothing more than "unknown".
    return outcome if outcome in {"cancelled", "expired", "failed"} else "unknown"
