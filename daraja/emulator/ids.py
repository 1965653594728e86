"""Identifiers in the formats production Daraja uses today (docs/DARAJA.md §3.4).

MerchantRequestID `f0b7-410a-bdf6-a93f3f87e2b231952143`, CheckoutRequestID
`ws_CO_<DDMMYYYYHHmmssSSS EAT><MSISDN>`, receipts `<year><month><day>` + 7 characters.
"""

from __future__ import annotations

import itertools
import re
import secrets
import string
import uuid
from datetime import datetime

from daraja.timestamps import NAIROBI

MERCHANT_REQUEST_ID_RE = re.compile(r"^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\d+$")
CHECKOUT_REQUEST_ID_RE = re.compile(r"^ws_CO_(\d{2})(\d{2})(\d{4})(\d{6})(\d{3})(254[17]\d{8})$")
RECEIPT_RE = re.compile(r"^[A-Z][A-L][1-9A-V][0-9A-Z]{7}$")

_DAY_CHARS = "123456789ABCDEFGHIJKLMNOPQRSTUV"  # 1..9, then A=10 … V=31
_RECEIPT_TAIL = string.ascii_uppercase + string.digits
# A per-process counter, like the trailing digits real ids carry; random start so runs differ.
_counter = itertools.count(secrets.randbelow(90_000_000) + 10_000_000)


def merchant_request_id() -> str:
    """`xxxx-xxxx-xxxx-xxxxxxxxxxxxNNNN`; also used as the requestId of error bodies."""
    groups = str(uuid.uuid4()).split("-")[1:]
    groups[0] = uuid.uuid4().hex[:4]  # uuid4 fixes the version nibble; real ids do not
    return "-".join(groups) + str(next(_counter))


def checkout_request_id(at: datetime, msisdn: str) -> str:
    """`ws_CO_` + EAT `DDMMYYYYHHmmssSSS` + the prompted MSISDN."""
    local = at.astimezone(NAIROBI)
    return f"ws_CO_{local:%d%m%Y%H%M%S}{local.microsecond // 1000:03d}{msisdn}"


def receipt_number(transaction_date: datetime) -> str:
    """A receipt whose first three characters encode the EAT date (L=2017 … U=2026)."""
    local = transaction_date.astimezone(NAIROBI)
    year = chr(ord("A") + local.year - 2006)
    month = chr(ord("A") + local.month - 1)
    day = _DAY_CHARS[local.day - 1]
    tail = "".join(secrets.choice(_RECEIPT_TAIL) for _ in range(7))
    return f"{year}{month}{day}{tail}"


def receipt_date(receipt: str) -> tuple[int, int, int]:
    """(year, month, day) encoded in a receipt's first three characters."""
    return (
        ord(receipt[0]) - ord("A") + 2006,
        ord(receipt[1]) - ord("A") + 1,
        _DAY_CHARS.index(receipt[2]) + 1,
    )
