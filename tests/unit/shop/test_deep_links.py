"""The payment deep-link grammar /start reads and /link writes."""

from __future__ import annotations

import pytest

from bot import deep_links
from bot.deep_links import PayLink


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("pay", PayLink(None, None)),
        ("pay-500", PayLink("500", None)),
        ("pay-500-INV042", PayLink("500", "INV042")),
        ("pay-1-a_b", PayLink("1", "a_b")),
        ("pay-", None),
        ("pay-500-", None),
        ("pay--INV042", None),
        ("pay-500-INV-042", None),
        ("pay-500-ABCDEFGHIJKLM", None),  # 13 characters: over M-Pesa's 12
        ("pay-12345678", None),
        ("pay-٥٠٠", None),  # digits, but not ASCII ones
        ("pay-500\n", None),
        ("paid-500", None),
        ("start", None),
    ],
)
def test_parse(payload: str, expected: PayLink | None) -> None:
    assert deep_links.parse(payload) == expected


@pytest.mark.parametrize(
    ("amount", "reference", "payload"),
    [
        (None, None, "pay"),
        (500, None, "pay-500"),
        (250000, "ABCDEFGHIJ_1", "pay-250000-ABCDEFGHIJ_1"),
    ],
)
def test_payload_round_trips(amount: int | None, reference: str | None, payload: str) -> None:
    assert deep_links.payload(amount, reference) == payload
    parsed = deep_links.parse(payload)
    assert parsed == PayLink(None if amount is None else str(amount), reference)


@pytest.mark.parametrize(
    ("amount", "reference"),
    [(500, "INV-1"), (500, "x y"), (500, "INV1\n"), (None, "INV1"), (12345678, None)],
)
def test_payload_refuses_what_start_would_refuse(amount: int | None, reference: str | None) -> None:
    with pytest.raises(ValueError):
        deep_links.payload(amount, reference)
