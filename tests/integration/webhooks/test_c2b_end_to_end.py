"""Menu payments end to end, on SQLite and PostgreSQL: the customer talks to the bot through the
real Telegram webhook route, the emulator POSTs STK callbacks and C2B confirmations to the real
routes, the notifier edits the customer's message. C2B URLs are registered with the emulator
through the real Daraja client, as `python -m bot register-c2b` does."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot import texts
from daraja.emulator import Emulator
from offline.chat import run_chat
from offline.session import ADMIN, CUSTOMER, Line, OfflineSession
from payments.models import C2BPayment, Notification, NotificationKind, Payment
from tests.support.db import (
    PostgresUnavailable,
    create_postgres_database,
    drop_postgres_database,
    postgres_required,
)
from webhooks.wiring import c2b_urls

WAIT = 10.0


@pytest.fixture(params=["sqlite", "postgres"])
async def session(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OfflineSession]:
    overrides: dict[str, object] = {"emulator_callback_delay_seconds": 0.05}
    url = None
    if request.param == "postgres":
        try:
            url = await create_postgres_database()
        except PostgresUnavailable as exc:
            if postgres_required():
                raise
            pytest.skip(str(exc))
        overrides["database_url"] = url
    try:
        async with OfflineSession.open(directory=tmp_path, **overrides) as opened:
            runtime = opened.runtime
            assert runtime.daraja is not None
            confirm, validate = c2b_urls(opened.settings, runtime.callback_token)
            await runtime.daraja.register_c2b(
                version=opened.settings.mpesa_c2b_version,
                confirmation_url=confirm,
                validation_url=validate,
            )
            yield opened
    finally:
        if url is not None:
            await drop_postgres_database(url)


def emulator_of(session: OfflineSession) -> Emulator:
    assert session.runtime.emulator_app is not None
    return session.runtime.emulator_app.state.emulator  # type: ignore[no-any-return]


def _has(fragment: str) -> Callable[[Line], bool]:
    return lambda line: line.speaker.startswith("bot") and fragment in line.text


async def _pay_to_prompt(session: OfflineSession, amount: str, phone: str) -> Payment:
    await session.say(CUSTOMER, "/pay")
    await session.say(CUSTOMER, amount)
    await session.say(CUSTOMER, phone)
    await session.press_data(CUSTOMER, "pay:")
    payment = await Payment.filter(user_id=CUSTOMER.id).order_by("-id").first()
    assert payment is not None and payment.account_number
    return payment


def _status_line(session: OfflineSession, payment: Payment) -> str:
    for message in session.fake.chat_messages(CUSTOMER.id):
        if message.message_id == payment.status_message_id:
            return message.text
    raise AssertionError("no status message")


async def test_a_menu_payment_after_1037_edits_the_message_to_paid(
    session: OfflineSession,
) -> None:
    payment = await _pay_to_prompt(session, "500", "0712 341 037")  # the emulator answers 1037
    lines = await session.wait_for(CUSTOMER, _has(payment.account_number), within=WAIT)
    steps = next(line.text for line in lines if payment.account_number in line.text)
    assert texts.t("en", "menu_fallback_intro") in steps
    assert f"Business number: {session.settings.mpesa_shortcode}" in steps
    assert f"Account number: {payment.account_number}" in steps and "KES 500" in steps

    emulator_of(session).c2b.pay_bill("254712341037", 500, payment.account_number.lower())
    await session.wait_for(CUSTOMER, _has("Paid ✓"), within=WAIT)
    paid = await Payment.get(id=payment.id)
    assert paid.status == "paid" and paid.receipt
    text = _status_line(session, paid)
    assert "Paid ✓" in text and f"Receipt {paid.receipt}" in text
    row = await C2BPayment.get(trans_id=paid.receipt)
    assert row.status == "matched" and row.payment_id == paid.id


async def test_a_lost_stk_callback_is_settled_by_the_c2b_confirmation(
    session: OfflineSession,
) -> None:
    emulator = emulator_of(session)
    emulator.drop_callbacks(phone="254712345678")
    payment = await _pay_to_prompt(session, "1500", "0712 345 678")
    await session.wait_for(CUSTOMER, _has("Paid ✓"), within=WAIT)
    paid = await Payment.get(id=payment.id)
    [stk] = [
        r for r in emulator.requests.values() if r.checkout_request_id == paid.checkout_request_id
    ]
    assert stk.deliveries == []  # no STK callback ever reached us
    assert paid.status == "paid" and paid.receipt == stk.receipt
    assert f"Receipt {stk.receipt}" in _status_line(session, paid)
    assert await Notification.filter(payment_id=paid.id, kind=NotificationKind.PAID).count() == 1


@pytest.mark.parametrize("order", ["before", "after"])
async def test_stk_callback_and_c2b_confirmation_give_one_payment_one_message(
    session: OfflineSession, order: str
) -> None:
    emulator = emulator_of(session)
    emulator.c2b.configure(stk_order=order)  # type: ignore[arg-type]
    payment = await _pay_to_prompt(session, "1500", "0712 345 678")
    await session.wait_for(CUSTOMER, _has("Paid ✓"), within=WAIT)
    async with asyncio.timeout(WAIT):
        await emulator.drain()
    paid = await Payment.get(id=payment.id)
    [stk] = [
        r for r in emulator.requests.values() if r.checkout_request_id == paid.checkout_request_id
    ]
    assert [d.status_code for d in stk.deliveries] == [200]
    transaction = emulator.c2b.stk_transaction(paid.receipt or "")
    assert transaction is not None and [d.status_code for d in transaction.deliveries] == [200]
    # One message for the customer (the shop's announcement goes to the admins).
    assert await Notification.filter(payment_id=paid.id, chat_id=paid.chat_id).count() == 1
    assert (await C2BPayment.get(trans_id=paid.receipt)).status == "matched"


async def test_the_menu_button_gives_the_steps_and_the_money_edits_them_to_paid(
    session: OfflineSession,
) -> None:
    emulator = emulator_of(session)
    emulator.set_callback_delay(60)  # the prompt never comes (phone off)
    payment = await _pay_to_prompt(session, "250", "0712 345 678")
    lines = await session.press_data(CUSTOMER, "menupay:")
    assert any(payment.account_number in line.text for line in lines)
    emulator.c2b.pay_bill("254712345678", 250, payment.account_number)
    await session.wait_for(CUSTOMER, _has("Paid ✓"), within=WAIT)
    paid = await Payment.get(id=payment.id)
    assert paid.status == "paid" and f"Receipt {paid.receipt}" in _status_line(session, paid)


async def test_a_walk_in_payment_is_announced_listed_and_attached(
    session: OfflineSession,
) -> None:
    payment = await _pay_to_prompt(session, "300", "0712 341 032")  # cancelled on the phone
    await session.wait_for(
        CUSTOMER, _has(texts.failure_reason("en", "1032", merchant="Duka la Mama")), within=WAIT
    )
    emulator_of(session).c2b.pay_bill("254799000111", 300, "WRONG-NO")
    lines = await session.wait_for(ADMIN, _has("matches no payment"), within=WAIT)
    row = await C2BPayment.get(bill_ref="WRONG-NO")
    alert = next(line.text for line in lines if "matches no payment" in line.text)
    assert f"/attach {row.id}" in alert and "KES 300" in alert and "2547 ***** 111" in alert
    listed = await session.say(ADMIN, "/unmatched", speaker="admin")
    assert any(f"C2B #{row.id}" in line.text and row.trans_id in line.text for line in listed)
    done = await session.say(ADMIN, f"/attach {row.id} {payment.id}", speaker="admin")
    assert any(f"payment #{payment.id}: paid" in line.text for line in done)
    await session.wait_for(CUSTOMER, _has("Paid ✓"), within=WAIT)
    paid = await Payment.get(id=payment.id)
    assert paid.status == "paid" and paid.receipt == row.trans_id
    assert (await C2BPayment.get(id=row.id)).status == "attached"
    assert "no unmatched" in " ".join(
        line.text.lower() for line in await session.say(ADMIN, "/unmatched", speaker="admin")
    )


async def test_chat_pays_from_the_menu() -> None:
    """`python -m bot chat`: "menu: <amount> <account>" pays from the M-Pesa menu."""

    class Typed(io.StringIO):
        """Lines typed by a person: the next one only once the bot has answered."""

        def __init__(self, lines: list[str]) -> None:
            super().__init__()
            self.lines = lines

        def readline(self, size: int = -1) -> str:
            if not self.lines:
                return ""
            line = self.lines.pop(0)
            if line.startswith("menu:"):
                time.sleep(1.0)  # the prompt fails first (1037)
            return line

    out = io.StringIO()
    typed = Typed(["/pay\n", "500\n", "0712 341 037\n", "#1\n", "menu: 500 X\n"])
    assert await run_chat(typed, out, settle_seconds=10.0) == 0
    text = out.getvalue()
    assert "Account number: LB" in text
    assert "you paid KES 500 from the M-Pesa menu" in text
    assert "Paid ✓" in text
