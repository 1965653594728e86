"""Turning Daraja's STK callback and query bodies into `StkResult`, or a `CallbackError`.

Real callbacks vary (Daraja 3.0 docs vs a decade of captured traffic): ResultCode is a number or
a string ("SFC_IC0003"), Amount is `1.00` or `1`, the Balance item has no Value, is missing or
is `0`, and the item order is not promised. We accept all of that and reject anything that is
not an STK result, naming the path of the offending field. Nothing is decided from ResultDesc.
"""

from __future__ import annotations

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


def parse_stk_callback(body: Any) -> StkResult:
    """The result a callback body carries (source="callback", raw=body)."""
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
        raise CallbackError(f"{_META}.Item: expected a list, got {_type(items)}")
    values: dict[str, Any] = {}
    for index, item in enumerate(items):
        path = f"{_META}.Item[{index}]"
        name = _dict(item, path).get("Name")
        if not isinstance(name, str) or not name:
            raise CallbackError(f"{path}.Name: expected a non-empty string, got {_type(name)}")
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
        "balance": _balance(values.get("Balance")),
    }


def _dict(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        what = "missing" if value is None else f"got {_type(value)}"
        raise CallbackError(f"{path}: expected an object, {what}")
    return value


def _id(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CallbackError(f"{path}: expected a non-empty string, got {_type(value)}")
    return value.strip()


def _desc(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CallbackError(f"{path}: expected a string, got {_type(value)}")
    return value


def _result_code(value: Any, path: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CallbackError(f"{path}: expected a number or a string, got {_type(value)}")
    text = str(value).strip()
    if not text:
        raise CallbackError(f"{path}: empty")
    return text


def _amount(value: Any, path: str) -> int:
    """Whole shillings: 1.00 and 1 are both 1; 10.5 is not a valid M-Pesa amount."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise CallbackError(f"{path}: expected a number, got {_type(value)}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise CallbackError(f"{path}: not a number: {value!r}") from None
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise CallbackError(f"{path}: not a whole number of shillings: {value!r}")
    if amount <= 0:
        raise CallbackError(f"{path}: must be positive, got {value!r}")
    return int(amount)


def _receipt(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CallbackError(f"{path}: expected a non-empty string, got {_type(value)}")
    receipt = value.strip()
    if not receipt.isalnum() or not receipt.isascii():
        raise CallbackError(f"{path}: not an M-Pesa receipt: {receipt!r}")
    return receipt


def _date(value: Any, path: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CallbackError(f"{path}: expected YYYYMMDDHHmmss, got {_type(value)}")
    try:
        return parse_daraja_timestamp(value)
    except ValueError as exc:
        raise CallbackError(f"{path}: {exc}") from None


def _phone(value: Any, path: str) -> str | None:
    """The payer's MSISDN as a string ("2547…"); real callbacks send a JSON number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CallbackError(f"{path}: expected a number or a string, got {_type(value)}")
    text = str(value).strip()
    if not text:
        raise CallbackError(f"{path}: empty")
    return text


def _balance(value: Any) -> Decimal | None:
    # Informational only, and real callbacks leave it out or valueless; never reject for it.
    if value is None or isinstance(value, bool):
        return None
    try:
        balance = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return balance if balance.is_finite() else None


def _type(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
