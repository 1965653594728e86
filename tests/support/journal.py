"""The journal invariant: a payment's status is the to-state of its last state-changing event.

Every status change is a move written with its event in one transaction, so after any run the
two agree. `db`, `sqlite_db` and `postgres_db` check it when a test ends; a test that sets rows
by hand (to stage a situation the product cannot reach in one step) opts out with
`@pytest.mark.rows_set_by_hand`.
"""

from __future__ import annotations

from payments.models import Payment, PaymentEvent


async def journal_mismatches() -> list[str]:
    """One line per payment whose status is not its last state-changing event's to-state."""
    last: dict[int, str] = {}
    events = PaymentEvent.filter(to_status__isnull=False, payment_id__isnull=False).order_by("id")
    for payment_id, to_status in await events.values_list("payment_id", "to_status"):
        last[payment_id] = to_status
    mismatches = []
    for payment_id, status in await Payment.all().order_by("id").values_list("id", "status"):
        if payment_id in last and last[payment_id] != str(status):
            mismatches.append(
                f"payment #{payment_id} is {status}, its journal says {last[payment_id]}"
            )
    return mismatches
