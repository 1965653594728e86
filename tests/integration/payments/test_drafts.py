"""Drafts (confirmation shown, Confirm not yet tapped) have a lifetime: `DRAFT_TTL`.

A Confirm button days old must not send a PIN prompt: `push` cancels the stale draft and raises
`DraftExpired`; `expire_overdue` cancels stale drafts so they never linger.
"""

from __future__ import annotations

import pytest

from payments.errors import DraftExpired, PaymentError
from payments.service import DRAFT_TTL
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.gateway import FakeDaraja
from tests.support.payments import make_service

S = PaymentStatus


async def _draft(service, user_id: int = 7, phone: str = "0712345678"):  # type: ignore[no-untyped-def]
    return await service.create_payment(
        user_id=user_id, chat_id=user_id + 100, language="en", amount=1500, phone=phone
    )


async def test_a_stale_draft_is_cancelled_instead_of_pushed(db: TestDatabase) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    draft = await _draft(service)
    clock.advance(DRAFT_TTL.total_seconds() + 1)
    with pytest.raises(DraftExpired) as raised:
        await service.push(draft.id, user_id=7)
    assert isinstance(raised.value, PaymentError) and raised.value.payment_id == draft.id
    assert gateway.pushes == []
    stored = await service.get(draft.id)
    assert stored.status is S.CANCELLED and stored.pushed_at is None
    event = (await service.timeline(draft.id))[-1]
    assert (event.kind, event.from_status, event.to_status) == ("cancelled", "created", "cancelled")
    assert event.detail == {"by": "expired"}
    # Tapping again changes nothing and still pushes nothing.
    again = await service.push(draft.id, user_id=7)
    assert again.status is S.CANCELLED and gateway.pushes == []


async def test_a_draft_within_its_lifetime_is_pushed(db: TestDatabase) -> None:
    gateway, clock = FakeDaraja(), Clock()
    service = make_service(gateway, clock)
    draft = await _draft(service)
    clock.advance(DRAFT_TTL.total_seconds() - 1)
    pushed = await service.push(draft.id, user_id=7)
    assert pushed.status is S.PENDING and len(gateway.pushes) == 1


async def test_expire_overdue_cancels_stale_drafts_only(db: TestDatabase) -> None:
    clock = Clock()
    service = make_service(clock=clock)
    old = await _draft(service, user_id=1, phone="0711000000")
    clock.advance(DRAFT_TTL.total_seconds() - 60)
    young = await _draft(service, user_id=2, phone="0722000000")
    clock.advance(61)
    assert await service.expire_overdue() == 0  # drafts are not payments that expired
    assert (await service.get(old.id)).status is S.CANCELLED
    assert (await service.get(young.id)).status is S.CREATED
    kinds = [(e.kind, e.detail) for e in await service.timeline(old.id)]
    assert kinds[-1] == ("cancelled", {"by": "expired"})
    await service.expire_overdue()
    assert len(await service.timeline(old.id)) == len(kinds), "cancelled once"
