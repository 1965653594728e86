"""The ResultCode catalogue: each known code's outcome, number/string normalisation, unknowns."""

from __future__ import annotations

import json

import pytest

from daraja.callbacks import parse_stk_callback
from daraja.result_codes import CATALOGUE, describe, outcome_for
from daraja.types import Outcome
from tests.support.scripted_daraja import DATA, fixture_json

PAID, CANCELLED, FAILED, EXPIRED = Outcome.PAID, Outcome.CANCELLED, Outcome.FAILED, Outcome.EXPIRED


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (0, PAID),
        (1, FAILED),
        (11, FAILED),
        (17, FAILED),
        (1001, FAILED),
        (1019, EXPIRED),
        (1025, FAILED),
        (9999, FAILED),
        (1032, CANCELLED),
        (1036, EXPIRED),
        (1037, EXPIRED),
        (2001, FAILED),
        (2026, EXPIRED),
        (2028, FAILED),
        (8006, FAILED),
        ("SFC_IC0003", FAILED),
        ("BW-JMS-100039", FAILED),
    ],
)
def test_known_codes(code: int | str, outcome: Outcome) -> None:
    assert outcome_for(code) is outcome
    assert outcome_for(str(code)) is outcome
    info = describe(code)
    assert info.code == str(code)
    assert info.summary and "does not know" not in info.summary


def test_customer_fixable_marks_what_a_retry_by_the_customer_can_fix() -> None:
    assert describe(2001).customer_fixable  # wrong PIN
    assert describe(1).customer_fixable  # top up
    assert describe(1032).customer_fixable
    assert not describe("SFC_IC0003").customer_fixable  # merchant configuration
    assert not describe(2028).customer_fixable


@pytest.mark.parametrize("code", ["42", 4242, "R000001", "ZZZ"])
def test_unknown_codes_fail_with_a_generic_explanation(code: int | str) -> None:
    info = describe(code)
    assert info.outcome is FAILED
    assert str(code) in info.summary
    assert not info.customer_fixable


def test_whitespace_is_normalised() -> None:
    assert outcome_for(" 1032 ") is CANCELLED


@pytest.mark.parametrize("bad", [None, 1032.0, True, ["1032"]])
def test_non_codes_are_type_errors(bad: object) -> None:
    with pytest.raises(TypeError):
        outcome_for(bad)  # type: ignore[arg-type]


def test_every_captured_code_is_in_the_catalogue() -> None:
    expected = json.loads((DATA / "expected_callbacks.json").read_text())
    codes = {str(e["ResultCode"]) for e in expected.values() if e["valid_stk_callback"]}
    assert codes <= set(CATALOGUE)


def test_stk_result_outcome_comes_from_the_catalogue() -> None:
    assert parse_stk_callback(fixture_json("callback_1037_05.json")).outcome is EXPIRED
    assert parse_stk_callback(fixture_json("callback_unknown_02.json")).outcome is FAILED
    assert parse_stk_callback(fixture_json("callback_success_07.json")).outcome is PAID
