"""Payment rules: limits, and reading amounts and phone numbers the way people type them.

Amounts are whole shillings (Daraja takes no cents). `1500.00` is accepted as 1500 because it
names a whole amount; `10.50` is refused rather than rounded, since charging a different sum
than the customer typed is worse than asking again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from daraja.masking import mask_msisdn
from payments.errors import AmountProblem, InvalidAmount, InvalidPhone, NotSafaricom
from payments.msisdn import Network, network_of


class RuleSettings(Protocol):
    """What `PaymentRules.from_settings` reads; the app's `config.Settings` has all of it (the
    domain does not import the configuration: `config.logging` masks phones with these rules)."""

    @property
    def pay_min_amount(self) -> int: ...
    @property
    def pay_max_amount(self) -> int: ...
    @property
    def push_limit_per_hour(self) -> int: ...
    @property
    def push_limit_per_phone_per_hour(self) -> int: ...
    @property
    def reconcile_after_seconds(self) -> float: ...
    @property
    def payment_timeout_seconds(self) -> float: ...


PHONE_EXAMPLE = "0712 345 678"


@dataclass(frozen=True, slots=True)
class PaymentRules:
    min_amount: int = 1
    max_amount: int = 250_000
    push_limit_per_hour: int = 5
    reconcile_after_seconds: float = 30.0
    payment_timeout_seconds: float = 180.0
    push_limit_per_phone_per_hour: int = 3

    @classmethod
    def from_settings(cls, settings: RuleSettings) -> PaymentRules:
        return cls(
            min_amount=settings.pay_min_amount,
            max_amount=settings.pay_max_amount,
            push_limit_per_hour=settings.push_limit_per_hour,
            push_limit_per_phone_per_hour=settings.push_limit_per_phone_per_hour,
            reconcile_after_seconds=settings.reconcile_after_seconds,
            payment_timeout_seconds=settings.payment_timeout_seconds,
        )


# Currency words people put before or after the number: "KES 1500", "Ksh. 1,500", "1500 bob".
_CURRENCY = r"(?:kes|kshs?|shs?|sh|bob)\.?"
_PREFIX = re.compile(rf"^{_CURRENCY}\s*", re.IGNORECASE)
_SUFFIX = re.compile(rf"\s*(?:/-|/=|{_CURRENCY})$", re.IGNORECASE)
# ASCII digits only: int() would also take Arabic-Indic or superscript digits.
_PLAIN = re.compile(r"[0-9]+")
# Thousands separators: comma, space, no-break space (U+00A0), thin space (U+2009) and narrow
# no-break space (U+202F), which phones and copied bank texts put between groups of digits.
_SEPARATORS = ", \u00a0\u2009\u202f"
_GROUPED = re.compile(rf"[0-9]{{1,3}}(?:([{_SEPARATORS}])[0-9]{{3}})(?:\1[0-9]{{3}})*")
_DECIMAL = re.compile(rf"(?P<whole>[0-9][0-9{_SEPARATORS}]*)\.(?P<frac>[0-9]+)")
# "1.000" is KES 1 to a programmer and KES 1,000 to many Kenyans: one dot before exactly three
# digits is ambiguous, so the customer is asked. Two or more such dots can only be thousands.
_DOT_THOUSANDS_ONE = re.compile(r"[0-9]{1,3}\.[0-9]{3}")
_DOT_THOUSANDS_MANY = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3}){2,}")


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
    if _DOT_THOUSANDS_ONE.fullmatch(body):
        raise InvalidAmount(AmountProblem.AMBIGUOUS, **limits, thousands=int(body.replace(".", "")))
    if _DOT_THOUSANDS_MANY.fullmatch(body):
        body = body.replace(".", "")
    decimal = _DECIMAL.fullmatch(body)
    if decimal:
        if decimal["frac"].strip("0"):
            raise InvalidAmount(AmountProblem.NOT_WHOLE, **limits)
        body = decimal["whole"]
    if _PLAIN.fullmatch(body):
        digits = body
    elif _GROUPED.fullmatch(body):
        digits = re.sub(f"[{_SEPARATORS}]", "", body)
    else:
        raise InvalidAmount(AmountProblem.NOT_A_NUMBER, **limits)
    value = int(digits)
    return -value if negative else value


_PHONE_NOISE = re.compile(r"[\s\-().]")
# National significant number of a Kenyan mobile line: 7XX XXX XXX or 1XX XXX XXX, in a block
# allocated to a network (payments.msisdn).
_MOBILE = re.compile(r"[17][0-9]{8}")


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
    if national is None or not _MOBILE.fullmatch(national) or network_of(national) is None:
        raise InvalidPhone(PHONE_EXAMPLE)
    return "254" + national


def safaricom_phone(text: str) -> str:
    """`normalize_phone`, and only a Safaricom line: others raise `NotSafaricom` (the reason)."""
    msisdn = normalize_phone(text)
    network = network_of(msisdn)
    if network is not Network.SAFARICOM:
        raise NotSafaricom(msisdn, str(network), PHONE_EXAMPLE)
    return msisdn


def normalize_receipt(receipt: str) -> str:
    """An M-Pesa receipt as stored and compared: upper case, as M-Pesa writes it.

    Receipts compare case-insensitively: `tbf34evy55` is the receipt `TBF34EVY55`, so it can
    neither pay a second payment nor count as a second receipt for the same one.
    """
    return receipt.strip().upper()


def mask_phone(phone: str) -> str:
    """`254712345678` → `2547•••••678`: enough to tell numbers apart in a log, no more."""
    return mask_msisdn(phone)
