"""What the payments service refuses, as exceptions the bot turns into words for a person.

Push outcomes (Daraja said no, or did not answer) are not raised: they are recorded on the
payment and reach the customer through the outbox.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from payments.models import Payment


class PaymentError(Exception):
    """Base for every refusal the payments service makes."""


class AmountProblem(StrEnum):
    NOT_A_NUMBER = "not_a_number"
    NOT_WHOLE = "not_whole"
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    #: "1.000": a dot before exactly three digits may separate thousands or cents; ask.
    AMBIGUOUS = "ambiguous"


class InvalidAmount(PaymentError):
    """The amount is not a whole number of shillings between `minimum` and `maximum`."""

    def __init__(
        self, reason: AmountProblem, *, minimum: int, maximum: int, thousands: int | None = None
    ) -> None:
        super().__init__(f"invalid amount ({reason}); allowed {minimum}..{maximum} KES")
        self.reason = reason
        self.minimum = minimum
        self.maximum = maximum
        #: AMBIGUOUS only: the amount if the dot separated thousands ("1.000" → 1000).
        self.thousands = thousands


class InvalidPhone(PaymentError):
    """Not a Kenyan mobile number; `example` shows the customer a form that works."""

    def __init__(self, example: str = "0712 345 678") -> None:
        super().__init__(f"not a Kenyan mobile number (e.g. {example})")
        self.example = example


class NotSafaricom(InvalidPhone):
    """A Kenyan mobile number on another network: M-Pesa prompts only reach Safaricom lines."""

    def __init__(self, msisdn: str, network: str, example: str = "0712 345 678") -> None:
        super().__init__(example)
        self.msisdn = msisdn
        self.network = network


class PaymentInProgress(PaymentError):
    """The user (or the phone) already has a payment waiting for M-Pesa."""

    def __init__(self, existing: Payment) -> None:
        super().__init__(f"payment #{existing.id} is still {existing.status}")
        self.existing = existing


class PushLimitExceeded(PaymentError):
    """Too many payments for this user, or PIN prompts to this phone, in the last hour.

    `per` is "user" (payments started, drafts included) or "phone" (prompts sent to the number,
    whoever asked: several accounts cannot flood someone's phone)."""

    def __init__(self, retry_after_seconds: int, *, per: str = "user") -> None:
        super().__init__(f"{per} push limit reached; retry in {retry_after_seconds}s")
        self.retry_after_seconds = retry_after_seconds
        self.per = per


class DraftExpired(PaymentError):
    """The confirmation was older than the draft lifetime: cancelled, nothing pushed."""

    def __init__(self, payment_id: int) -> None:
        super().__init__(f"draft #{payment_id} expired before it was confirmed; not pushed")
        self.payment_id = payment_id


class PaymentNotFound(PaymentError):
    """No payment with that id (or not this user's)."""

    def __init__(self, ref: object) -> None:
        super().__init__(f"payment {ref!r} not found")
        self.ref = ref


class C2BNotAttachable(PaymentError):
    """An admin's `/attach` that cannot be done: `reason` says why (unknown, already attached,
    the payment is paid with another receipt, …)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot attach: {reason}")
        self.reason = reason
