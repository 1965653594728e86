"""C2B bodies: every corpus body parses or is refused with a reason; MSISDN forms; answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from daraja.c2b import (
    CONFIRMATION_ACK,
    MsisdnForm,
    PhoneMatch,
    Rejection,
    msisdn_hash,
    normalise_account,
    parse_c2b,
    read_msisdn,
    validation_response,
)
from daraja.errors import CallbackError
from daraja.timestamps import NAIROBI

CORPUS = Path(__file__).resolve().parents[2] / "data" / "c2b"
CALLBACKS = sorted(
    p.name
    for p in CORPUS.glob("c2b_*.json")
    if (p.name.startswith(("c2b_confirmation_", "c2b_validation_")) and "_response_" not in p.name)
)
OTHERS = sorted(p.name for p in CORPUS.glob("*.json") if p.name not in CALLBACKS)


def _load(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((CORPUS / name).read_text())
    return body


def test_the_corpus_is_all_here() -> None:
    assert len(CALLBACKS) == 18
    assert len(CALLBACKS) + len(OTHERS) == 35


@pytest.mark.parametrize("name", CALLBACKS)
def test_every_captured_callback_body_parses(name: str) -> None:
    body = _load(name)
    parsed = parse_c2b(body)
    assert parsed.trans_id == body["TransID"]
    assert parsed.amount == int(float(body["TransAmount"]))
    assert parsed.shortcode == body["BusinessShortCode"]
    assert parsed.bill_ref == (body["BillRefNumber"] or "")
    assert parsed.trans_time.tzinfo is NAIROBI
    assert parsed.trans_time.strftime("%Y%m%d%H%M%S") == body["TransTime"]
    # Never a full phone number in what we keep.
    assert parsed.raw is not None
    assert not any(
        isinstance(v, str) and v.startswith("2547") and v.isdigit() for v in parsed.raw.values()
    )
    assert "LastName" not in parsed.raw


@pytest.mark.parametrize("name", OTHERS)
def test_every_other_corpus_body_is_refused_with_a_reason(name: str) -> None:
    with pytest.raises(CallbackError, match=r"^(TransID|TransTime|TransAmount|BusinessShort)"):
        parse_c2b(_load(name))


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("c2b_confirmation_frappe-billing-2024_1.json", MsisdnForm.MASKED),
        ("c2b_confirmation_johnmwatheka-laravel-2025_1.json", MsisdnForm.HASHED),
        ("c2b_confirmation_laravel-ipwhitelist-2021_1.json", MsisdnForm.PLAIN),
        ("c2b_confirmation_microbima-o2o-2026_1.json", MsisdnForm.EMPTY),
        ("c2b_validation_safaricom-docs-v1_1.json", MsisdnForm.MASKED),
        ("c2b_confirmation_openmf-ph-ee-connector-mpesa_1.json", MsisdnForm.MASKED),
    ],
)
def test_msisdn_forms_by_era(name: str, form: MsisdnForm) -> None:
    assert parse_c2b(_load(name)).msisdn.form is form


def test_amount_strings_and_seven_digit_shortcodes() -> None:
    parsed = parse_c2b(_load("c2b_confirmation_microbima-o2o-2026_2.json"))
    assert parsed.amount == 500
    assert parsed.shortcode == "4125223"
    assert parsed.first_name == "EXAMPLE ORGANISATION LIMITED B2C"
    assert str(parsed.org_balance) == "74803.00"


def test_masked_msisdn_matches_by_its_visible_digits() -> None:
    masked = read_msisdn("2547 ***** 797")
    assert masked.match("254712345797") is PhoneMatch.SAME
    assert masked.match("254712345798") is PhoneMatch.DIFFERENT
    assert masked.match("254112345797") is PhoneMatch.DIFFERENT
    assert read_msisdn("25470****149").match("254708374149") is PhoneMatch.SAME
    assert read_msisdn("").match("254708374149") is PhoneMatch.UNKNOWN


def test_hashed_msisdn_is_sha256_of_the_twelve_digits() -> None:
    # The sandbox hash of mpesakit issue #103 is sha256("254705912645") (docs/DARAJA.md §11.5).
    assert msisdn_hash("254705912645").startswith("94c392c3")
    hashed = read_msisdn(msisdn_hash("254705912645").upper())
    assert hashed.form is MsisdnForm.HASHED
    assert hashed.match("254705912645") is PhoneMatch.SAME
    assert hashed.match("254705912646") is PhoneMatch.DIFFERENT


def test_plain_msisdn_is_kept_only_masked_and_hashed() -> None:
    parsed = parse_c2b(_load("c2b_confirmation_amosnyaundi-laravel_1.json"))
    assert parsed.raw is not None
    assert parsed.raw["MSISDN"] == "2547 ***** 008"
    assert parsed.raw["MSISDN_sha256"] == msisdn_hash("254700000008")
    assert parsed.phone_match("254700000008") is PhoneMatch.SAME


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"TransAmount": "10.50"}, "TransAmount: not a whole number"),
        ({"TransAmount": "0.00"}, "TransAmount: must be positive"),
        ({"TransAmount": "ten"}, "TransAmount: not a number"),
        ({"TransAmount": None}, "TransAmount: missing"),
        ({"TransID": ""}, "TransID: expected a non-empty string"),
        ({"TransID": "ABC DEF"}, "TransID: not an M-Pesa receipt"),
        ({"TransTime": "2024-02-06"}, "TransTime: not a Daraja timestamp"),
        ({"BusinessShortCode": "41306690"}, "BusinessShortCode: expected 5 to 7 digits"),
        ({"MSISDN": "hello"}, "MSISDN: not a phone number"),
        ({"MSISDN": ["2547"]}, "MSISDN: expected a string"),
        ({"BillRefNumber": {"a": 1}}, "BillRefNumber: expected a string"),
    ],
)
def test_malformed_bodies_are_refused_naming_the_field(change: dict[str, Any], reason: str) -> None:
    body = {**_load("c2b_confirmation_frappe-billing-2024_1.json"), **change}
    with pytest.raises(CallbackError, match=reason):
        parse_c2b(body)


def test_not_an_object_and_stk_bodies_are_refused() -> None:
    with pytest.raises(CallbackError, match="expected an object"):
        parse_c2b([1, 2])
    with pytest.raises(CallbackError, match="an STK callback"):
        parse_c2b({"Body": {"stkCallback": {}}})


def test_validation_answers_are_the_documented_bodies() -> None:
    assert validation_response() == _load("c2b_validation_response_accept_docs_1.json")
    assert validation_response(Rejection.INVALID_MSISDN) == _load(
        "c2b_validation_response_reject_docs_1.json"
    )
    assert validation_response(Rejection.INVALID_ACCOUNT)["ResultCode"] == "C2B00012"
    assert validation_response(Rejection.INVALID_AMOUNT)["ResultCode"] == "C2B00013"
    assert CONFIRMATION_ACK == _load("c2b_confirmation_response_docs_1.json")


def test_account_numbers_ignore_case_spaces_and_dashes() -> None:
    assert normalise_account(" lb7k-2q ") == "LB7K2Q"
    assert normalise_account("LB 7K2Q") == "LB7K2Q"
