"""Daraja C2B as a library: confirmation and validation bodies, the answers to them, the MSISDN.

A C2B body (docs/DARAJA.md §11) is a flat JSON object of strings: `TransID` (the M-Pesa
receipt), `TransTime` (`YYYYMMDDHHmmss`), `TransAmount` (`"500.00"`, `"10"`), `BusinessShortCode`
(5 to 7 digits; live PayBills have 7), `BillRefNumber` (the account number the payer typed, or
the STK push's AccountReference), `MSISDN` and `FirstName` (MiddleName/LastName are absent since
mid-2022). The MSISDN comes in one of four forms, by era and API version: the plain number
(before mid-2022), masked (`2547 ***** 797`, v2), a SHA-256 hex digest of the 12-digit number
(v1), or empty (a transfer from another organisation). `C2BPayment.phone_match` compares it with
a number we already hold, and nothing here ever keeps a full number the body brought.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from daraja.callbacks import balance_of, type_name
from daraja.errors import CallbackError
from daraja.timestamps import parse_daraja_timestamp

#: Daraja's acknowledgement of a confirmation: "ResultCode Always 0", "ResultDesc Usually
#: 'Success'" (docs/DARAJA.md §11.4).
CONFIRMATION_ACK: dict[str, Any] = {"ResultCode": 0, "ResultDesc": "Success"}


#: Words Daraja refuses anywhere in a callback URL, in any case (docs/DARAJA.md §7, §11.2).
REFUSED_URL_WORDS = ("m-pesa", "mpesa", "safaricom", "exec", "exe", "cmd", "sql", "query")


class MsisdnForm(StrEnum):
    PLAIN = "plain"  # 2547XXXXXXXX: captures before mid-2022
    MASKED = "masked"  # "2547 ***** 797", "25470****149": C2B v2
    HASHED = "hashed"  # sha256 hex of "2547XXXXXXXX": C2B v1 since 2024
    EMPTY = "empty"  # "": Organization To Organization Transfer


class PhoneMatch(StrEnum):
    SAME = "same"  # the body's number is (or may well be) this phone
    DIFFERENT = "different"  # it certainly is not
    UNKNOWN = "unknown"  # the body carries no number


class Rejection(StrEnum):
    """Validation's rejection codes (docs/DARAJA.md §11.3), value = ResultCode."""

    INVALID_MSISDN = "C2B00011"
    INVALID_ACCOUNT = "C2B00012"
    INVALID_AMOUNT = "C2B00013"
    INVALID_KYC = "C2B00014"
    INVALID_SHORTCODE = "C2B00015"
    OTHER = "C2B00016"


REJECTION_DESCRIPTIONS: dict[Rejection, str] = {
    Rejection.INVALID_MSISDN: "Invalid MSISDN",
    Rejection.INVALID_ACCOUNT: "Invalid Account Number",
    Rejection.INVALID_AMOUNT: "Invalid Amount",
    Rejection.INVALID_KYC: "Invalid KYC Details",
    Rejection.INVALID_SHORTCODE: "Invalid Shortcode",
    Rejection.OTHER: "Other Error",
}


def validation_response(rejection: Rejection | None = None) -> dict[str, Any]:
    """The body that accepts (None) or rejects a validation request, as the docs write it."""
    if rejection is None:
        return {"ResultCode": "0", "ResultDesc": "Accepted"}
    return {"ResultCode": rejection.value, "ResultDesc": "Rejected"}


_PLAIN = re.compile(r"^254[17]\d{8}$")
_HASH = re.compile(r"^[0-9a-fA-F]{64}$")
# Digits, then a run of mask characters (with spaces around), then digits: "2547 ***** 797",
# "25470****149", "2547*****005", "+2547XXXXX654".
_MASKED = re.compile(r"^\+?(?P<head>\d{3,6})\s*[*Xx•]{3,9}\s*(?P<tail>\d{2,4})$")
_SHORTCODE = re.compile(r"^\d{5,7}$")
_REQUIRED = ("TransID", "TransTime", "TransAmount", "BusinessShortCode")


def msisdn_hash(phone: str) -> str:
    """What a C2B v1 body carries for `phone` (`2547XXXXXXXX`): lowercase hex SHA-256."""
    return hashlib.sha256(phone.encode("ascii")).hexdigest()


def mask_for_display(phone: str) -> str:
    """`254712345678` → `2547 ***** 678`, Daraja v2's own masking."""
    return f"{phone[:4]} ***** {phone[-3:]}"


@dataclass(frozen=True, slots=True)
class Msisdn:
    """The payer's number as the body gave it, without keeping a full number.

    `masked` is what may be shown (Daraja's mask, or ours of a plain number); `digest` the
    SHA-256 hex of the full number when the body told us it (hashed, or plain then hashed).
    """

    form: MsisdnForm
    masked: str = ""
    digest: str | None = None
    head: str = ""
    tail: str = ""

    def match(self, phone: str | None) -> PhoneMatch:
        """Whether this is `phone` (`2547XXXXXXXX`); a mask says SAME when it fits."""
        if self.form is MsisdnForm.EMPTY or not phone:
            return PhoneMatch.UNKNOWN
        if self.digest is not None:
            return PhoneMatch.SAME if msisdn_hash(phone) == self.digest else PhoneMatch.DIFFERENT
        fits = phone.startswith(self.head) and phone.endswith(self.tail)
        return PhoneMatch.SAME if fits else PhoneMatch.DIFFERENT


