"""Amounts and phone numbers as people type them, and the limits from settings."""

from __future__ import annotations

import pytest

from payments.errors import AmountProblem, InvalidAmount, InvalidPhone
from payments.rules import PaymentRules, mask_phone, normalize_phone, parse_amount
from tests.support.settings import make_settings

RULES = PaymentRules()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1500", 1500),
        (" 1500 ", 1500),
        ("1,500", 1500),
        ("KES 1500", 1500),
        ("kes1500", 1500),
        ("Ksh. 1,500", 1500),
        ("KSh 1,500", 1500),
        ("Kshs 200", 200),
        ("1500/-", 1500),
        ("1500/=", 1500),
        ("1500 KES", 1500),
        ("1500.00", 1500),
        ("1,500.00", 1500),
        ("1 500", 1500),
        ("1\u00a0500", 1500),  # no-break space
        ("1\u2009500", 1500),  # thin space
        ("1\u202f500", 1500),  # narrow no-break space
        ("Ksh 12\u00a0500", 12_500),
        ("250,000", 250_000),
        ("1", 1),
        (1500, 1500),
    ],
)
def test_amounts_people_type_are_read_as_whole_shillings(text: str | int, expected: int) -> None:
    assert parse_amount(text, RULES) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", AmountProblem.TOO_SMALL),
        ("-5", AmountProblem.TOO_SMALL),
        ("KES -100", AmountProblem.TOO_SMALL),
        (0, AmountProblem.TOO_SMALL),
        ("10.50", AmountProblem.NOT_WHOLE),
        ("1500.5", AmountProblem.NOT_WHOLE),
        ("1.500", AmountProblem.AMBIGUOUS),
        ("1.000", AmountProblem.AMBIGUOUS),
        ("KES 250.000", AmountProblem.AMBIGUOUS),
        ("1.000.000", AmountProblem.TOO_LARGE),
        ("250001", AmountProblem.TOO_LARGE),
        ("250,001", AmountProblem.TOO_LARGE),
        ("99999999999999999999", AmountProblem.TOO_LARGE),
        ("", AmountProblem.NOT_A_NUMBER),
        ("   ", AmountProblem.NOT_A_NUMBER),
        ("one thousand", AmountProblem.NOT_A_NUMBER),
        ("elfu moja", AmountProblem.NOT_A_NUMBER),
        ("15,00", AmountProblem.NOT_A_NUMBER),
        ("1,50,000", AmountProblem.NOT_A_NUMBER),
        ("12abc", AmountProblem.NOT_A_NUMBER),
        ("1e3", AmountProblem.NOT_A_NUMBER),
        ("١٥٠٠", AmountProblem.NOT_A_NUMBER),  # Arabic-Indic digits: int() would take them
        ("KES", AmountProblem.NOT_A_NUMBER),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(text: str | int, reason: AmountProblem) -> None:
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(text, RULES)
    assert caught.value.reason is reason
    assert (caught.value.minimum, caught.value.maximum) == (1, 250_000)


@pytest.mark.parametrize(
    ("text", "thousands"), [("1.000", 1000), ("1.500", 1500), ("Ksh 25.000", 25000)]
)
def test_a_dot_before_three_digits_is_ambiguous_and_carries_the_thousands_reading(
    text: str, thousands: int
) -> None:
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(text, RULES)
    assert caught.value.reason is AmountProblem.AMBIGUOUS
    assert caught.value.thousands == thousands


def test_limits_come_from_the_rules() -> None:
    rules = PaymentRules(min_amount=10, max_amount=1000)
    assert parse_amount("10", rules) == 10
    with pytest.raises(InvalidAmount) as small:
        parse_amount("9", rules)
    assert (small.value.reason, small.value.minimum) == (AmountProblem.TOO_SMALL, 10)
    with pytest.raises(InvalidAmount) as large:
        parse_amount("1,001", rules)
    assert (large.value.reason, large.value.maximum) == (AmountProblem.TOO_LARGE, 1000)


def test_rules_from_settings() -> None:
    settings = make_settings(
        pay_min_amount=5,
        pay_max_amount=70_000,
        push_limit_per_hour=3,
        reconcile_after_seconds=12.5,
        payment_timeout_seconds=90,
    )
    assert PaymentRules.from_settings(settings) == PaymentRules(5, 70_000, 3, 12.5, 90.0)
    assert PaymentRules.from_settings(make_settings()) == PaymentRules()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0712345678", "254712345678"),
        ("712345678", "254712345678"),
        ("+254 712 345 678", "254712345678"),
        ("254712345678", "254712345678"),
        ("+254712345678", "254712345678"),
        ("+254-712-345-678", "254712345678"),
        ("(0712) 345 678", "254712345678"),
        ("0712 345 678", "254712345678"),
        ("0712.345.678", "254712345678"),
        ("00254712345678", "254712345678"),
        ("+254 0712 345 678", "254712345678"),
        ("0112345678", "254112345678"),
        ("0101234567", "254101234567"),
        ("+254 110 000 001", "254110000001"),
        ("0799999999", "254799999999"),
    ],
)
def test_kenyan_mobile_numbers_are_normalised(text: str, expected: str) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "0201234567",  # Nairobi landline
        "+254 20 123 4567",
        "071234567",  # too short
        "07123456789",  # too long
        "2547123456789",
        "+255712345678",  # Tanzania
        "+1 415 555 0100",
        "0812345678",  # not a mobile range
        "0151234567",  # 015 is not allocated to mobiles
        "07l2345678",  # letter l for 1
        "phone",
        "",
        "+",
    ],
)
def test_other_numbers_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone(text)
    assert caught.value.example == "0712 345 678"


def test_mask_phone_keeps_only_enough_to_tell_numbers_apart() -> None:
    assert mask_phone("254712345678") == "2547•••••678"
    assert "12345" not in mask_phone("254712345678")
    assert mask_phone("254112345678") == "2541•••••678"
    assert mask_phone("123") == "•••"
