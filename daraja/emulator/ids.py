"""Identifiers in the formats production Daraja uses today (docs/DARAJA.md §3.4).

MerchantRequestID `f0b7-410a-bdf6-a93f3f87e2b231952143`, CheckoutRequestID
`ws_CO_<DDMMYYYYHHmmssSSS EAT><MSISDN>`, receipts `<year><month><day>` + 7 characters.
"""

from __future__ import annotations

import itertools
import secrets
import string
import uuid
from datetime import datetime

from daraja.timestamps import NAIROBI

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
