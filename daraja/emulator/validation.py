"""Checks the emulator applies to STK push and query bodies, with Daraja's exact error codes.

Each failed check raises `DarajaFault`, which the routes turn into Daraja's error body
`{"requestId", "errorCode", "errorMessage"}` with the matching HTTP status (docs/DARAJA.md §3.5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from daraja.timestamps import parse_daraja_timestamp, stk_password

BAD_REQUEST = "400.002.02"
BAD_PAYLOAD = "400.002.05"
SERVER_FAULT = "500.001.1001"

TRANSACTION_TYPES = frozenset({"CustomerPayBillOnline", "CustomerBuyGoodsOnline"})
MIN_AMOUNT = 1
MAX_AMOUNT = 250_000

_MSISDN_RE = re.compile(r"^254[17]\d{8}$")
_SHORTCODE_RE = re.compile(r"^\d{5,7}$")
_TIMESTAMP_RE = re.compile(r"^\d{14}$")


class DarajaFault(Exception):
    """A synchronous Daraja error: HTTP status, errorCode and errorMessage."""

    def __init__(self, status: int, code: str, message: str, request_id: str | None = None):
        super().__init__(f"{code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id


def invalid(field: str) -> DarajaFault:
    return DarajaFault(400, BAD_REQUEST, f"Bad Request - Invalid {field}")


@dataclass(frozen=True, slots=True)
class PushRequest:
    """A push body that passed every synchronous check."""

    shortcode: str
    timestamp: str
    transaction_type: str
    amount: int
    party_a: str
    party_b: str
    phone: str
    callback_url: str
    account_reference: str
    description: str


def _text(value: Any) -> str | None:
    """Daraja takes numbers or strings for numeric fields; anything else is malformed."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        return str(value).strip()
    return None


def check_credentials(
    body: dict[str, Any],
    *,
    shortcode: str,
    passkey: str,
    now: datetime,
    tolerance: timedelta,
) -> tuple[str, str]:
    """BusinessShortCode, Timestamp and Password (shared by push and query)."""
    code = _text(body.get("BusinessShortCode"))
    if not code or not _SHORTCODE_RE.match(code):
        raise invalid("BusinessShortCode")
    timestamp = _text(body.get("Timestamp"))
    if not timestamp or not _TIMESTAMP_RE.match(timestamp):
        raise invalid("Timestamp")
    try:
        sent_at = parse_daraja_timestamp(timestamp)
    except ValueError:
        raise invalid("Timestamp") from None
    # A UTC timestamp where EAT was meant is three hours off: exactly the bug to catch.
    if abs(now - sent_at) > tolerance:
        raise invalid("Timestamp")
    if code != shortcode:
        raise DarajaFault(500, SERVER_FAULT, "Merchant does not exist")
    if body.get("Password") != stk_password(shortcode, passkey, timestamp):
        raise DarajaFault(500, SERVER_FAULT, "Wrong credentials")
    return code, timestamp


def _amount(value: Any) -> int:
    if isinstance(value, bool):
        raise invalid("Amount")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _text(value)
    if text is None or not text.isdigit():
        raise invalid("Amount")
    amount = int(text)
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise invalid("Amount")
    return amount


def _msisdn(value: Any, field: str) -> str:
    text = _text(value)
    if not text or not _MSISDN_RE.match(text):
        raise invalid(field)
    return text


def _callback_url(value: Any) -> str:
    if not isinstance(value, str) or value != value.strip() or " " in value:
        raise invalid("CallBackURL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("CallBackURL")
    return value


def check_push(
    body: dict[str, Any],
    *,
    shortcode: str,
    passkey: str,
    now: datetime,
    tolerance: timedelta,
) -> PushRequest:
    """Every synchronous check of `processrequest`, in a fixed order; the first failure wins."""
    code, timestamp = check_credentials(
        body, shortcode=shortcode, passkey=passkey, now=now, tolerance=tolerance
    )
    transaction_type = body.get("TransactionType")
    if transaction_type not in TRANSACTION_TYPES:
        raise invalid("TransactionType")
    amount = _amount(body.get("Amount"))
    party_a = _msisdn(body.get("PartyA"), "PartyA")
    party_b = _text(body.get("PartyB"))
    if not party_b or not _SHORTCODE_RE.match(party_b):
        raise invalid("PartyB")
    phone = _msisdn(body.get("PhoneNumber"), "PhoneNumber")
    callback_url = _callback_url(body.get("CallBackURL"))
    reference = body.get("AccountReference")
    # Production accepts references over the documented 12 characters (docs/DARAJA.md §3.1, §9).
    if not isinstance(reference, str) or not reference.strip():
        raise invalid("AccountReference")
    description = body.get("TransactionDesc")
    # Daraja calls TransactionDesc "Remarks" internally.
    if not isinstance(description, str) or not description.strip():
        raise invalid("Remarks")
    return PushRequest(
        shortcode=code,
        timestamp=timestamp,
        transaction_type=transaction_type,
        amount=amount,
        party_a=party_a,
        party_b=party_b,
        phone=phone,
        callback_url=callback_url,
        account_reference=reference,
        description=description,
    )
