"""Real concurrency: many deliveries of one result make exactly one move and one message."""

from __future__ import annotations

import asyncio

from payments.models import Notification, PaymentEvent
from payments.service import ApplyKind
from payments.states import PaymentStatus
from tests.support.db import TestDatabase
from tests.support.payments import callback, make_service, start

CONCURRENT = 50


async def test_fifty_concurrent_callbacks_make_one_move_and_one_message(
    db: TestDatabase,
) -> None:
    service = make_service()
    payment = await start(service)
    result = callback(payment.checkout_request_id)
    outcomes = await asyncio.gather(*(service.apply_result(result) for _ in range(CONCURRENT)))
    kinds = [o.kind for o in outcomes]
    assert kinds.count(ApplyKind.APPLIED) == 1
    assert kinds.count(ApplyKind.DUPLICATE) == CONCURRENT - 1
    assert (await service.get(payment.id)).status is PaymentStatus.PAID
    assert await Notification.filter(payment_id=payment.id).count() == 1
    moves = await PaymentEvent.filter(payment_id=payment.id, to_status="paid").count()
    assert moves == 1


async def test_concurrent_contradictory_results_settle_on_exactly_one(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    # No expiry codes here: a success after 1037/1019 is a legitimate second move (late paid).
    results = [
        callback(payment.checkout_request_id, code) for code in ("0", "1032", "1", "2001") * 10
    ]
    outcomes = await asyncio.gather(*(service.apply_result(r) for r in results))
    assert [o.kind for o in outcomes].count(ApplyKind.APPLIED) == 1
    stored = await service.get(payment.id)
    customer = Notification.filter(payment_id=payment.id).exclude(kind="admin_alert")
    assert await customer.count() == 1
    # If a failure won, the successes behind it are money to look at: one alert per admin.
    alerts = await Notification.filter(payment_id=payment.id, kind="admin_alert").count()
    assert alerts == (0 if stored.status is PaymentStatus.PAID else 2)
    events = await PaymentEvent.filter(payment_id=payment.id, kind="callback")
    assert [e.to_status for e in events] == [stored.status]


async def test_concurrent_reconcilers_and_callbacks_agree(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    cid = payment.checkout_request_id
    tasks = [service.apply_result(callback(cid, "0", source="query")) for _ in range(10)]
    tasks += [service.apply_result(callback(cid)) for _ in range(10)]
    await asyncio.gather(*tasks)
    stored = await service.get(payment.id)
    assert stored.status is PaymentStatus.PAID
    assert stored.receipt == "TC2ABCDE12"  # the callback's details arrive whoever won
    assert await Notification.filter(payment_id=payment.id).count() == 1