def read_msisdn(value: Any, path: str = "MSISDN") -> Msisdn:
    """One of the four forms, or `CallbackError` naming what is wrong."""
    if value is None:
        return Msisdn(MsisdnForm.EMPTY)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CallbackError(f"{path}: expected a string, got {type_name(value)}")
    text = str(value).strip()
    if not text:
        return Msisdn(MsisdnForm.EMPTY)
    if _PLAIN.match(text):
        return Msisdn(
            MsisdnForm.PLAIN,
            masked=mask_for_display(text),
            digest=msisdn_hash(text),
            head=text[:4],
            tail=text[-3:],
        )
    if _HASH.match(text):
        return Msisdn(MsisdnForm.HASHED, masked="", digest=text.lower())
    masked = _MASKED.match(text)
    if masked is not None:
        return Msisdn(MsisdnForm.MASKED, masked=text, head=masked["head"], tail=masked["tail"])
    raise CallbackError(f"{path}: not a phone number, a masked one or a SHA-256 digest")


@dataclass(frozen=True, slots=True)
class C2BPayment:
    """A confirmation (money moved) or validation (money about to move) body, read."""

    trans_id: str
    trans_time: datetime
    amount: int
    shortcode: str
    bill_ref: str
    msisdn: Msisdn
    transaction_type: str = ""
    invoice_number: str = ""
    third_party_trans_id: str = ""
    org_balance: Decimal | None = None
    first_name: str = ""
    #: The body as received, with a plain MSISDN replaced by its mask (`safe_raw`).
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def phone_match(self, phone: str | None) -> PhoneMatch:
        return self.msisdn.match(phone)


def parse_c2b(body: Any) -> C2BPayment:
    """A C2B confirmation or validation body (they share one shape), or `CallbackError`."""
    if not isinstance(body, dict):
        raise CallbackError(f"body: expected an object, got {type_name(body)}")
    if "Body" in body and "TransID" not in body:
        raise CallbackError("body: an STK callback, not a C2B body")
    for name in _REQUIRED:
        if name not in body or body[name] is None:
            raise CallbackError(f"{name}: missing")
    msisdn = read_msisdn(body.get("MSISDN"))
    return C2BPayment(
        trans_id=_trans_id(body["TransID"]),
        trans_time=_time(body["TransTime"]),
        amount=_amount(body["TransAmount"]),
        shortcode=_shortcode(body["BusinessShortCode"]),
        bill_ref=_text(body.get("BillRefNumber"), "BillRefNumber"),
        msisdn=msisdn,
        transaction_type=_text(body.get("TransactionType"), "TransactionType"),
        invoice_number=_text(body.get("InvoiceNumber"), "InvoiceNumber"),
        third_party_trans_id=_text(body.get("ThirdPartyTransID"), "ThirdPartyTransID"),
        org_balance=balance_of(body.get("OrgAccountBalance")),
        first_name=_text(body.get("FirstName"), "FirstName"),
        raw=safe_raw(body, msisdn),
    )


def safe_raw(body: dict[str, Any], msisdn: Msisdn) -> dict[str, Any]:
    """The body to keep: a plain MSISDN (pre-2022 traffic) replaced by its mask and digest,
    and the other names than FirstName dropped (Safaricom stopped sending them for privacy)."""
    kept = {k: v for k, v in body.items() if k not in ("MiddleName", "LastName")}
    if msisdn.form is MsisdnForm.PLAIN:
        kept["MSISDN"] = msisdn.masked
        kept["MSISDN_sha256"] = msisdn.digest
    return kept


def normalise_account(text: str) -> str:
    """An account number as a payer may type it: case, spaces and dashes do not count."""
    return re.sub(r"[\s\-_.]", "", text).upper()


def _trans_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CallbackError(f"TransID: expected a non-empty string, got {type_name(value)}")
    text = value.strip()
    if not (text.isascii() and text.isalnum()) or len(text) > 20:
        raise CallbackError(f"TransID: not an M-Pesa receipt: {text[:24]!r}")
    return text.upper()


def _time(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CallbackError(f"TransTime: expected YYYYMMDDHHmmss, got {type_name(value)}")
    try:
        return parse_daraja_timestamp(value)
    except ValueError as exc:
        raise CallbackError(f"TransTime: {exc}") from None


def _amount(value: Any) -> int:
    """`"500.00"`, `"10"` (and a JSON number) → whole positive shillings."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CallbackError(f"TransAmount: expected a number, got {type_name(value)}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise CallbackError(f"TransAmount: not a number: {str(value)[:24]!r}") from None
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise CallbackError(f"TransAmount: not a whole number of shillings: {value!r}")
    if amount <= 0:
        raise CallbackError(f"TransAmount: must be positive, got {value!r}")
    return int(amount)


def _shortcode(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CallbackError(f"BusinessShortCode: expected digits, got {type_name(value)}")
    text = str(value).strip()
    if not _SHORTCODE.match(text):
        raise CallbackError(f"BusinessShortCode: expected 5 to 7 digits, got {text[:12]!r}")
    return text


def _text(value: Any, path: str) -> str:
    # `null` appears where a Laravel app logged the body (its middleware turns "" into null).
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CallbackError(f"{path}: expected a string, got {type_name(value)}")
    return str(value).strip()
