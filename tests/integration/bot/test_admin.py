"""Admin commands for ADMIN_IDS, and a polite refusal with no data for everyone else."""

from __future__ import annotations

import pytest

from daraja.callbacks import parse_stk_query
from offline.fake_telegram import FakeUser
from payments.states import PaymentStatus
from tests.support.bot import BotHarness


async def _paid_and_pending(bot: BotHarness, customer: FakeUser, other: FakeUser) -> tuple:  # type: ignore[type-arg]
    await bot.pay_up_to_confirmation(customer, amount="1500")
    paid = await bot.confirm(customer)
    await bot.callback(paid, 0, receipt="TBF34EVY55")
    await bot.pay_up_to_confirmation(other, amount="300", phone="0722000111")
    pending = await bot.confirm(other)
    return await bot.service.get(paid.id), pending


@pytest.mark.parametrize("command", ["/status", "/status 1", "/pending", "/recent", "/reconcile 1"])
async def test_non_admins_are_refused_without_data(
    bot: BotHarness, customer: FakeUser, other_customer: FakeUser, command: str
) -> None:
    await _paid_and_pending(bot, customer, other_customer)
    reply = await bot.say(customer, command)
    assert reply == "Sorry, that command is only for the shop's staff."
    assert bot.gateway.queries == []


async def test_status_summary(
    bot: BotHarness, customer: FakeUser, other_customer: FakeUser, admin_user: FakeUser
) -> None:
    await _paid_and_pending(bot, customer, other_customer)
    reply = await bot.say(admin_user, "/status")
    assert "emulator" in reply  # the Daraja environment in use
    assert "paid: 1" in reply and "waiting for PIN: 1" in reply  # statuses in words
    assert "Received: KES 1,500" in reply
    assert "Success rate: 100%" in reply
    assert "Pending now: 1" in reply
    assert "Last M-Pesa answer:" in reply


@pytest.mark.parametrize("ref", ["id", "checkout", "TBF34EVY55", "0712345678"])
async def test_status_of_one_paid_payment_by_any_reference(
    bot: BotHarness, customer: FakeUser, other_customer: FakeUser, admin_user: FakeUser, ref: str
) -> None:
    paid, _ = await _paid_and_pending(bot, customer, other_customer)
    lookup = {"id": str(paid.id), "checkout": paid.checkout_request_id}.get(ref, ref)
    reply = await bot.say(admin_user, f"/status {lookup}")
    assert reply.startswith(f"Payment {paid.id}: KES 1,500, 2547•••••678, paid")
    assert "Receipt: TBF34EVY55" in reply
    assert "254712345678" not in reply
    assert "created" in reply and "callback" in reply  # the timeline
    assert bot.gateway.queries == []  # settled: no live query


async def test_status_of_a_pending_payment_queries_daraja_live(
    bot: BotHarness, customer: FakeUser, other_customer: FakeUser, admin_user: FakeUser
) -> None:
    _, pending = await _paid_and_pending(bot, customer, other_customer)
    reply = await bot.say(admin_user, f"/status {pending.id}")
    assert bot.gateway.queries == [pending.checkout_request_id]
    assert "Live query: still being processed" in reply

    bot.gateway.query_answer = parse_stk_query(
        {
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successsfully",
            "MerchantRequestID": pending.merchant_request_id,
            "CheckoutRequestID": pending.checkout_request_id,
            "ResultCode": "1032",
            "ResultDesc": "Request cancelled by user",
        }
    )
    reply = await bot.say(admin_user, f"/reconcile {pending.id}")
    assert reply == f"Queried M-Pesa for payment {pending.id}: now cancelled."
    assert (await bot.service.get(pending.id)).status == PaymentStatus.CANCELLED


async def test_status_unknown_reference(bot: BotHarness, admin_user: FakeUser) -> None:
    assert await bot.say(admin_user, "/status ws_CO_nope") == "No payment matches ws_CO_nope."
    assert await bot.say(admin_user, "/reconcile") == "Usage: /reconcile <payment id>"


async def test_pending_and_recent(
    bot: BotHarness, customer: FakeUser, other_customer: FakeUser, admin_user: FakeUser
) -> None:
    assert await bot.say(admin_user, "/pending") == "Nothing is pending."
    paid, pending = await _paid_and_pending(bot, customer, other_customer)
    reply = await bot.say(admin_user, "/pending")
    assert f"#{pending.id}" in reply and f"#{paid.id}" not in reply
    assert "2547•••••111" in reply
    recent = await bot.say(admin_user, "/recent 1")
    assert recent.startswith("Last 1 payments:")
    assert f"#{pending.id}" in recent and f"#{paid.id}" not in recent
    recent = await bot.say(admin_user, "/recent")
    assert f"#{pending.id}" in recent and f"#{paid.id}" in recent


@pytest.mark.parametrize("command", ["/status", "/pending", "/recent", "/pay", "/history"])
async def test_commands_are_ignored_in_groups(
    bot: BotHarness,
    customer: FakeUser,
    other_customer: FakeUser,
    admin_user: FakeUser,
    command: str,
) -> None:
    await _paid_and_pending(bot, customer, other_customer)
    sent = len(bot.fake.calls_to("sendMessage"))
    await bot.feed(bot.fake.text(admin_user, command, group_id=-100200))
    # Nothing said in the group: amounts, receipts and admin data stay private.
    assert len(bot.fake.calls_to("sendMessage")) == sent
    assert bot.fake.chat_messages(-100200) == []
