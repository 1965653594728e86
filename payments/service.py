"""The payments service: one object for the bot and the HTTP face, made of focused parts.

* `payments.pushes`: drafts and pushes (create, push once, cancel);
* `payments.settlement`: applying a callback or query result once;
* `payments.c2b`: C2B confirmations (menu payments, STK payments seen again), unmatched ones;
* `payments.reconciliation`: querying waiting payments, expiring overdue ones;
* `payments.lookups`: read-only views (find, lists, timeline, day summary).

Every status change is a `payments.moves.Move` performed through the store chosen when the
service is built (`payments.stores`): checked against the transition table, written as a
conditional update with its event and outbox row in one transaction, so double taps, duplicate
callbacks and two running instances produce one move, and a crash loses neither a message nor
the reason for it.
"""

from __future__ import annotations

from payments.c2b import C2BSettlement
from payments.pushes import DRAFT_TTL, Pushes
from payments.reconciliation import (
    LATE_CHECK_WINDOW,
    MAX_CHECK_INTERVAL_SECONDS,
    RECONCILE_LEASE_SECONDS,
    Reconciliation,
)
from payments.results import ApplyKind, ApplyResult
from payments.settlement import ORPHAN_MATCH_WINDOW, Settlement
from payments.states import WAITING_STATES

__all__ = [
    "DRAFT_TTL",
    "LATE_CHECK_WINDOW",
    "MAX_CHECK_INTERVAL_SECONDS",
    "ORPHAN_MATCH_WINDOW",
    "RECONCILE_LEASE_SECONDS",
    "WAITING_STATES",
    "ApplyKind",
    "ApplyResult",
    "PaymentService",
]


class PaymentService(Pushes, Settlement, C2BSettlement, Reconciliation):
    """The only code that changes payments (through its store)."""
