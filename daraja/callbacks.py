"""Turning Daraja's STK callback and query bodies into `StkResult`, or a `CallbackError`.

Real callbacks vary (Daraja 3.0 docs vs a decade of captured traffic): ResultCode is a number or
a string ("SFC_IC0003"), Amount is `1.00` or `1`, the Balance item has no Value, is missing or
is `0`, and the item order is not promised. We accept all of that and reject anything that is
not an STK result, naming the path of the offending field. Nothing is decided from ResultDesc.

Values no M-Pesa callback carries are refused too, because they would be taken at face value
or could not be stored (docs/DARAJA.md §3.4, §5.2): identifiers longer than their formats allow,
receipts that are not 10 upper-case letters and digits, amounts in other digits than ASCII or in
exponent form, and text with NUL characters or unpaired surrogates anywhere in the body.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from daraja.errors import CallbackError
from daraja.http_errors import is_still_processing
from daraja.timestamps import parse_daraja_timestamp
from daraja.types import StkResult

_ROOT = "Body.stkCallback"
_META = f"{_ROOT}.CallbackMetadata"
_READ_ITEMS = frozenset({"Amount", "MpesaReceiptNumber", "TransactionDate", "PhoneNumber"})

#: CheckoutRequestID and MerchantRequestID: the longest format seen is 35 characters (§3.4);
#: 64 leaves room for a new one and is what the payment table holds.
MAX_ID_LENGTH = 64
#: Result codes are numbers or short names ("SFC_IC0003", "BW-JMS-100039"); 32 fits the column.
MAX_RESULT_CODE_LENGTH = 32
_RESULT_CODE = re.compile(r"[A-Za-z0-9_-]+")
#: An M-Pesa receipt: 10 upper-case letters and digits, in all 1,201 seen (§3.4).
RECEIPT = re.compile(r"[A-Z0-9]{10}")
#: Whole shillings, or a decimal with ASCII digits only ("1500", "1.00").
_DECIMAL_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?")
#: Daraja takes at most KES 250,000 in one transaction (§8); nine digits is far above that and
#: still fits a 32-bit integer column, where ten or more would overflow it.
MAX_AMOUNT = 999_999_999
#: TransactionDate years a real callback can carry (M-Pesa began in 2007).
YEARS = range(2000, 2100)


class ExponentNumber(float):
    """A JSON number written with an exponent (`1e3`, `1.0E+3`). Daraja never writes one."""


def parse_json_float(literal: str) -> float:
    """`json.loads(..., parse_float=parse_json_float)` for callback bodies.

    A plain `float`, except that a number written with an exponent comes back as an
    `ExponentNumber`, so the parser can refuse an Amount written that way: once parsed, `1e3`
    and `1000.0` are the same float.
    """
    if "e" in literal or "E" in literal:
        return ExponentNumber(literal)
    return float(literal)


def parse_stk_callback(body: Any) -> StkResult:
    """The result a callback body carries (source="callback", raw=body)."""
    _check_text(body)
    callback = _dict(_dict(_dict(body, "body").get("Body"), "Body").get("stkCallback"), _ROOT)
    code = _result_code(callback.get("ResultCode"), f"{_ROOT}.ResultCode")
    fields: dict[str, Any] = {}
    if code == "0":
        fields = _success_metadata(callback.get("CallbackMetadata"))
    # A failure carrying metadata is ignored rather than trusted: success data only on "0".
    return StkResult(
        merchant_request_id=_id(callback.get("MerchantRequestID"), f"{_ROOT}.MerchantRequestID"),
        checkout_request_id=_id(callback.get("CheckoutRequestID"), f"{_ROOT}.CheckoutRequestID"),
        result_code=code,
        result_desc=_desc(callback.get("ResultDesc"), f"{_ROOT}.ResultDesc"),
        source="callback",
        raw=body,
        **fields,
    )


def parse_stk_query(body: Any) -> StkResult | None:
    """A query answer: the final result, or None while Daraja is still processing the push.

    The pending answer is an error envelope (`500.001.1001 "The transaction is being
    processed"`); a final answer has `ResponseCode "0"` and a string `ResultCode`. The
    ResponseDescription is spelled "successsfully" or "successfully"; we never read it.
    """
    if is_still_processing(body):
        return None
    _check_text(body)
    answer = _dict(body, "body")
    if "errorCode" in answer:
        raise CallbackError(f"errorCode: query answered with an error {answer['errorCode']!r}")
    response_code = _result_code(answer.get("ResponseCode"), "ResponseCode")
    if response_code != "0":
        raise CallbackError(f"ResponseCode: query not accepted ({response_code!r})")
    return StkResult(
        merchant_request_id=_id(answer.get("MerchantRequestID"), "MerchantRequestID"),
        checkout_request_id=_id(answer.get("CheckoutRequestID"), "CheckoutRequestID"),
        result_code=_result_code(answer.get("ResultCode"), "ResultCode"),
        result_desc=_desc(answer.get("ResultDesc"), "ResultDesc"),
        source="query",
        raw=answer,
    )


def _success_metadata(metadata: Any) -> dict[str, Any]:
    items = _dict(metadata, _META).get("Item")
    if not isinstance(items, list):
        raise CallbackError(f"{_META}.Item: expected a list, got {type_name(items)}")
    values: dict[str, Any] = {}
    for index, item in enumerate(items):
        path = f"{_META}.Item[{index}]"
        name = _dict(item, path).get("Name")
        if not isinstance(name, str) or not name:
            raise CallbackError(f"{path}.Name: expected a non-empty string, got {type_name(name)}")
        if "Value" not in item:
            continue
        if name in _READ_ITEMS and name in values and values[name] != item["Value"]:
            # Two different amounts (or receipts) for one payment: trust neither.
            raise CallbackError(f"{path}: {name} appears twice with different values")
        values.setdefault(name, item["Value"])
    for required in ("Amount", "MpesaReceiptNumber"):
        if required not in values:
            raise CallbackError(f"{_META}: success without {required}")
    return {
        "amount": _amount(values["Amount"], f"{_META}.Amount"),
        "receipt": _receipt(values["MpesaReceiptNumber"], f"{_META}.MpesaReceiptNumber"),
        "transaction_date": _date(values.get("TransactionDate"), f"{_META}.TransactionDate"),
        "phone": _phone(values.get("PhoneNumber"), f"{_META}.PhoneNumber"),
        "balance": balance_of(values.get("Balance")),
    }


def _dict(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        what = "missing" if value is None else f"got {type_name(value)}"
        raise CallbackError(f"{path}: expected an object, {what}")
    return value


def unstorable_text_at(value: Any) -> str | None:
    """The path of the first string (key or value) holding a NUL or an unpaired surrogate.

    Neither is text Daraja writes, and neither can be stored: PostgreSQL refuses NUL in text
    and JSON, and an unpaired surrogate (`"\\ud800"` is valid JSON) cannot be encoded to UTF-8.
    """
    if _plain_ascii(value):
        return None
    stack: list[tuple[Any, str]] = [(value, "body")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if not _storable(item):
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and not _storable(key):
                    return f"{path} (a key)"
                stack.append((child, f"{path}.{key}"))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{index}]") for index, child in enumerate(item))
    return None


def _plain_ascii(value: Any) -> bool:
    """The common case, without building paths: every string is ASCII with no NUL."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or not item.isascii():
                return False
        elif isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str) or "\x00" in key or not key.isascii():
                    return False
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_text(body: Any) -> None:
    path = unstorable_text_at(body)
    if path is not None:
        where = path if len(path) <= 80 else f"{path[:80]}…"
        raise CallbackError(f"{where}: text with a NUL character or an unpaired surrogate")


