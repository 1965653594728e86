"""Every status change is a move checked against the one transition table (`payments.moves`)."""

from __future__ import annotations

import ast
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from payments.models import EventKind, Notification, NotificationKind, Payment, PaymentEvent
from payments.moves import InvalidMove, Move, perform
from payments.states import TRANSITIONS, InvalidTransition, PaymentStatus
from payments.stores import select_store
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.gateway import FakeDaraja
from tests.support.journal import journal_mismatches
from tests.support.payments import make_service

S = PaymentStatus
AT = datetime(2026, 3, 2, 9, 0, 20, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]


async def _row(status: PaymentStatus, n: int) -> Payment:
    return await Payment.create(
        user_id=n,
        chat_id=n,
        amount=100,
        phone=f"2547{n:08d}",
        account_reference="ref",
        status=status,
        created_at=AT,
        updated_at=AT,
    )


async def test_the_table_decides_every_pair_of_states(db: TestDatabase) -> None:
    store = select_store()
    pairs = list(itertools.product(PaymentStatus, PaymentStatus))
    for n, (current, target) in enumerate(pairs, start=1):
        payment = await _row(current, n)
        move = Move(
            EventKind.CALLBACK, current, target, payment=payment, at=AT, changes={"amount": 100}
        )
        if target in TRANSITIONS[current]:
            moved = await perform(store, move)
            assert moved is not None and moved.status is target, (current, target)
            assert (await Payment.get(id=payment.id)).status is target
            event = await PaymentEvent.get(payment_id=payment.id)
            assert (event.from_status, event.to_status) == (str(current), str(target))
        else:
            with pytest.raises(InvalidTransition):
                await perform(store, move)
            assert (await Payment.get(id=payment.id)).status is current, (current, target)
            assert not await PaymentEvent.filter(payment_id=payment.id).exists()
    assert len(pairs) == 81


async def test_a_move_finds_its_row_as_expected_or_writes_nothing(db: TestDatabase) -> None:
    payment = await _row(S.PENDING, 1)
    stale = await Payment.get(id=payment.id)
    first = Move(
        EventKind.CALLBACK,
        S.PENDING,
        S.PAID,
        payment=payment,
        at=AT,
        notify=NotificationKind.PAID,
    )
    assert await perform(select_store(), first) is not None
    second = Move(
        EventKind.CALLBACK,
        S.PENDING,
        S.CANCELLED,
        payment=stale,
        at=AT,
        notify=NotificationKind.CANCELLED,
    )
    assert await perform(select_store(), second) is None  # the row is no longer pending
    assert (await Payment.get(id=payment.id)).status is S.PAID
    assert await PaymentEvent.filter(payment_id=payment.id).count() == 1
    assert [n.kind for n in await Notification.filter(payment_id=payment.id)] == ["paid"]


@pytest.mark.parametrize(
    ("move", "message"),
    [
        (dict(changes={"status": S.PAID}), "to_status"),
        (dict(expect={"amount__gt": 5}), "unsupported"),
        (dict(expect={"receipt__isnull": False}), "isnull=True"),
        (dict(checkout_request_id="ws_CO_1"), "not both"),
    ],
)
async def test_a_malformed_move_is_refused_before_anything_is_written(
    sqlite_db: TestDatabase, move: dict, message: str
) -> None:
    payment = await _row(S.PENDING, 1)
    with pytest.raises(InvalidMove, match=message):
        await perform(
            select_store(), Move(EventKind.CALLBACK, S.PENDING, payment=payment, at=AT, **move)
        )
    assert not await PaymentEvent.filter(payment_id=payment.id).exists()


async def test_a_push_answer_after_the_payment_was_given_up_keeps_its_status(
    db: TestDatabase,
) -> None:
    # The push call takes longer than the payment timeout: meanwhile the reconciler marks the
    # stuck push unknown and then expires it. The late "accepted" answer must keep the ids (a
    # query can still settle it) without claiming the payment went pending.
    clock = Clock()
    gateway = FakeDaraja()
    service = make_service(gateway, clock=clock)

    async def given_up_meanwhile(_accepted: object) -> None:
        clock.advance(service.rules.payment_timeout_seconds + 1)
        await service.expire_overdue()

    gateway.on_push = given_up_meanwhile
    draft = await service.create_payment(
        user_id=7, chat_id=107, language="en", amount=1500, phone="0712345678"
    )
    payment = await service.push(draft.id, user_id=7)
    assert payment.status is S.EXPIRED
    assert payment.checkout_request_id == "ws_CO_02032026120000000001"
    assert await journal_mismatches() == []
    pushed = await PaymentEvent.get(payment_id=payment.id, kind=EventKind.PUSHED)
    assert (pushed.from_status, pushed.to_status) == ("expired", None)


PRODUCTION_PACKAGES = ("payments", "bot", "webhooks", "daraja", "config")


def _status_writes(path: Path) -> list[int]:
    """Lines that set a payment's status with the ORM: `.update(status=...)`,
    `Payment.create(status=...)`."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = node.func.value
        queryset_update = node.func.attr == "update" and isinstance(receiver, ast.Call)
        model_create = (
            node.func.attr == "create"
            and isinstance(receiver, ast.Name)
            and receiver.id == "Payment"
        )
        if not (queryset_update or model_create):
            continue
        if any(k.arg == "status" for k in node.keywords):
            lines.append(node.lineno)
    return lines


def test_no_code_outside_the_stores_sets_a_status() -> None:
    found = {}
    for package in PRODUCTION_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("payments/stores/"):
                continue
            if relative == "payments/outbox.py":
                continue  # notification statuses (sent, undeliverable), not payments'
            if lines := _status_writes(path):
                found[relative] = lines
    assert found == {}, f"status written outside payments/stores: {found}"


def test_the_status_write_finder_finds_one(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "async def f(body):\n"
        "    await Payment.filter(id=1).update(status='paid')\n"
        "    body.update(status='ok')\n"
        "    await Payment.create(status='created')\n"
    )
    assert _status_writes(sample) == [2, 4]
