"""Daraja's clock: timestamps are Africa/Nairobi time (EAT) whatever the host's zone."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

NAIROBI = ZoneInfo("Africa/Nairobi")
TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"


def now_utc() -> datetime:
    return datetime.now(UTC)


def daraja_timestamp(at: datetime | None = None) -> str:
    """`YYYYMMDDHHmmss` in Nairobi time for an aware instant (now by default)."""
    at = at or now_utc()
    if at.tzinfo is None:
        raise ValueError("daraja_timestamp needs an aware datetime")
    return at.astimezone(NAIROBI).strftime(TIMESTAMP_FORMAT)


def parse_daraja_timestamp(value: str | int) -> datetime:
    """A Daraja `YYYYMMDDHHmmss` (string or JSON number) as an aware Nairobi datetime."""
    text = str(value).strip()
    if len(text) != 14 or not (text.isascii() and text.isdigit()):
        raise ValueError(f"not a Daraja timestamp (YYYYMMDDHHmmss): {text!r}")
    # Slicing instead of strptime (several times slower); datetime() refuses impossible dates.
    return datetime(
        int(text[0:4]),
        int(text[4:6]),
        int(text[6:8]),
        int(text[8:10]),
        int(text[10:12]),
        int(text[12:14]),
        tzinfo=NAIROBI,
    )


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    """Password = base64(BusinessShortCode + Passkey + Timestamp)."""
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode("ascii")
