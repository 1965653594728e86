"""The emulator's outcome table: which result a push gets, chosen like test card numbers.

The last four digits of the prompted phone pick the outcome; every other number succeeds.
Descriptions are the wording real callbacks carry (docs/DARAJA.md §6), not the docs' wording.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scenario:
    """One terminal result: the ResultCode (as a string) and the ResultDesc that goes with it."""

    code: str
    desc: str

    @property
    def is_success(self) -> bool:
        return self.code == "0"


#: ResultDesc per ResultCode, as seen in real callbacks (docs/DARAJA.md §6).
RESULT_DESCRIPTIONS: dict[str, str] = {
    "0": "The service request is processed successfully.",
    "1": "The balance is insufficient for the transaction.",
    "11": "The DebitParty is in an invalid state.",
    "17": "Rule limited.",
    "1001": "Unable to lock subscriber.",
    "1019": "Transaction has expired",
    "1025": "Error Occurred while sending push request",
    "1032": "Request cancelled by user",
    "1036": "SMSC ACK timeout.",
    "1037": "DS timeout user cannot be reached",
    "2001": "The initiator information is invalid.",
    "2026": "The channel session ID has expired.",
    "2028": "The request is not permitted according to product assignment.",
    "8006": "The security credential is locked.",
    "SFC_IC0003": "The operator does not exist.",
    "BW-JMS-100039": "There was an unexpected error while sending a message.",
}

SUCCESS = Scenario("0", RESULT_DESCRIPTIONS["0"])


def scenario_for_code(code: str | int, desc: str | None = None) -> Scenario:
    """A Scenario for any result code; unknown codes get a generic description."""
    code = str(code)
    return Scenario(code, desc or RESULT_DESCRIPTIONS.get(code, f"Emulated result {code}."))


#: Magic phone endings (last 4 digits of PhoneNumber) and the outcome they produce.
SCENARIOS: dict[str, Scenario] = {
    "1032": scenario_for_code("1032"),  # the customer pressed Cancel
    "1037": scenario_for_code("1037"),  # phone unreachable / no answer
    "0001": scenario_for_code("1"),  # insufficient balance
    "2001": scenario_for_code("2001"),  # wrong PIN
    "1019": scenario_for_code("1019"),  # prompt expired
    "8006": scenario_for_code("8006"),  # PIN locked
    "1025": scenario_for_code("1025"),  # prompt could not be sent
}

#: Real prompts longer than this fail asynchronously with 1025 (docs/DARAJA.md §8).
MAX_PROMPT_CHARS = 182


def prompt_text(amount: int, account_reference: str, merchant: str) -> str:
    """Roughly the USSD prompt the phone shows; only its length matters here."""
    return (
        f"Do you want to pay Ksh{amount}.00 to {merchant} account no. "
        f"{account_reference}? Enter M-PESA PIN:"
    )


def scenario_for_phone(phone: str, table: dict[str, Scenario] | None = None) -> Scenario:
    """The outcome a phone gets from the magic-number table (success when not listed)."""
    table = SCENARIOS if table is None else table
    return table.get(phone[-4:], SUCCESS)
