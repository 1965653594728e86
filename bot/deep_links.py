"""Payment deep links: `https://t.me/<bot>?start=pay[-<amount>[-<reference>]]`.

One grammar for both ends: `/start` reads the payload (`parse`), `/link` writes it (`payload`).
Telegram's start parameter allows `A-Za-z0-9_-`, 64 characters in all; `-` separates the parts,
so a reference is letters, digits and `_` only, at most 12 of them (M-Pesa's AccountReference
limit). Plain `pay` lets the customer type the amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "pay"
#: The longest start parameter Telegram accepts.
MAX_PAYLOAD = 64
_PAYLOAD = re.compile(r"pay(?:-([0-9]{1,7})(?:-([A-Za-z0-9_]{1,12}))?)?")
_REFERENCE = re.compile(r"[A-Za-z0-9_]{1,12}")


@dataclass(frozen=True, slots=True)
class PayLink:
    amount: str | None  # digits as written; the payment rules still have to accept them
    reference: str | None


def parse(payload: str) -> PayLink | None:
    """The link's amount and reference, or None for a payload that is not a payment link."""
    match = _PAYLOAD.fullmatch(payload)
    if match is None:
        return None
    return PayLink(amount=match.group(1), reference=match.group(2))


def valid_reference(reference: str) -> bool:
    return _REFERENCE.fullmatch(reference) is not None


def payload(amount: int | None, reference: str | None = None) -> str:
    """The start parameter for this amount and reference; ValueError if `parse` would refuse it."""
    if amount is None and reference is not None:
        raise ValueError("a reference needs an amount")
    parts = [PREFIX]
    if amount is not None:
        parts.append(str(amount))
    if reference is not None:
        parts.append(reference)
    text = "-".join(parts)
    if parse(text) != PayLink(None if amount is None else str(amount), reference):
        raise ValueError(f"not a valid payment link payload: {text!r}")
    assert len(text) <= MAX_PAYLOAD
    return text


def link(bot_username: str, start: str) -> str:
    return f"https://t.me/{bot_username}?start={start}"
