"""The one way a payment changes: a `Move`, checked against the transition table, then written.

A move names the row (by id, or by CheckoutRequestID for a callback's fast path), the status it
must have now, the status it goes to (None: the status stays and only fields change), what else
the row must satisfy (`expect`), what to set (`changes`), and what is written with it: the audit
event, the customer's outbox message (`notify`) and admin alerts. `perform` refuses a move the
table does not allow (`InvalidTransition`, nothing written) and hands the rest to the store,
which writes the update, the event and the messages in one transaction: all or nothing.

A move whose row is not as expected (another caller moved it first, or a unique rule — a receipt
that belongs to another payment, a second waiting payment for one phone — refused it) writes
nothing and `perform` returns None; the caller re-reads and decides again.

A move without `changes` writes only its event (and messages): a duplicate, a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from payments.models import NotificationKind
from payments.states import PaymentStatus, check_move

if TYPE_CHECKING:
    from payments.models import Payment
    from payments.stores import Store

#: The conditions a move may put on its row beyond id/CheckoutRequestID and status: each
#: `<field>__isnull` must be True; `amount` compares the amount asked for.
SUPPORTED_EXPECT = frozenset(
    {
        "flagged_reason__isnull",
        "result_code__isnull",
        "receipt__isnull",
        "checkout_request_id__isnull",
        "amount",
    }
)


@dataclass(frozen=True, slots=True)
class Move:
    """One change to one payment and what is written with it."""

    event: str
    from_status: PaymentStatus
    to_status: PaymentStatus | None = None
    #: The row as the caller read it (stores mirror the changes on it); or None with
    #: `checkout_request_id` set: the row is found by its CheckoutRequestID.
    payment: Payment | None = None
    checkout_request_id: str | None = None
    expect: Mapping[str, Any] = field(default_factory=dict)
    changes: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    detail: dict[str, Any] | None = None
    raw: dict[str, Any] | None = None
    source: str = "service"
    notify: NotificationKind | None = None
    alert: str | None = None
    alert_detail: dict[str, Any] | None = None
    alert_chat_ids: tuple[int, ...] = ()

    @property
    def writes_row(self) -> bool:
        return self.to_status is not None or bool(self.changes)

    def set_clause(self) -> dict[str, Any]:
        """The columns the update sets (beyond `updated_at`)."""
        if self.to_status is None:
            return dict(self.changes)
        return {**self.changes, "status": self.to_status}

    def event_checkout_id(self) -> str | None:
        if self.checkout_request_id is not None:
            return self.checkout_request_id
        if "checkout_request_id" in self.changes:
            return str(self.changes["checkout_request_id"])
        return self.payment.checkout_request_id if self.payment is not None else None


class InvalidMove(ValueError):
    """A move that cannot be written as asked (not a transition: a programming error)."""


def validate(move: Move) -> None:
    """Raise `InvalidTransition` or `InvalidMove`; nothing is written for either."""
    if move.to_status is not None:
        check_move(move.from_status, move.to_status)
    if "status" in move.changes:
        raise InvalidMove("a move sets the status through to_status, not changes")
    unknown = set(move.expect) - SUPPORTED_EXPECT
    if unknown:
        raise InvalidMove(f"unsupported expectations: {sorted(unknown)}")
    if any(name.endswith("__isnull") and value is not True for name, value in move.expect.items()):
        raise InvalidMove("only `<field>__isnull=True` expectations are supported")
    if (move.payment is None) == (move.checkout_request_id is None):
        raise InvalidMove("a move names its row by payment or by checkout_request_id, not both")
    if move.notify is not None and not move.writes_row:
        raise InvalidMove("a message is owed only for a move that changes the row")


async def perform(store: Store, move: Move) -> Payment | None:
    """Check `move` against the transition table and write it; the payment as written, or None
    when the row was not as the move expects (nothing written)."""
    validate(move)
    return await store.write(move)
