"""Typed values that cross the Daraja boundary: push acknowledgements and STK results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal


class Outcome(StrEnum):
    """What a result code means for the payment, whatever Daraja's wording."""

    PAID = "paid"
    CANCELLED = "cancelled"
    FAILED = "failed"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PushAccepted:
    """Daraja's synchronous answer to an accepted STK push (ResponseCode "0")."""

    merchant_request_id: str
    checkout_request_id: str
    response_code: str
    response_description: str
    customer_message: str


@dataclass(frozen=True, slots=True)
class StkResult:
    """A terminal STK result, from a callback or a query (or a C2B confirmation, `payments.c2b`).

    `result_code` is normalised to a string: "0", "1032", "SFC_IC0003". Success metadata
    (amount, receipt, transaction_date, phone, balance) is only present for code "0" callbacks;
    a query never carries it.
    """

    merchant_request_id: str
    checkout_request_id: str
    result_code: str
    result_desc: str
    source: Literal["callback", "query", "c2b"]
    amount: int | None = None
    receipt: str | None = None
    transaction_date: datetime | None = None
    phone: str | None = None
    balance: Decimal | None = None
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def outcome(self) -> Outcome:
        from daraja.result_codes import outcome_for

        return outcome_for(self.result_code)

    @property
    def is_success(self) -> bool:
        return self.result_code == "0"
