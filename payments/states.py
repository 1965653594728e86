"""Payment states, the one table of moves allowed between them, and the named sets of states.

Every status change in the product is a `payments.moves.Move`, and `payments.moves.perform`
checks it here before a store writes it: a move the table does not allow raises
`InvalidTransition` and nothing is written.

    created ──> pushing ──> pending ──> paid | failed | cancelled | expired
       │           ├──────> unknown ──> paid | failed | cancelled | expired
       │           └──────> push_failed
       └──> cancelled        expired | failed | cancelled ──> paid (M-Pesa's receipt wins)
                   push_failed ──> paid (paid from the M-Pesa menu, C2B)

A failure reported after our own expiry is recorded on the row but keeps it `expired`. A success
callback with its receipt is proof of payment: it pays a payment an earlier answer (a query, a
timeout, the sandbox's wrong "cancelled") had given up on, and the admins hear of the earlier
mistake.
"""

from __future__ import annotations

from enum import StrEnum


class PaymentStatus(StrEnum):
    CREATED = "created"
    PUSHING = "pushing"
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PUSH_FAILED = "push_failed"
    UNKNOWN = "unknown"


S = PaymentStatus

TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.CREATED: frozenset({S.PUSHING, S.CANCELLED}),
    S.PUSHING: frozenset({S.PENDING, S.PUSH_FAILED, S.UNKNOWN}),
    S.PENDING: frozenset({S.PAID, S.FAILED, S.CANCELLED, S.EXPIRED}),
    # The push may have reached Daraja, or the answer came late: a callback or query settles it.
    S.UNKNOWN: frozenset({S.PAID, S.FAILED, S.CANCELLED, S.EXPIRED}),
    # Only M-Pesa's proof of payment (a success callback with its receipt, or a C2B
    # confirmation: the customer paid from the menu) can follow an expiry, a failure or a
    # cancellation: money moved after an earlier answer said it had not.
    S.EXPIRED: frozenset({S.PAID}),
    S.FAILED: frozenset({S.PAID}),
    S.CANCELLED: frozenset({S.PAID}),
    S.PAID: frozenset(),
    # A prompt that never went out leaves the customer the M-Pesa menu: a C2B confirmation
    # naming the payment's account number pays it (docs/DARAJA.md §11; `results.decide_c2b`).
    S.PUSH_FAILED: frozenset({S.PAID}),
}

#: States in which a payment still waits for M-Pesa's word (a customer may not start another).
OPEN_STATES = frozenset({S.CREATED, S.PUSHING, S.PENDING, S.UNKNOWN})
#: States in which Daraja has (or may have) a prompt out for the payment.
WAITING_STATES = frozenset({S.PUSHING, S.PENDING, S.UNKNOWN})
#: States the reconciler asks Daraja about (and expires when nothing final arrives).
RECONCILABLE_STATES = frozenset({S.PENDING, S.UNKNOWN})
#: States M-Pesa's answer to the prompt cannot change (only a menu payment can still pay one).
FINAL_STATES = frozenset({S.PAID, S.FAILED, S.CANCELLED, S.PUSH_FAILED})
#: States that count as "decided" for the success rate.
DECIDED_STATES = frozenset({S.PAID, S.FAILED, S.CANCELLED, S.EXPIRED, S.PUSH_FAILED})


class InvalidTransition(Exception):
    """A move the table does not allow."""

    def __init__(self, current: PaymentStatus, target: PaymentStatus) -> None:
        super().__init__(f"payment cannot move from {current} to {target}")
        self.current = current
        self.target = target


def can_move(current: PaymentStatus, target: PaymentStatus) -> bool:
    return target in TRANSITIONS[current]


def check_move(current: PaymentStatus, target: PaymentStatus) -> None:
    if not can_move(current, target):
        raise InvalidTransition(current, target)
