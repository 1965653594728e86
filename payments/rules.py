"""Payment rules: limits, and reading amounts and phone numbers the way people type them.

Amounts are whole shillings (Daraja takes no cents). `1500.00` is accepted as 1500 because it
names a whole amount; `10.50` is refused rather than rounded, since charging a different sum
than the customer typed is worse than asking again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from daraja.masking import mask_msisdn
from payments.errors import AmountProblem, InvalidAmount, InvalidPhone

if TYPE_CHECKING:
    from config import Settings

PHONE_EXAMPLE = "0712 345 678"


@dataclass(frozen=True, slots=True)
class PaymentRules:
    min_amount: int = 1
    max_amount: int = 250_000
    push_limit_per_hour: int = 5
    reconcile_after_seconds: float = 30.0
    payment_timeout_seconds: float = 180.0

    @classmethod
    def from_settings(cls, settings: Settings) -> PaymentRules:
        return cls(
            min_amount=settings.pay_min_amount,
            max_amount=settings.pay_max_amount,
            push_limit_per_hour=settings.push_limit_per_hour,
            reconcile_after_seconds=settings.reconcile_after_seconds,
            payment_timeout_seconds=settings.payment_timeout_seconds,
        )


# Currency words people put before or after the number: "KES 1500", "Ksh. 1,500", "1500 bob".
_CURRENCY = r"(?:kes|kshs?|shs?|sh|bob)\.?"
_PREFIX = re.compile(rf"^{_CURRENCY}\s*", re.IGNORECASE)
_SUFFIX = re.compile(rf"\s*(?:/-|/=|{_CURRENCY})$", re.IGNORECASE)
# ASCII digits only: int() would also take Arabic-Indic or superscript digits.
_PLAIN = re.compile(r"[0-9]+")
_GROUPED = re.compile(r"[0-9]{1,3}(?:([, ])[0-9]{3})(?:\1[0-9]{3})*")
_DECIMAL = re.compile(r"(?P<whole>[0-9][0-9, ]*)\.(?P<frac>[0-9]+)")


def parse_amount(text: str | int, rules: PaymentRules) -> int:
    """A whole number of shillings within the rules' limits, or `InvalidAmount(reason)`."""
    limits = {"minimum": rules.min_amount, "maximum": rules.max_amount}
    if isinstance(text, bool):
        raise InvalidAmount(AmountProblem.NOT_A_NUMBER, **limits)
    if isinstance(text, int):
        value = text
    else:
        value = _read_number(str(text), rules)
    if value < rules.min_amount:
        raise InvalidAmount(AmountProblem.TOO_SMALL, **limits)
    if value > rules.max_amount:
        raise InvalidAmount(AmountProblem.TOO_LARGE, **limits)
    return value


def _read_number(text: str, rules: PaymentRules) -> int:
    limits = {"minimum": rules.min_amount, "maximum": rules.max_amount}
    body = _SUFFIX.sub("", _PREFIX.sub("", text.strip())).strip()
    negative = body.startswith("-")
    if negative:
        body = body[1:].strip()
    decimal = _DECIMAL.fullmatch(body)
    if decimal:
        if decimal["frac"].strip("0"):
            raise InvalidAmount(AmountProblem.NOT_WHOLE, **limits)
        body = decimal["whole"]
    if _PLAIN.fullmatch(body):
        digits = body
    elif _GROUPED.fullmatch(body):
        digits = body.replace(",", "").replace(" ", "")
    else:
        raise InvalidAmount(AmountProblem.NOT_A_NUMBER, **limits)
    value = int(digits)
    return -value if negative else value


_PHONE_NOISE = re.compile(r"[\s\-().]")
# National significant number of a Kenyan mobile line: 7XX XXX XXX or 10X/11X XXX XXX.
_MOBILE = re.compile(r"(?:7[0-9]|1[01])[0-9]{7}")


def normalize_phone(text: str) -> str:
    """`0712 345 678`, `+254-712-345-678`, `712345678`, ... → `254712345678`; else InvalidPhone."""
    compact = _PHONE_NOISE.sub("", str(text))
    national: str | None = None
    if compact.startswith("+254"):
        national = compact[4:]
    elif compact.startswith("00254"):
        national = compact[5:]
    elif compact.startswith("254") and len(compact) >= 12:
        national = compact[3:]
    elif compact.startswith("0"):
        national = compact[1:]
    elif len(compact) == 9:
        national = compact
    if national is not None and len(national) == 10 and national.startswith("0"):
        # "+254 0712 345 678": people keep the trunk zero after the country code.
        national = national[1:]
    if national is None or not _MOBILE.fullmatch(national):
        raise InvalidPhone(PHONE_EXAMPLE)
    return "254" + national


def normalize_receipt(receipt: str) -> str:
    """An M-Pesa receipt as stored and compared: upper case, as M-Pesa writes it.

    Receipts compare case-insensitively: `tbf34evy55` is the receipt `TBF34EVY55`, so it can
    neither pay a second payment nor count as a second receipt for the same one.
    """
    return receipt.strip().upper()


def mask_phone(phone: str) -> str:
    """`254712345678` → `2547•••••678`: enough to tell numbers apart in a log, no more."""
    return mask_msisdn(phone)