def _id(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CallbackError(f"{path}: expected a non-empty string, got {type_name(value)}")
    text = value.strip()
    if len(text) > MAX_ID_LENGTH:
        raise CallbackError(f"{path}: longer than {MAX_ID_LENGTH} characters ({len(text)})")
    if not (text.isascii() and text.isprintable()) or " " in text:
        raise CallbackError(f"{path}: not ASCII letters, digits and punctuation")
    return text


def _desc(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CallbackError(f"{path}: expected a string, got {type_name(value)}")
    return value


def _result_code(value: Any, path: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CallbackError(f"{path}: expected a number or a string, got {type_name(value)}")
    text = str(value).strip()
    if not text:
        raise CallbackError(f"{path}: empty")
    if len(text) > MAX_RESULT_CODE_LENGTH:
        raise CallbackError(
            f"{path}: longer than {MAX_RESULT_CODE_LENGTH} characters ({len(text)})"
        )
    if not _RESULT_CODE.fullmatch(text):
        raise CallbackError(f"{path}: not a result code: {_show(text)}")
    return text


def _amount(value: Any, path: str) -> int:
    """Whole shillings: 1.00 and 1 are both 1; 10.5 is not a valid M-Pesa amount.

    Daraja writes a plain JSON number (§5.2). A string is read only when it is written the same
    way with ASCII digits: `Decimal` would also read "1e3" or "١٥٠٠" (Arabic-Indic digits) as
    numbers, and nothing M-Pesa sends looks like that.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise CallbackError(f"{path}: expected a number, got {type_name(value)}")
    if isinstance(value, ExponentNumber):
        raise CallbackError(f"{path}: a number in exponent form")
    if isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value.strip()):
        raise CallbackError(f"{path}: not a number written with ASCII digits: {_show(value)}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise CallbackError(f"{path}: not a number: {_show(value)}") from None
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise CallbackError(f"{path}: not a whole number of shillings: {_show(value)}")
    if amount <= 0:
        raise CallbackError(f"{path}: must be positive, got {_show(value)}")
    if amount > MAX_AMOUNT:
        raise CallbackError(f"{path}: more than {MAX_AMOUNT:,} shillings")
    return int(amount)


def _receipt(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CallbackError(f"{path}: expected a non-empty string, got {type_name(value)}")
    receipt = value.strip()
    if not RECEIPT.fullmatch(receipt):
        # Lower case included: receipts are compared as M-Pesa writes them (upper case), and a
        # receipt in another case did not come from M-Pesa as it is.
        raise CallbackError(
            f"{path}: not an M-Pesa receipt (10 upper-case letters and digits): {_show(receipt)}"
        )
    return receipt


def _date(value: Any, path: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CallbackError(f"{path}: expected YYYYMMDDHHmmss, got {type_name(value)}")
    try:
        when = parse_daraja_timestamp(value)
    except ValueError as exc:
        raise CallbackError(f"{path}: {exc}") from None
    if not YEARS.start <= when.year < YEARS.stop:
        # M-Pesa began in 2007. Year 1 in Nairobi is before year 1 in UTC: Python cannot even
        # convert it for the database, and the route answered 503 for it.
        raise CallbackError(f"{path}: year {when.year} is not M-Pesa's")
    return when


def _phone(value: Any, path: str) -> str | None:
    """The payer's MSISDN as a string ("2547…"); real callbacks send a JSON number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CallbackError(f"{path}: expected a number or a string, got {type_name(value)}")
    text = str(value).strip()
    if not text:
        raise CallbackError(f"{path}: empty")
    return text


def balance_of(value: Any) -> Decimal | None:
    """A Balance value, or None: informational only (callbacks leave it out or valueless, C2B
    validation requests leave it blank), never a reason to refuse a body."""
    if value is None or isinstance(value, bool):
        return None
    try:
        balance = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return balance if balance.is_finite() else None


def type_name(value: Any) -> str:
    """What a JSON value is, for an error message."""
    return "nothing" if value is None else type(value).__name__


def _show(value: Any, limit: int = 24) -> str:
    """A value for an error message: its repr, cut so a hostile value cannot flood logs."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(str(value))} characters)"
