"""Masking for log lines: phone numbers, alone or inside Daraja's CheckoutRequestIDs."""

from __future__ import annotations

import re

__all__ = ["mask_checkout_id", "mask_msisdn", "redact"]


def mask_msisdn(phone: str) -> str:
    """`254712345678` → `2547•••••678`: enough to tell numbers apart in a log, no more."""
    text = str(phone)
    if len(text) < 8:
        return "•" * len(text)
    return text[:4] + "•" * (len(text) - 7) + text[-3:]


# Since late 2022 a CheckoutRequestID is `ws_CO_` + DDMMYYYYHHmmssSSS + the payer's number
# (e.g. ws_CO_22112022152650652700000029), so logging it whole would log the phone number.
_CHECKOUT_WITH_PHONE = re.compile(r"(ws_CO_\d{17})(\d{5,})(\d{3})\b")
# A whole word of 12 digits starting 254: `\b254\d{9}\b`. Written with the literal first and the
# word boundary before it as a lookbehind (`(?<!\w254)` after `254` is `\b` before it, `2` being
# a word character) so that `re` can jump from one "254" to the next instead of trying the
# pattern at every position: same matches, several times faster on lines with no number.
_PHONE_IN_TEXT = re.compile(r"(254(?<!\w254)\d)(\d{5})(\d{3})\b")


def mask_checkout_id(checkout_request_id: str) -> str:
    """Mask the phone number inside a CheckoutRequestID; older formats carry none."""
    return redact(checkout_request_id)


def _mask_middle(match: re.Match[str]) -> str:
    return match[1] + "•" * len(match[2]) + match[3]


def redact(text: str) -> str:
    """`text` with phone numbers (alone or inside CheckoutRequestIDs) masked, for logs."""
    # Each pattern starts with its literal: without it in the text, the pattern cannot match.
    if "ws_CO_" in text:
        text = _CHECKOUT_WITH_PHONE.sub(_mask_middle, text)
    if "254" in text:
        text = _PHONE_IN_TEXT.sub(_mask_middle, text)
    return text
