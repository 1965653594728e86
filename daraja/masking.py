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
_PHONE_IN_TEXT = re.compile(r"\b(254\d)(\d{5})(\d{3})\b")


def mask_checkout_id(checkout_request_id: str) -> str:
    """Mask the phone number inside a CheckoutRequestID; older formats carry none."""
    return redact(checkout_request_id)


def redact(text: str) -> str:
    """`text` with phone numbers (alone or inside CheckoutRequestIDs) masked, for logs."""
    text = _CHECKOUT_WITH_PHONE.sub(lambda m: m[1] + "•" * len(m[2]) + m[3], text)
    return _PHONE_IN_TEXT.sub(lambda m: m[1] + "•" * len(m[2]) + m[3], text)
