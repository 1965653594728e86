"""Payments we expired ourselves keep being queried: M-Pesa may still have taken the money.

Our timeout is not M-Pesa's word. A payment that expired because no final answer reached us
(callback dropped, query API down) and that has a CheckoutRequestID is queried with the usual
backoff (at most every `MAX_CHECK_INTERVAL_SECONDS`) until `LATE_CHECK_WINDOW` after its push.
A Daraja-reported expiry (1037, 1019, …) is Daraja's final word and is not queried again.
"""

from __future__ import annotations

import pytest

from daraja.errors import ConnectFailed
from payments.models import Notification, Payment
from payments.service import LATE_CHECK_WINDOW, MAX_CHECK_INTERVAL_SECONDS
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.gateway import FakeDaraja
from tests.support.payments import callback, make_service, start

S = PaymentStatus


async def _kinds(payment_id: int) -> list[str]:
    return [str(n.kind) for n in await Notification.filter(payment_id=payment_id).order_by("id")]


async def test_query_api_down_past_the_timeout_then_back_ends_paid(db: TestDatabase) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    cid = payment.checkout_request_id
    gateway.query_answers[cid] = [ConnectFailed("refused")] * 50 + [
        callback(cid, "0", source="query")
    ]
    for _ in range(8):
        clock.advance(30)
        await service.reconcile_due("a")
        await service.expire_overdue()
    expired = await service.get(payment.id)
    assert (expired.status, expired.result_code) == (S.EXPIRED, None)
    assert await _kinds(payment.id) == ["expired"]

    # Two hours later the query API answers again: the payment is found paid.
    gateway.query_answers[cid] = [callback(cid, "0", source="query")]
    clock.advance(2 * 3600)
    assert await service.reconcile_due("a") == 1
    paid = await service.get(payment.id)
    assert paid.status is S.PAID
    assert await _kinds(payment.id) == ["expired", "late_paid"]
    assert await service.reconcile_due("a") == 0


async def test_expired_payments_are_queried_slowly_and_only_within_the_window(
    db: TestDatabase,
) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    clock.advance(181)
    assert await service.expire_overdue() == 1
    before = len(gateway.queries)
    # Four hours of reconciler passes every minute: queries stay at most one per 10 minutes.
    for _ in range(240):
        clock.advance(60)
        await service.reconcile_due("a")
    asked = len(gateway.queries) - before
    assert 4 * 3600 / MAX_CHECK_INTERVAL_SECONDS - 2 <= asked <= 4 * 3600 / 600 + 5
    stored = await service.get(payment.id)
    assert stored.status is S.EXPIRED and stored.next_check_at is not None

    # Past the window nobody asks any more.
    clock.now = stored.pushed_at + LATE_CHECK_WINDOW
    clock.advance(1)
    before = len(gateway.queries)
    for _ in range(3):
        clock.advance(MAX_CHECK_INTERVAL_SECONDS)
        assert await service.reconcile_due("a") == 0
    assert len(gateway.queries) == before
    assert await _kinds(payment.id) == ["expired"]


async def test_a_late_query_failure_is_recorded_stops_polling_and_tells_nobody(
    db: TestDatabase,
) -> None:
    # The sandbox's query may say FAILED even for a paid payment (docs/DARAJA.md §1): keep it on
    # record, stop asking, but say nothing more; a later success callback still pays.
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    cid = payment.checkout_request_id
    clock.advance(181)
    await service.expire_overdue()
    gateway.query_answers[cid] = [callback(cid, "1", source="query")]
    clock.advance(MAX_CHECK_INTERVAL_SECONDS)
    assert await service.reconcile_due("a") == 1
    stored = await service.get(payment.id)
    assert (stored.status, stored.result_code) == (S.EXPIRED, "1")
    asked = len(gateway.queries)
    clock.advance(3600)
    assert await service.reconcile_due("a") == 0
    assert len(gateway.queries) == asked
    assert await _kinds(payment.id) == ["expired"]
    late = await service.apply_result(callback(cid, "0"))
    assert late.payment is not None and late.payment.status is S.PAID
    assert await _kinds(payment.id) == ["expired", "late_paid"]


async def test_still_processing_after_expiry_keeps_asking(db: TestDatabase) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    clock.advance(181)
    await service.expire_overdue()
    clock.advance(MAX_CHECK_INTERVAL_SECONDS)
    assert await service.reconcile_due("a") == 1  # "being processed"
    stored = await service.get(payment.id)
    assert stored.status is S.EXPIRED and stored.result_code is None
    assert stored.next_check_at is not None and stored.next_check_at > clock.now
    kinds = [e.kind for e in await service.timeline(payment.id)]
    assert kinds[-1] == "query_pending"


async def test_a_daraja_reported_expiry_is_not_queried_again(db: TestDatabase) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    await service.apply_result(callback(payment.checkout_request_id, "1037"))
    assert (await service.get(payment.id)).status is S.EXPIRED
    for _ in range(5):
        clock.advance(MAX_CHECK_INTERVAL_SECONDS)
        assert await service.reconcile_due("a") == 0
    assert gateway.queries == []


@pytest.mark.rows_set_by_hand
async def test_an_expiry_without_a_checkout_id_is_never_queried(db: TestDatabase) -> None:
    # The push timed out (maybe processed): nothing to query; only a callback matched by phone
    # and amount can settle it.
    gateway, clock = FakeDaraja(push_error=None), Clock()
    service = make_service(gateway, clock)
    draft = await service.create_payment(
        user_id=7, chat_id=107, language="en", amount=1500, phone="0712345678"
    )
    await Payment.filter(id=draft.id).update(status=S.UNKNOWN, pushed_at=clock.now)
    clock.advance(181)
    assert await service.expire_overdue() == 1
    for _ in range(3):
        clock.advance(MAX_CHECK_INTERVAL_SECONDS)
        assert await service.reconcile_due("a") == 0
    assert gateway.queries == []
