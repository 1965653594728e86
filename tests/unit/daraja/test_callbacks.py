"""Callback parsing: every captured variant is read correctly, every malformed class refused
with the path of what is wrong."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from daraja.callbacks import (
    MAX_AMOUNT,
    ExponentNumber,
    parse_json_float,
    parse_stk_callback,
    parse_stk_query,
)
from daraja.errors import CallbackError
from daraja.timestamps import NAIROBI
from tests.support.scripted_daraja import DATA, fixture_bytes, fixture_json

EXPECTED: dict[str, dict[str, Any]] = json.loads((DATA / "expected_callbacks.json").read_text())
VALID = sorted(name for name, e in EXPECTED.items() if e["valid_stk_callback"])
INVALID = sorted(name for name, e in EXPECTED.items() if not e["valid_stk_callback"])
SUCCESS = "callback_success_02.json"  # Balance without Value, Amount 1.00


def success_body() -> dict[str, Any]:
    return copy.deepcopy(fixture_json(SUCCESS))


def items(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]


def test_the_fixture_set_covers_every_variant_class() -> None:
    assert len(VALID) == 42 and INVALID == ["callback_empty_body_01.json"]
    successes = [EXPECTED[n] for n in VALID if EXPECTED[n]["has_CallbackMetadata"]]
    assert {e["Balance"] for e in successes if not isinstance(e["Balance"], int)} == {
        "<absent>",
        "<item missing>",
    }
    assert any(e["Balance"] == 0 for e in successes)
    assert {"1.00", "1"} <= {e["Amount_raw"] for e in successes}
    assert {e["ResultCode_json_type"] for e in EXPECTED.values() if "ResultCode" in e} == {
        "number",
        "string",
    }


@pytest.mark.parametrize("name", VALID)
def test_every_captured_callback_parses_to_what_it_says(name: str) -> None:
    expected = EXPECTED[name]
    # Parse from the raw bytes as the webhook would (trailing whitespace, tabs and all).
    body = json.loads(fixture_bytes(name))

    result = parse_stk_callback(body)

    assert result.source == "callback"
    assert result.raw is body
    assert result.merchant_request_id == expected["MerchantRequestID"]
    assert result.checkout_request_id == expected["CheckoutRequestID"]
    assert result.result_code == str(expected["ResultCode"])
    assert result.result_desc == expected["ResultDesc"]
    if expected["has_CallbackMetadata"]:
        assert result.is_success
        assert result.amount == int(Decimal(expected["Amount_raw"]))
        assert isinstance(result.amount, int)
        assert result.receipt == expected["MpesaReceiptNumber"]
        assert result.phone == str(expected["PhoneNumber"])
        assert result.transaction_date is not None
        assert result.transaction_date.strftime("%Y%m%d%H%M%S") == str(expected["TransactionDate"])
        assert result.transaction_date.utcoffset() == timedelta(hours=3)
        if expected["Balance"] in ("<absent>", "<item missing>"):
            assert result.balance is None
        else:
            assert result.balance == Decimal(expected["Balance"])
    else:
        assert not result.is_success
        assert (result.amount, result.receipt, result.phone) == (None, None, None)
        assert result.transaction_date is None


@pytest.mark.parametrize("name", INVALID)
def test_captured_non_callbacks_are_refused(name: str) -> None:
    with pytest.raises(CallbackError, match="Body"):
        parse_stk_callback(fixture_json(name))


def test_item_order_does_not_matter_and_unknown_items_are_ignored() -> None:
    body = success_body()
    reordered = success_body()
    items(reordered).reverse()
    items(reordered).insert(2, {"Name": "LoyaltyPoints", "Value": {"nested": True}})
    items(reordered).append({"Name": "SomethingNew"})

    assert parse_stk_callback(reordered) == parse_stk_callback(body)


def test_string_result_code_and_string_phone_are_accepted() -> None:
    body = success_body()
    body["Body"]["stkCallback"]["ResultCode"] = "0"
    for item in items(body):
        if item["Name"] == "PhoneNumber":
            item["Value"] = "254700000022"

    result = parse_stk_callback(body)

    assert result.is_success and result.phone == "254700000022"


def test_amount_parsed_as_decimal_by_the_caller_is_accepted() -> None:
    body = json.loads(fixture_bytes("callback_success_11.json"), parse_float=Decimal)
    assert parse_stk_callback(body).amount == 350


def test_numeric_balance_is_kept() -> None:
    body = success_body()
    for item in items(body):
        if item["Name"] == "Balance":
            item["Value"] = 1500.5
    assert parse_stk_callback(body).balance == Decimal("1500.5")


def test_failure_with_metadata_carries_no_success_fields() -> None:
    body = success_body()
    body["Body"]["stkCallback"]["ResultCode"] = 1032

    result = parse_stk_callback(body)

    assert result.result_code == "1032"
    assert result.amount is None and result.receipt is None


def test_result_desc_never_decides() -> None:
    body = success_body()
    body["Body"]["stkCallback"]["ResultDesc"] = "Request cancelled by user"
    assert parse_stk_callback(body).is_success
    failed = fixture_json("callback_1032_01.json")
    failed["Body"]["stkCallback"]["ResultDesc"] = "The service request is processed successfully."
    assert not parse_stk_callback(failed).is_success


def test_identical_duplicate_item_is_tolerated() -> None:
    body = success_body()
    items(body).append({"Name": "Amount", "Value": 1})
    assert parse_stk_callback(body).amount == 1


def _set(path: str, value: Any) -> dict[str, Any]:
    """A copy of the success fixture with `path` (dots; [i] for items) set or deleted."""
    body = success_body()
    target: Any = body
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    key: Any = int(last) if last.isdigit() else last
    if value is _DELETE:
        del target[key]
    else:
        target[key] = value
    return body


_DELETE = object()
CB = "Body.stkCallback"
META = f"{CB}.CallbackMetadata"


def _with_item(name: str, value: Any) -> dict[str, Any]:
    body = success_body()
    for item in items(body):
        if item["Name"] == name:
            if value is _DELETE:
                del item["Value"]
            else:
                item["Value"] = value
    return body


def _without_item(name: str) -> dict[str, Any]:
    body = success_body()
    meta = body["Body"]["stkCallback"]["CallbackMetadata"]
    meta["Item"] = [i for i in meta["Item"] if i["Name"] != name]
    return body


MALFORMED: list[tuple[str, Any, str]] = [
    ("not an object", [], "body"),
    ("a string", "Body", "body"),
    ("null", None, "body"),
    ("empty object", {}, "Body"),
    ("Body not an object", {"Body": []}, "Body"),
    ("no stkCallback", {"Body": {}}, CB),
    ("stkCallback a string", {"Body": {"stkCallback": "x"}}, CB),
    ("no MerchantRequestID", _set(f"{CB}.MerchantRequestID", _DELETE), "MerchantRequestID"),
    ("empty CheckoutRequestID", _set(f"{CB}.CheckoutRequestID", " "), "CheckoutRequestID"),
    ("numeric CheckoutRequestID", _set(f"{CB}.CheckoutRequestID", 5), "CheckoutRequestID"),
    ("no ResultCode", _set(f"{CB}.ResultCode", _DELETE), "ResultCode"),
    ("boolean ResultCode", _set(f"{CB}.ResultCode", False), "ResultCode"),
    ("float ResultCode", _set(f"{CB}.ResultCode", 0.0), "ResultCode"),
    ("empty ResultCode", _set(f"{CB}.ResultCode", ""), "ResultCode"),
    ("ResultDesc a number", _set(f"{CB}.ResultDesc", 0), "ResultDesc"),
    ("success without metadata", _set(f"{CB}.CallbackMetadata", _DELETE), "CallbackMetadata"),
    ("metadata a list", _set(f"{CB}.CallbackMetadata", []), "CallbackMetadata"),
    ("Item not a list", _set(f"{META}.Item", {"Name": "Amount"}), "Item"),
    ("item not an object", _set(f"{META}.Item.0", "Amount"), "Item[0]"),
    ("item without Name", _set(f"{META}.Item.1", {"Value": "NCB9FJNAIT"}), "Item[1].Name"),
    ("success without receipt", _without_item("MpesaReceiptNumber"), "MpesaReceiptNumber"),
    ("receipt without Value", _with_item("MpesaReceiptNumber", _DELETE), "MpesaReceiptNumber"),
    ("success without Amount", _without_item("Amount"), "Amount"),
    ("non-whole Amount", _with_item("Amount", 10.5), "Amount"),
    ("Amount text", _with_item("Amount", "ten"), "Amount"),
    ("zero Amount", _with_item("Amount", 0), "Amount"),
    ("negative Amount", _with_item("Amount", -1), "Amount"),
    ("boolean Amount", _with_item("Amount", True), "Amount"),
    ("Amount an object", _with_item("Amount", {"v": 1}), "Amount"),
    ("numeric receipt", _with_item("MpesaReceiptNumber", 12345), "MpesaReceiptNumber"),
    ("receipt with spaces", _with_item("MpesaReceiptNumber", "NCB 9FJ"), "MpesaReceiptNumber"),
    ("ISO TransactionDate", _with_item("TransactionDate", "2019-03-11"), "TransactionDate"),
    ("short TransactionDate", _with_item("TransactionDate", 2019031112), "TransactionDate"),
    ("month 13 TransactionDate", _with_item("TransactionDate", 20191341122121), "Transaction"),
    ("PhoneNumber a list", _with_item("PhoneNumber", [254700000022]), "PhoneNumber"),
    ("boolean PhoneNumber", _with_item("PhoneNumber", True), "PhoneNumber"),
    # Values no M-Pesa callback carries (docs/DARAJA.md §3.4, §5.2), some longer than the
    # columns that would hold them.
    ("65-character CheckoutRequestID", _set(f"{CB}.CheckoutRequestID", "w" * 65), "64 char"),
    ("65-character MerchantRequestID", _set(f"{CB}.MerchantRequestID", "1" * 65), "64 char"),
    ("CheckoutRequestID with a space", _set(f"{CB}.CheckoutRequestID", "ws_CO 1"), "Checkout"),
    ("non-ASCII CheckoutRequestID", _set(f"{CB}.CheckoutRequestID", "ws_CO_١"), "Checkout"),
    ("33-character ResultCode", _set(f"{CB}.ResultCode", "1" * 33), "32 char"),
    ("41-digit ResultCode", _set(f"{CB}.ResultCode", 10**40), "32 char"),
    ("ResultCode with a space", _set(f"{CB}.ResultCode", "10 32"), "ResultCode"),
    ("lower-case receipt", _with_item("MpesaReceiptNumber", "ncb9fjnait"), "upper-case"),
    ("mixed-case receipt", _with_item("MpesaReceiptNumber", "NCB9fjnAIT"), "upper-case"),
    ("9-character receipt", _with_item("MpesaReceiptNumber", "NCB9FJNAI"), "Receipt"),
    ("33-character receipt", _with_item("MpesaReceiptNumber", "N" * 33), "Receipt"),
    ("Arabic-Indic digits", _with_item("Amount", "١٥٠٠"), "ASCII digits"),
    ("Devanagari digits", _with_item("Amount", "१५००"), "ASCII digits"),
    ("fullwidth digits", _with_item("Amount", "１５００"), "ASCII digits"),
    ("exponent text", _with_item("Amount", "1e3"), "ASCII digits"),
    ("exponent number", _with_item("Amount", ExponentNumber("1e3")), "exponent"),
    ("signed text", _with_item("Amount", "+1500"), "ASCII digits"),
    ("Infinity text", _with_item("Amount", "Infinity"), "ASCII digits"),
    ("ten-digit Amount", _with_item("Amount", MAX_AMOUNT + 1), "more than"),
    ("year-1 TransactionDate", _with_item("TransactionDate", "00010101000000"), "year 1 "),
    ("year-2100 TransactionDate", _with_item("TransactionDate", 21000101000000), "year 2100"),
    ("NUL in ResultDesc", _set(f"{CB}.ResultDesc", "ok\x00"), f"{CB}.ResultDesc"),
    ("lone surrogate", _set(f"{CB}.ResultDesc", "ok\ud800"), f"{CB}.ResultDesc"),
    ("NUL in an unread item", _with_item("Balance", "0\x00"), "Item[2].Value"),
    ("NUL in a key", _set(f"{CB}.Extra\x00", 1), f"{CB} (a key)"),
]


@pytest.mark.parametrize(
    ("body", "path"), [(b, p) for _, b, p in MALFORMED], ids=[i for i, _, _ in MALFORMED]
)
def test_malformed_bodies_are_refused_naming_the_field(body: Any, path: str) -> None:
    with pytest.raises(CallbackError) as caught:
        parse_stk_callback(body)
    assert path in str(caught.value)


def test_conflicting_duplicate_amount_is_refused() -> None:
    body = success_body()
    items(body).append({"Name": "Amount", "Value": 1000})
    with pytest.raises(CallbackError, match="Amount appears twice"):
        parse_stk_callback(body)


def test_transaction_date_is_nairobi_time() -> None:
    result = parse_stk_callback(success_body())
    assert result.transaction_date is not None
    assert result.transaction_date.tzinfo == NAIROBI
    assert result.transaction_date.hour == 12  # 20190311122121 EAT


def test_values_at_the_limits_are_accepted() -> None:
    body = _set(f"{CB}.CheckoutRequestID", "ws_CO_" + "1" * 58)
    body["Body"]["stkCallback"]["MerchantRequestID"] = "f0b7-410a-" + "9" * 54
    body = _with_item_in(body, "Amount", MAX_AMOUNT)
    result = parse_stk_callback(body)
    assert len(result.checkout_request_id) == len(result.merchant_request_id) == 64
    assert result.amount == MAX_AMOUNT
    failure = _set(f"{CB}.ResultCode", "BW-JMS-100039")
    assert parse_stk_callback(failure).result_code == "BW-JMS-100039"


@pytest.mark.parametrize("amount", ["1500", " 1500 ", "1500.00", 1500, 1500.0, Decimal("1500")])
def test_amounts_written_as_daraja_writes_them_are_accepted(amount: Any) -> None:
    assert parse_stk_callback(_with_item("Amount", amount)).amount == 1500


def test_json_numbers_keep_whether_they_had_an_exponent() -> None:
    text = '{"a": 1.00, "b": 1e3, "c": 1.5E-1, "d": 108.00}'
    read = json.loads(text, parse_float=parse_json_float)
    assert read == {"a": 1.0, "b": 1000.0, "c": 0.15, "d": 108.0}
    assert [type(v) for v in read.values()] == [float, ExponentNumber, ExponentNumber, float]


def test_every_captured_callback_parses_with_the_routes_number_reader() -> None:
    for name in VALID:
        body = json.loads(fixture_bytes(name), parse_float=parse_json_float)
        assert parse_stk_callback(body).checkout_request_id.startswith("ws_CO_")


def test_query_answers_with_over_long_values_are_refused() -> None:
    answer = {
        "ResponseCode": "0",
        "ResponseDescription": "The service request has been accepted successsfully",
        "MerchantRequestID": "29115-34620561-1",
        "CheckoutRequestID": "ws_CO_" + "9" * 80,
        "ResultCode": "1032",
        "ResultDesc": "Request cancelled by user",
    }
    with pytest.raises(CallbackError, match="CheckoutRequestID: longer than 64"):
        parse_stk_query(answer)


def _with_item_in(body: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    for item in items(body):
        if item["Name"] == name:
            item["Value"] = value
    return body
