"""The customer is told what M-Pesa said, whatever came first (issue: late receipts, wrong early
answers, unmatched money, a database drop after the push, drafts on someone else's number).

Each test drives one instance through its real routes: Telegram updates through the handler
stack, Daraja's callbacks posted to the callback route from a Safaricom address, the emulator
behind the Daraja client, once on SQLite and once on PostgreSQL. What the customer and the
admins read is what the fake Telegram accepted.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from daraja.emulator import Emulator
from offline.fake_telegram import FakeUser
from payments.models import Payment
from payments.moves import Move
from payments.states import PaymentStatus
from tests.support.clock import Clock
from tests.support.figures import FIGURES
from tests.support.harness import CALLBACK_PATH, Instance, TelegramSeam, local_phone, phone_for
from tests.support.webhooks import callback_body

S = PaymentStatus
ADMIN = 1000  # tests.support.settings: ADMIN_IDS
NOT_CHARGED = "Nothing was charged"


async def settle(emu: Emulator) -> None:
    async with asyncio.timeout(5):
        await emu.drain()


async def post_callback(lipabot: Instance, body: dict[str, Any]) -> None:
    async with lipabot.client() as client:
        response = await client.post(CALLBACK_PATH, json=body)
    assert response.status_code == 200, response.text


def told(telegram: TelegramSeam, chat_id: int) -> list[str]:
    return telegram.texts_to(chat_id)


async def test_a_receipt_that_arrives_after_the_query_reaches_the_customer(
    lipabot_on_each_db: Instance, customer: FakeUser, emu: Emulator, clock: Clock,
    telegram: TelegramSeam,
) -> None:  # fmt: skip
    lipabot = lipabot_on_each_db
    phone = phone_for(301)
    emu.drop_callbacks(phone=phone)  # the callback is lost; only the query says "paid"
    draft = await lipabot.start_payment(customer, "500", local_phone(phone))
    payment = await lipabot.confirm(customer, draft.id)
    await settle(emu)
    clock.advance(31)
    await lipabot.reconcile()
    await lipabot.deliver()
    settled = await lipabot.service.get(payment.id)
    assert (settled.status, settled.receipt) == (S.PAID, None)
    first = told(telegram, customer.id)[-1]
    assert first.startswith("Paid ✓") and "in your M-Pesa SMS" in first and "—" not in first

    # Hours later the callback with the receipt comes after all.
    clock.advance(3 * 3600)
    (request,) = [
        r for r in emu.requests.values() if r.checkout_request_id == payment.checkout_request_id
    ]
    await post_callback(lipabot, callback_body(settled, 0, receipt=request.receipt))
    await lipabot.deliver()
    stored = await lipabot.service.get(payment.id)
    assert stored.receipt == request.receipt
    last = told(telegram, customer.id)[-1]
    assert last.startswith("Paid ✓") and f"Receipt {request.receipt}" in last
    await lipabot.say(customer, "/history")
    assert request.receipt in told(telegram, customer.id)[-1]
    assert FIGURES.checked_truth(told(telegram, customer.id), paid=True) == 0
    FIGURES.drove("truth")
    FIGURES.injected("receipt after the query")


async def test_a_success_callback_beats_an_earlier_cancellation(
    lipabot_on_each_db: Instance, customer: FakeUser, emu: Emulator, clock: Clock,
    telegram: TelegramSeam,
) -> None:  # fmt: skip
    # The sandbox's query (and sometimes production's) says 1032 for a payment the customer
    # then completes: the callback with its receipt is proof of payment.
    lipabot = lipabot_on_each_db
    phone = phone_for(302)
    emu.drop_callbacks(phone=phone)
    emu.set_outcome(phone, 1032)
    draft = await lipabot.start_payment(customer, "500", local_phone(phone))
    payment = await lipabot.confirm(customer, draft.id)
    await settle(emu)
    clock.advance(31)
    await lipabot.reconcile()
    await lipabot.deliver()
    assert (await lipabot.service.get(payment.id)).status is S.CANCELLED

    await post_callback(lipabot, callback_body(payment, 0, receipt="UKS2DT8DKK"))
    await lipabot.deliver()
    paid = await lipabot.service.get(payment.id)
    assert (paid.status, paid.receipt) == (S.PAID, "UKS2DT8DKK")
    last = told(telegram, customer.id)[-1]
    assert "confirmed your payment" in last and "Receipt UKS2DT8DKK" in last
    assert any("earlier answer said it did not go through" in m for m in told(telegram, ADMIN))
    # The cancellation came from M-Pesa's own query; its words were M-Pesa's at the time.
    assert FIGURES.checked_truth(told(telegram, customer.id)[-1:], paid=True) == 0
    FIGURES.drove("truth")
    FIGURES.injected("success after a query said cancelled")


async def test_a_success_callback_after_our_expiry_pays_and_says_so(
    lipabot_on_each_db: Instance, customer: FakeUser, emu: Emulator, clock: Clock,
    telegram: TelegramSeam,
) -> None:  # fmt: skip
    lipabot = lipabot_on_each_db
    phone = phone_for(303)
    emu.drop_callbacks(phone=phone)
    emu.hang_next_push(5.0, processed=False)  # no CheckoutRequestID: nothing to query
    draft = await lipabot.start_payment(customer, "500", local_phone(phone))
    payment = await lipabot.confirm(customer, draft.id)
    assert payment.status is S.UNKNOWN
    clock.advance(181)
    await lipabot.reconcile()
    await lipabot.deliver()
    assert (await lipabot.service.get(payment.id)).status is S.EXPIRED
    assert NOT_CHARGED not in told(telegram, customer.id)[-1]

    orphan = SimpleNamespace(
        checkout_request_id="ws_CO_02122026101500123254700000303",
        amount=500,
        phone=phone,
    )
    await post_callback(lipabot, callback_body(orphan, 0, receipt="UKS2DT8DKM"))  # type: ignore[arg-type]
    await lipabot.deliver()
    paid = await lipabot.service.get(payment.id)
    assert (paid.status, paid.receipt) == (S.PAID, "UKS2DT8DKM")
    assert "Receipt UKS2DT8DKM" in told(telegram, customer.id)[-1]
    assert FIGURES.checked_truth(told(telegram, customer.id), paid=True) == 0
    FIGURES.drove("truth")
    FIGURES.injected("success after our expiry")


async def test_unmatched_money_with_two_candidates_reaches_the_admins(
    lipabot_on_each_db: Instance, customer: FakeUser, emu: Emulator, clock: Clock,
    telegram: TelegramSeam,
) -> None:  # fmt: skip
    # Two timed-out pushes of KES 1,200 to one phone, both expired; M-Pesa then reports a
    # success for a CheckoutRequestID we never learnt. Which one was paid? A person decides.
    lipabot = lipabot_on_each_db
    phone = phone_for(304)
    ids = []
    for _ in range(2):
        emu.hang_next_push(5.0, processed=False)
        draft = await lipabot.start_payment(customer, "1200", local_phone(phone))
        ids.append((await lipabot.confirm(customer, draft.id)).id)
        clock.advance(181)
        await lipabot.reconcile()
    for payment_id in ids:
        assert (await lipabot.service.get(payment_id)).status is S.EXPIRED
    orphan = SimpleNamespace(
        checkout_request_id="ws_CO_02122026101700123254700000304", amount=1200, phone=phone
    )
    await post_callback(lipabot, callback_body(orphan, 0, receipt="UKS2DT8DKN"))  # type: ignore[arg-type]
    await post_callback(lipabot, callback_body(orphan, 0, receipt="UKS2DT8DKN"))  # type: ignore[arg-type]
    await lipabot.deliver()
    alerts = [m for m in told(telegram, ADMIN) if "matches no payment" in m]
    assert len(alerts) == 1  # the duplicate callback adds nothing
    assert f"#{ids[0]}, #{ids[1]}" in alerts[0] and "UKS2DT8DKN" in alerts[0]
    assert phone not in alerts[0] and "KES 1,200" in alerts[0]
    for payment_id in ids:
        assert (await lipabot.service.get(payment_id)).status is S.EXPIRED
    FIGURES.drove("truth")
    FIGURES.injected("unmatched success, two candidates")


async def test_a_database_drop_after_the_push_never_says_nothing_was_charged(
    lipabot_on_each_db: Instance, customer: FakeUser, emu: Emulator, clock: Clock,
    telegram: TelegramSeam,
) -> None:  # fmt: skip
    # Daraja accepted the push; writing that down failed (the database dropped the
    # connection). The customer must not read "Nothing was charged"; the callback settles it.
    lipabot = lipabot_on_each_db
    store = lipabot.service.store
    real_write = store.write
    dropped = 0

    async def drops_once(move: Move) -> Payment | None:
        nonlocal dropped
        if move.event == "pushed" and not dropped:
            dropped += 1
            raise ConnectionResetError("server closed the connection unexpectedly")
        return await real_write(move)

    store.write = drops_once  # type: ignore[method-assign]
    phone = phone_for(305)
    draft = await lipabot.start_payment(customer, "500", local_phone(phone))
    await lipabot.confirm(customer, draft.id)
    assert dropped == 1
    error = told(telegram, customer.id)[-1]
    assert NOT_CHARGED not in error and "being checked with M-Pesa" in error
    await settle(emu)  # the callback came, for a CheckoutRequestID we never stored
    clock.advance(181)
    await lipabot.reconcile()
    await lipabot.deliver()
    paid = await lipabot.service.get(draft.id)
    assert paid.status is S.PAID and paid.receipt
    assert f"Receipt {paid.receipt}" in told(telegram, customer.id)[-1]
    assert FIGURES.checked_truth(told(telegram, customer.id), paid=True) == 0
    FIGURES.drove("truth")
    FIGURES.injected("database drop between push accepted and recorded")


async def test_another_users_draft_on_my_number_does_not_block_me(
    lipabot_on_each_db: Instance, customer: FakeUser, other_customer: FakeUser, emu: Emulator,
    telegram: TelegramSeam,
) -> None:  # fmt: skip
    lipabot = lipabot_on_each_db
    phone = phone_for(306)
    await lipabot.start_payment(other_customer, "300", local_phone(phone))  # never confirmed
    mine = await lipabot.start_payment(customer, "500", local_phone(phone))
    payment = await lipabot.confirm(customer, mine.id)
    assert payment.status in (S.PENDING, S.PAID)  # the prompt went out (the emulator is quick)
    await settle(emu)
    await lipabot.deliver()
    assert (await lipabot.service.get(payment.id)).status is S.PAID
    assert told(telegram, customer.id)[-1].startswith("Paid ✓")
    assert FIGURES.checked_truth(told(telegram, customer.id), paid=True) == 0
    FIGURES.drove("truth")
    FIGURES.injected("another user's draft on my number")


def test_the_truth_check_counts_what_m_pesa_did_not_say() -> None:
    from tests.support.figures import Figures

    figures = Figures()
    assert figures.checked_truth(["Paid ✓\nReceipt X", "Nothing was charged."], paid=True) == 1
    assert figures.checked_truth(["Paid ✓\nReceipt X"], paid=False) == 1
    assert figures.checked_truth(["Cancelled. Nothing was charged."], paid=False) == 0
    assert (figures.untrue, figures.truth_checked) == (2, 3)
