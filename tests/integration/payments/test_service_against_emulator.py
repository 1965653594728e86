"""The service against the Daraja emulator: real client, real callbacks, real database.

The emulator posts its callbacks over HTTP to a tiny receiver that does what the webhook route
does — `parse_stk_callback` then `apply_result` — so these tests cover the whole loop without
the web layer: push, callback (once, twice, contradicting), query, and the timed-out push.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from daraja.callbacks import parse_stk_callback
from daraja.client import DarajaClient
from daraja.emulator import Emulator
from payments.daraja_gateway import DarajaGateway
from payments.models import Notification, NotificationKind, PaymentEvent
from payments.rules import PaymentRules
from payments.service import ApplyResult, PaymentService
from payments.states import PaymentStatus
from tests.support.daraja import emulator_daraja_config, emulator_http_client, make_emulator_app
from tests.support.db import TestDatabase

S = PaymentStatus
CALLBACK_URL = "https://lipabot.test/payments/callback/secret-token"


@dataclass
class Loop:
    service: PaymentService
    emulator: Emulator
    applied: list[ApplyResult]


@pytest.fixture
async def loop(db: TestDatabase) -> AsyncIterator[Loop]:
    applied: list[ApplyResult] = []
    holder: dict[str, PaymentService] = {}

    async def receive(request: Request) -> JSONResponse:
        result = parse_stk_callback(await request.json())
        applied.append(await holder["service"].apply_result(result))
        return JSONResponse({"ResultCode": 0, "ResultDesc": "Accepted"})

    receiver = Starlette(routes=[Route("/payments/callback/{token}", receive, methods=["POST"])])
    app = make_emulator_app(callback_app=receiver)
    emulator: Emulator = app.state.emulator
    async with emulator_http_client(app, timeout=1.0) as http:
        client = DarajaClient(emulator_daraja_config(timeout=1.0), http)
        service = PaymentService(
            DarajaGateway(client),
            rules=PaymentRules(),
            callback_url=CALLBACK_URL,
            admin_chat_ids=(1000,),
        )
        holder["service"] = service
        yield Loop(service, emulator, applied)
        await emulator.aclose()


async def _start(loop: Loop, phone: str = "0712345678", amount: int = 1500):
    return await loop.service.start_payment(
        user_id=7, chat_id=70, language="en", amount=amount, phone=phone
    )


async def _settle(loop: Loop) -> None:
    async with asyncio.timeout(5):
        await loop.emulator.drain()


async def test_push_then_callback_pays_with_exactly_one_message(loop: Loop) -> None:
    payment = await _start(loop)
    # With a zero callback delay the callback may land before start_payment returns.
    assert payment.status in {S.PENDING, S.PAID}
    assert payment.checkout_request_id.startswith("ws_CO_")
    await _settle(loop)
    paid = await loop.service.get(payment.id)
    assert paid.status is S.PAID
    assert paid.paid_amount == 1500
    assert paid.receipt and paid.receipt.isalnum()
    assert paid.transaction_time is not None
    notes = await Notification.filter(payment_id=payment.id)
    assert [(n.kind, n.chat_id) for n in notes] == [(NotificationKind.PAID, 70)]
    event = await PaymentEvent.get(payment_id=payment.id, kind="callback")
    assert event.raw_body["Body"]["stkCallback"]["CheckoutRequestID"] == (
        payment.checkout_request_id
    )


async def test_duplicate_callbacks_change_nothing(loop: Loop) -> None:
    loop.emulator.duplicate_callbacks(3)
    payment = await _start(loop)
    await _settle(loop)
    assert len(loop.applied) == 3
    # A copy can arrive before the push's answer is stored; it is replayed then. Either way:
    kinds = [e.kind for e in await loop.service.timeline(payment.id)]
    assert kinds.count("callback") == 1  # one move
    assert kinds.count("duplicate") >= 2
    assert (await loop.service.get(payment.id)).status is S.PAID
    assert await Notification.filter(payment_id=payment.id).count() == 1


async def test_1037_then_a_late_1019_is_a_conflict(loop: Loop) -> None:
    loop.emulator.late_second_callback("1019", after=0.0)
    payment = await _start(loop, phone="0712341037")
    await _settle(loop)
    stored = await loop.service.get(payment.id)
    assert (stored.status, stored.result_code) == (S.EXPIRED, "1037")
    kinds = [e.kind for e in await loop.service.timeline(payment.id)]
    assert (kinds.count("callback"), kinds.count("conflict")) == (1, 1)
    notes = await Notification.filter(payment_id=payment.id)
    assert [n.kind for n in notes] == [NotificationKind.EXPIRED]


async def test_dropped_callback_is_settled_by_query(loop: Loop) -> None:
    loop.emulator.drop_callbacks()
    payment = await _start(loop, phone="0712341032")
    await _settle(loop)
    assert (await loop.service.get(payment.id)).status is S.PENDING
    settled = await loop.service.reconcile_one(payment.id)
    assert (settled.status, settled.result_code) == (S.CANCELLED, "1032")
    notes = await Notification.filter(payment_id=payment.id)
    assert [n.kind for n in notes] == [NotificationKind.CANCELLED]


async def test_a_timed_out_push_is_not_repeated_and_its_callback_still_pays(loop: Loop) -> None:
    loop.emulator.hang_next_push(5.0, processed=True)
    payment = await _start(loop)
    # The emulator sends the callback while our push call is still waiting for its answer.
    assert payment.status in {S.UNKNOWN, S.PAID}
    await _settle(loop)
    stored = await loop.service.get(payment.id)
    assert stored.status is S.PAID  # matched by phone and amount
    assert stored.checkout_request_id is not None
    assert len(loop.emulator.snapshot()) == 1  # one prompt on the customer's phone, ever
    notes = await Notification.filter(payment_id=payment.id)
    assert [n.kind for n in notes] == [NotificationKind.PAID]
    kinds = [(e.kind, e.to_status) for e in await loop.service.timeline(payment.id)]
    assert ("push_unknown", "unknown") in kinds
    assert kinds.count(("callback", "paid")) == 1


async def test_spike_arrest_is_a_push_failure_the_customer_hears_about(loop: Loop) -> None:
    loop.emulator.spike_arrest(5)
    payment = await _start(loop)
    assert (payment.status, payment.result_code) == (S.PUSH_FAILED, "push:rate_limited")
    notes = await Notification.filter(payment_id=payment.id)
    assert [n.kind for n in notes] == [NotificationKind.PUSH_FAILED]
