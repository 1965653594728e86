"""What each STK ResultCode means: the outcome for the payment and a line for people.

Callbacks and queries share one code space. Codes are keys as strings ("0", "1032",
"SFC_IC0003"); `outcome_for` accepts the JSON number too. ResultDesc wording drifts over the
years, so nothing here (or anywhere) looks at it. The summaries are English for logs and admin
views; what a customer reads lives in `bot/texts/`.
"""

from __future__ import annotations

from dataclasses import dataclass

from daraja.types import Outcome


@dataclass(frozen=True, slots=True)
class ResultCodeInfo:
    code: str
    outcome: Outcome
    summary: str
    #: True when the customer can fix it themselves and simply try again (PIN, balance, phone).
    customer_fixable: bool


def _info(code: str, outcome: Outcome, summary: str, fixable: bool) -> ResultCodeInfo:
    return ResultCodeInfo(code, outcome, summary, fixable)


P, C, F, E = Outcome.PAID, Outcome.CANCELLED, Outcome.FAILED, Outcome.EXPIRED

CATALOGUE: dict[str, ResultCodeInfo] = {
    info.code: info
    for info in (
        _info("0", P, "Paid: M-Pesa completed the payment.", False),
        _info("1", F, "The customer's M-Pesa balance is too low for this amount.", True),
        _info("2", F, "The amount is below the M-Pesa minimum.", True),
        _info("3", F, "The amount is above the M-Pesa per-transaction maximum.", True),
        _info("4", F, "The customer has reached their daily M-Pesa limit.", True),
        _info("8", F, "The payment would take the receiver above its maximum balance.", False),
        _info("11", F, "The customer's M-Pesa account is in a state that cannot pay.", False),
        _info(
            "17",
            F,
            "Rule limited: the same amount was requested from this customer within about "
            "two minutes; wait before asking again.",
            True,
        ),
        _info(
            "1001",
            F,
            "The customer's phone is busy with another M-Pesa prompt (subscriber locked); "
            "try again in a minute.",
            True,
        ),
        _info("1019", E, "The prompt expired before the customer completed it.", True),
        _info(
            "1025",
            F,
            "M-Pesa could not send the prompt (often a prompt text that is too long).",
            False,
        ),
        _info("1032", C, "The customer cancelled the M-Pesa prompt.", True),
        # 1036 is the same family as 1037: the prompt never got an answer from the handset
        # (its delivery acknowledgement timed out). Nothing was debited and a later try may
        # work, and EXPIRED (unlike FAILED) still lets a late success callback settle it.
        _info(
            "1036",
            E,
            "The prompt could not be delivered to the phone in time (SMSC acknowledgement "
            "timeout); the phone may be off or out of coverage.",
            True,
        ),
        _info(
            "1037",
            E,
            "The phone could not be reached or the customer did not respond to the prompt.",
            True,
        ),
        _info("2001", F, "The customer entered a wrong M-Pesa PIN.", True),
        _info("2026", E, "The M-Pesa session for this prompt expired.", True),
        _info(
            "2028",
            F,
            "Not permitted for this merchant (check the transaction type and PartyB/till).",
            False,
        ),
        _info("8006", F, "The customer's M-Pesa PIN is locked; they must unlock it first.", True),
        _info(
            "9999",
            F,
            "M-Pesa could not send the prompt (an error occurred sending the push request).",
            False,
        ),
        _info(
            "SFC_IC0003",
            F,
            "The operator does not exist: merchant configuration (transaction type or till) "
            "is wrong.",
            False,
        ),
        _info("BW-JMS-100039", F, "M-Pesa had an unexpected error sending the prompt.", False),
    )
}


def normalise_code(code: str | int) -> str:
    """The code as a catalogue key: 1032 → "1032", " 0 " → "0"."""
    if isinstance(code, bool) or not isinstance(code, str | int):
        raise TypeError(f"a ResultCode is a string or an integer, not {type(code).__name__}")
    return str(code).strip()


def describe(code: str | int) -> ResultCodeInfo:
    """The catalogue entry; an unknown code is a failure with a generic explanation."""
    key = normalise_code(code)
    known = CATALOGUE.get(key)
    if known is not None:
        return known
    return ResultCodeInfo(
        key,
        Outcome.FAILED,
        f"M-Pesa reported result code {key!r}, which lipabot does not know; treated as failed.",
        False,
    )


def outcome_for(code: str | int) -> Outcome:
    """The payment outcome for a ResultCode given as Daraja sent it (number or string)."""
    return describe(code).outcome
