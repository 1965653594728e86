"""Lookups for the bot and admins: find, recent, pending, timeline, day summary."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from payments.errors import PaymentNotFound
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.payments import callback, make_service, start

S = PaymentStatus


async def test_find_by_id_checkout_receipt_or_phone(db: TestDatabase) -> None:
    service = make_service()
    first = await start(service, user_id=1, phone="0711000000")
    await service.apply_result(callback(first.checkout_request_id, receipt="TC2FIND001"))
    second = await start(service, user_id=2, phone="0722000000")
    latest_same_phone = await start(service, user_id=1, phone="0711000000")

    assert (await service.find(str(second.id))).id == second.id
    assert (await service.find(f"#{second.id}")).id == second.id
    assert (await service.find(second.checkout_request_id)).id == second.id
    assert (await service.find("TC2FIND001")).id == first.id
    assert (await service.find("tc2find001")).id == first.id
    assert (await service.find("+254 711 000 000")).id == latest_same_phone.id
    assert (await service.find("0711000000")).id == latest_same_phone.id
    assert await service.find("0733000000") is None
    assert await service.find("no such thing") is None
    assert await service.find("") is None
    with pytest.raises(PaymentNotFound):
        await service.get(123456)


async def test_recent_pending_and_last_phone(db: TestDatabase) -> None:
    clock = Clock()
    service = make_service(clock=clock)
    a = await start(service, user_id=1, phone="0711000000")
    await service.apply_result(callback(a.checkout_request_id, "1032"))
    b = await start(service, user_id=1, phone="0711000001")
    clock.advance(100)
    c = await start(service, user_id=2, phone="0722000000")

    assert [p.id for p in await service.recent_for_user(1)] == [b.id, a.id]
    assert [p.id for p in await service.recent_for_user(1, limit=1)] == [b.id]
    assert [p.id for p in await service.recent(limit=2)] == [c.id, b.id]
    assert [p.id for p in await service.pending()] == [b.id, c.id]
    assert [p.id for p in await service.pending_older_than(50)] == [b.id]
    assert await service.last_phone_for_user(1) == "254711000001"
    assert await service.last_phone_for_user(99) is None


async def test_status_message_and_timeline(db: TestDatabase) -> None:
    service = make_service()
    payment = await start(service)
    await service.set_status_message(payment.id, 555)
    assert (await service.get(payment.id)).status_message_id == 555
    await service.apply_result(callback(payment.checkout_request_id))
    kinds = [e.kind for e in await service.timeline(payment.id)]
    assert kinds == ["created", "push_requested", "pushed", "callback"]


async def test_day_summary_counts_a_nairobi_day(db: TestDatabase) -> None:
    # 20:30 UTC on 1 March is 23:30 in Nairobi; 21:30 UTC is already 2 March there.
    clock = Clock(datetime(2026, 3, 1, 20, 30, tzinfo=UTC))
    service = make_service(clock=clock)
    yesterday = await start(service, user_id=1, phone="0711000000", amount=999)
    await service.apply_result(callback(yesterday.checkout_request_id, amount=999))
    clock.advance(3600)
    paid = await start(service, user_id=2, phone="0722000000", amount=1500)
    await service.apply_result(callback(paid.checkout_request_id, amount=1500, receipt="R2"))
    cancelled = await start(service, user_id=3, phone="0733000000", amount=50)
    await service.apply_result(callback(cancelled.checkout_request_id, "1032"))
    await start(service, user_id=4, phone="0744000000", amount=70)  # still pending
    flagged = await start(service, user_id=5, phone="0755000000", amount=300)
    await service.apply_result(callback(flagged.checkout_request_id, amount=30, receipt="R5"))

    summary = await service.day_summary(date(2026, 3, 2))
    assert summary.day == date(2026, 3, 2)
    assert summary.counts == {"paid": 1, "cancelled": 1, "pending": 2}
    assert summary.total_received == 1500
    assert summary.success_rate == 0.5
    assert summary.pending_now == 2
    assert summary.last_callback_at == clock.now

    earlier = await service.day_summary(date(2026, 3, 1))
    assert (earlier.counts, earlier.total_received, earlier.success_rate) == (
        {"paid": 1},
        999,
        1.0,
    )
    today = await service.day_summary()  # the clock's Nairobi day
    assert today.day == date(2026, 3, 2)
    empty = await service.day_summary(date(2026, 2, 1))
    assert (empty.counts, empty.total_received, empty.success_rate) == ({}, 0, None)
