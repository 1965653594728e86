"""`daraja.masking.redact`: the faster patterns and pre-checks mask what the first ones masked."""

from __future__ import annotations

import random
import re

import pytest

from daraja.masking import mask_checkout_id, redact

# The patterns as first written: the reference the faster ones (and their pre-checks) must match.
_REFERENCE_CHECKOUT = re.compile(r"(ws_CO_\d{17})(\d{5,})(\d{3})\b")
_REFERENCE_PHONE = re.compile(r"\b(254\d)(\d{5})(\d{3})\b")


def reference(text: str) -> str:
    text = _REFERENCE_CHECKOUT.sub(lambda m: m[1] + "•" * len(m[2]) + m[3], text)
    return _REFERENCE_PHONE.sub(lambda m: m[1] + "•" * len(m[2]) + m[3], text)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("254712345678", "2547•••••678"),
        ("254712345678 paid", "2547•••••678 paid"),  # at the start
        ("paid by 254712345678", "paid by 2547•••••678"),  # at the end
        ("(254712345678),254700000001.", "(2547•••••678),2547•••••001."),
        ("phone=254712345678&x=1", "phone=2547•••••678&x=1"),
        ("•254712345678•", "2547•••••678".join("••")),  # a bullet is no word character
        ("x254712345678", "x254712345678"),  # not a word of its own (the log filter's typed
        ("_254712345678", "_254712345678"),  # pass masks these, see tests/unit/bot)
        ("1254712345678", "1254712345678"),
        ("2547123456789", "2547123456789"),  # 13 digits: not a phone number
        ("25471234567", "25471234567"),  # 11 digits
        ("254 712 345 678", "254 712 345 678"),  # typed forms: the log filter's job
        ("ws_CO_29112026171000123254712345678", "ws_CO_29112026171000123•••••••••678"),
        ("ws_CO_29112026171000123254712345678 done", "ws_CO_29112026171000123•••••••••678 done"),
        (
            '{"CheckoutRequestID":"ws_CO_29112026171000123254712345678","Phone":254712345678}',
            '{"CheckoutRequestID":"ws_CO_29112026171000123•••••••••678","Phone":2547•••••678}',
        ),
        ("ws_CO_29112026171000123•••••••••678", "ws_CO_29112026171000123•••••••••678"),
        ("ws_CO_250120221936525017", "ws_CO_250120221936525017"),
        ("POST /payments/callback/*** 200 from 127.0.0.1 in 1.2 ms", None),
        ("", ""),
    ],
)
def test_redact_masks_numbers_wherever_they_are(text: str, masked: str | None) -> None:
    expected = text if masked is None else masked
    assert redact(text) == expected
    assert mask_checkout_id(text) == expected
    assert reference(text) == expected


def _random_texts(count: int, seed: int) -> list[str]:
    """Lines built from the pieces phone numbers and their near misses are made of."""
    rng = random.Random(seed)
    pieces = [
        "254", "2547", "254712345678", "12345678", "0", "7", "1", "2", "5", "4", "9", "12",
        " ", "-", "+", "x", "_", "•", ".", "ws_CO_", "ws_CO_29112026171000123", "\n", "é",
        "payment #12: callback ", "(code 0)",
    ]  # fmt: skip
    texts = []
    for _ in range(count):
        parts = [rng.choice(pieces) for _ in range(rng.randint(1, 14))]
        if rng.random() < 0.5:
            parts.insert(rng.randint(0, len(parts)), f"2547{rng.randrange(10**8):08d}")
        texts.append("".join(parts))
    return texts


def test_redact_agrees_with_the_original_patterns_on_many_lines() -> None:
    texts = _random_texts(20_000, seed=7)
    masked_some = 0
    for text in texts:
        expected = reference(text)
        assert redact(text) == expected, text
        masked_some += expected != text
    # The lines did exercise the masking, not only the pre-checks' early exits.
    assert masked_some > 2_000
