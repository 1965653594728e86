"""Each payment's own account number: short, unambiguous, typed by hand from the M-Pesa menu.

`LB` and five characters from an alphabet without look-alikes (no 0/O, 1/I/L, 5/S, 2/Z, 8/B):
25^5, about 9.8 million numbers (a clash is refused by the unique column and drawn again),
well within the 12 characters M-Pesa's AccountReference allows (docs/DARAJA.md §3.1). The
number is random rather than derived from the payment id, so one customer cannot guess
another's. Payers type it in any case, with spaces or dashes: `daraja.c2b.normalise_account`
reads it back.
"""

from __future__ import annotations

import secrets

from daraja.c2b import normalise_account

PREFIX = "LB"
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
LENGTH = 5
MAX_LENGTH = 12


def new_account_number() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def looks_like_account_number(text: str) -> bool:
    """True when `text` (as a payer typed it) has the shape of one of our account numbers."""
    value = normalise_account(text)
    return (
        len(value) == len(PREFIX) + LENGTH
        and value.startswith(PREFIX)
        and all(ch in ALPHABET for ch in value[len(PREFIX) :])
    )
