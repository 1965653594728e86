"""Reconciliation by STK query, leases between instances, expiry, and the Reconciler loop."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from daraja.errors import ConnectFailed, TimedOut
from payments.models import Notification, NotificationKind, Payment
from payments.reconciler import Reconciler
from payments.service import ApplyKind
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.gateway import FakeDaraja
from tests.support.payments import callback, make_service, start

S = PaymentStatus


async def test_nothing_is_queried_before_it_is_due(db: TestDatabase) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    await start(service)
    clock.advance(29)
    assert await service.reconcile_due("a") == 0
    assert gateway.queries == []


async def test_still_processing_keeps_it_pending_and_backs_off(db: TestDatabase) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    clock.advance(30)
    assert await service.reconcile_due("a") == 1
    first = await service.get(payment.id)
    assert first.status is S.PENDING
    assert first.check_attempts == 1
    assert (first.next_check_at - clock.now).total_seconds() == 30
    assert (first.claimed_by, first.claimed_until) == (None, None)
    clock.advance(30)
    await service.reconcile_due("a")
    second = await service.get(payment.id)
    assert (second.next_check_at - clock.now).total_seconds() == 60  # doubling
    assert gateway.queries == [payment.checkout_request_id] * 2
    assert [e.kind for e in await service.timeline(payment.id)][-2:] == [
        "query_pending",
        "query_pending",
    ]


async def test_timeout_then_query_settles_and_the_callback_is_a_duplicate(
    db: TestDatabase,
) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    gateway.query_answers[payment.checkout_request_id] = [
        callback(payment.checkout_request_id, "0", source="query")
    ]
    clock.advance(30)
    settled = await service.reconcile_one(payment.id)
    assert settled.status is S.PAID
    event = (await service.timeline(payment.id))[-1]
    assert (event.kind, event.source, event.to_status) == ("query", "query", "paid")
    late = await service.apply_result(callback(payment.checkout_request_id, "0"))
    assert late.kind is ApplyKind.DETAILS  # the callback only adds the receipt
    assert await Notification.filter(payment_id=payment.id).count() == 1
    assert await service.reconcile_due("a") == 0


async def test_query_errors_are_recorded_and_retried(db: TestDatabase) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    cid = payment.checkout_request_id
    gateway.query_answers[cid] = [
        ConnectFailed("refused"),
        TimedOut("read timeout"),
        callback(cid, "1032", source="query"),
    ]
    for _ in range(2):
        clock.advance(300)
        assert await service.reconcile_due("a") == 1
        assert (await service.get(payment.id)).status is S.PENDING
    errors = [e for e in await service.timeline(payment.id) if e.kind == "query_error"]
    assert [e.detail["error"] for e in errors] == ["ConnectFailed", "TimedOut"]
    clock.advance(300)
    await service.reconcile_due("a")
    assert (await service.get(payment.id)).status is S.CANCELLED


async def test_two_instances_never_query_the_same_payment_at_once(db: TestDatabase) -> None:
    gate = asyncio.Event()
    gateway, clock = FakeDaraja(query_gate=gate), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    clock.advance(30)
    first = asyncio.create_task(service.reconcile_due("instance-a"))
    for _ in range(100):
        if gateway.queries:
            break
        await asyncio.sleep(0.01)
    held = await Payment.get(id=payment.id)
    assert held.claimed_by == "instance-a"
    assert await service.reconcile_due("instance-b") == 0
    gate.set()
    assert await first == 1
    assert gateway.queries == [payment.checkout_request_id]


async def test_a_crashed_instances_lease_expires(db: TestDatabase) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    clock.advance(30)
    await Payment.filter(id=payment.id).update(
        claimed_by="crashed", claimed_until=clock.now + timedelta(seconds=60)
    )
    assert await service.reconcile_due("b") == 0
    clock.advance(61)
    assert await service.reconcile_due("b") == 1
    assert gateway.queries == [payment.checkout_request_id]


async def test_reconcile_due_respects_its_limit_and_order(db: TestDatabase) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    payments = []
    for user in range(3):
        payments.append(await start(service, user_id=user + 1, phone=f"07{user}0000000"))
        clock.advance(1)
    clock.advance(60)
    assert await service.reconcile_due("a", limit=2) == 2
    assert gateway.queries == [p.checkout_request_id for p in payments[:2]]


async def test_expire_overdue_tells_the_customer_once(db: TestDatabase) -> None:
    clock = Clock()
    service = make_service(clock=clock)
    old = await start(service, user_id=1, phone="0711000000")
    clock.advance(100)
    young = await start(service, user_id=2, phone="0722000000")
    clock.advance(81)
    assert await service.expire_overdue() == 1
    assert (await service.get(old.id)).status is S.EXPIRED
    assert (await service.get(young.id)).status is S.PENDING
    assert await service.expire_overdue() == 0
    notes = await Notification.filter(payment_id=old.id)
    assert [(n.kind, n.chat_id) for n in notes] == [(NotificationKind.EXPIRED, 101)]
    event = (await service.timeline(old.id))[-1]
    assert (event.kind, event.from_status, event.to_status) == ("expired", "pending", "expired")


@pytest.mark.rows_set_by_hand
async def test_a_push_interrupted_mid_flight_ends_unknown_then_expired(db: TestDatabase) -> None:
    clock = Clock()
    service = make_service(clock=clock)
    draft = await service.create_payment(
        user_id=7, chat_id=7, language="en", amount=100, phone="0712345678"
    )
    # What a killed process leaves behind: pushing, never answered.
    await Payment.filter(id=draft.id).update(status=S.PUSHING, pushed_at=clock.now)
    clock.advance(181)
    await service.expire_overdue()
    stored = await service.get(draft.id)
    assert stored.status is S.EXPIRED
    kinds = [(e.kind, e.to_status) for e in await service.timeline(draft.id)]
    assert ("push_unknown", "unknown") in kinds and kinds[-1] == ("expired", "expired")


async def test_reconciler_resumes_pending_work_and_survives_errors(
    db: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    payment = await start(service)
    gateway.query_answers[payment.checkout_request_id] = [
        callback(payment.checkout_request_id, "1037", source="query")
    ]
    clock.advance(30)
    # A new process: a fresh Reconciler picks up what the database says is pending.
    reconciler = Reconciler(service, owner="restarted", interval=0.01)
    assert await reconciler.run_once() == 1
    assert (await service.get(payment.id)).status is S.EXPIRED

    calls = 0
    original = service.reconcile_due

    async def flaky(owner: str, limit: int = 50) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")
        return await original(owner, limit)

    service.reconcile_due = flaky  # type: ignore[method-assign]
    stop = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="payments.reconciler"):
        task = asyncio.create_task(reconciler.run(stop))
        for _ in range(200):
            if calls >= 3:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 1)
    assert calls >= 3  # it kept going after the failure
    assert "reconciler pass failed" in caplog.text
