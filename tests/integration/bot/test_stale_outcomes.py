"""A message queued for an outcome the payment no longer has is not sent: the payment's current
outcome is what the customer reads (its own message is queued with the move that settled it)."""

from __future__ import annotations

from datetime import timedelta

from bot.texts import en
from offline.fake_telegram import FakeUser
from payments.models import Notification, NotificationKind, NotificationStatus, Payment
from tests.support.bot import BotHarness
from tests.support.figures import FIGURES


async def test_an_expiry_message_still_queued_when_the_payment_was_paid_is_not_sent(
    bot: BotHarness, customer: FakeUser
) -> None:
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    await Payment.filter(id=payment.id).update(
        pushed_at=payment.pushed_at - timedelta(seconds=bot.service.rules.payment_timeout_seconds)
    )
    assert await bot.service.expire_overdue() == 1
    # Before the "expired" message went out, M-Pesa's success callback paid it after all.
    await bot.callback(payment, 0, receipt="TBF34EVY57")
    assert (await Payment.get(id=payment.id)).status == "paid"

    await bot.deliver()
    status = bot.fake.messages[customer.id][payment.status_message_id]
    expired = en.TEXTS["expired"].format(amount="KES 500")
    assert expired not in [status.text, *status.history], "a stale outcome reached the customer"
    assert "TBF34EVY57" in status.text
    stale = await Notification.get(payment_id=payment.id, kind=NotificationKind.EXPIRED)
    assert stale.status == NotificationStatus.UNDELIVERABLE
    assert (stale.last_error or "").startswith("superseded")
    assert await bot.deliver() == 0
    FIGURES.injected("outcome changed before its message went out")
    FIGURES.delivered({customer.id: 1}, {customer.id: 1 + status.history.count(expired)})


async def test_a_stale_message_with_no_message_for_the_new_state_is_replaced(
    bot: BotHarness, customer: FakeUser
) -> None:
    """Should a move ever change a payment without queuing its own message, the stale one is
    not sent as it was: the customer reads the payment's current outcome instead."""
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    await Payment.filter(id=payment.id).update(
        pushed_at=payment.pushed_at - timedelta(seconds=bot.service.rules.payment_timeout_seconds)
    )
    assert await bot.service.expire_overdue() == 1
    await bot.callback(payment, 0, receipt="TBF34EVY58")
    await Notification.filter(payment_id=payment.id, kind=NotificationKind.LATE_PAID).delete()

    assert await bot.deliver() == 1
    status = bot.fake.messages[customer.id][payment.status_message_id]
    expired = en.TEXTS["expired"].format(amount="KES 500")
    assert expired not in [status.text, *status.history]
    assert status.text.startswith("Paid ✓") and "TBF34EVY58" in status.text
    assert await bot.deliver() == 0
