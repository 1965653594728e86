"""How payments end, as the customer reads it: each result code, push failures, the notifier."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.texts import en, sw
from daraja.errors import InvalidRequest, RateLimited, SubscriberLocked, Unavailable
from offline.fake_telegram import FakeUser
from payments.models import Notification, NotificationStatus, Payment
from payments.states import PaymentStatus
from tests.support.bot import BotHarness

CODES = {
    "1": "fail_1",
    "17": "fail_17",
    "1001": "fail_1001",
    "1019": "fail_1019",
    "1032": "fail_1032",
    "1037": "fail_1037",
    "2001": "fail_2001",
    "8006": "fail_8006",
    "2028": "fail_2028",
    "2026": "fail_outcome_expired",  # no text of its own: its outcome's words
}


@pytest.mark.parametrize("lang", ["en", "sw"])
@pytest.mark.parametrize("code", sorted(CODES))
async def test_each_result_code_reaches_the_customer_in_plain_words(
    bot: BotHarness, code: str, lang: str
) -> None:
    user = FakeUser(7000 + len(code), language_code=lang)
    await bot.pay_up_to_confirmation(user)
    payment = await bot.confirm(user)
    await bot.callback(payment, code)
    assert await bot.deliver() == 1
    catalogue = en.TEXTS if lang == "en" else sw.TEXTS
    expected = catalogue[CODES[code]].format(merchant="Duka la Mama")
    message = bot.fake.last(user.id)
    assert message.message_id == payment.status_message_id  # edited in place
    assert expected in message.text
    assert "KES 500" in message.text
    assert bot.fake.buttons(user.id)[0]["callback_data"] == "retry:500"


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (SubscriberLocked("Unable to lock subscriber"), "already has an M-Pesa prompt open"),
        (RateLimited("Spike arrest violation"), "M-Pesa is busy right now. Please try again in 30"),
        (InvalidRequest("Invalid PhoneNumber", field="PhoneNumber"), "did not accept that phone"),
        (Unavailable("503"), "M-Pesa could not be reached"),
    ],
)
async def test_push_failures_reach_the_customer_through_the_outbox(
    bot: BotHarness, customer: FakeUser, error: Exception, words: str
) -> None:
    bot.gateway.push_error = error
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    assert payment.status == PaymentStatus.PUSH_FAILED
    # The push ran in the background; its refusal is an outbox row like a callback's outcome,
    # delivered by the notifier (woken at once in a running service) into the status message.
    assert words not in bot.fake.last(customer.id).text
    assert await bot.deliver() == 1
    message = bot.fake.last(customer.id)
    assert message.message_id == payment.status_message_id  # edited in place
    assert words in message.text
    assert bot.fake.buttons(customer.id)[0]["callback_data"] == "retry:500"
    assert sum(words in t for t in bot.fake.texts(customer.id)) == 1


async def test_rate_limit_retry_after_then_delivered_once(
    bot: BotHarness, customer: FakeUser
) -> None:
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    await bot.callback(payment, 0)
    bot.fake.fail_retry_after(2, method="editMessageText")
    assert await bot.deliver() == 0
    row = await Notification.get(payment_id=payment.id)
    assert row.status == NotificationStatus.PENDING
    assert row.attempts == 1
    assert "RetryAfter" in (row.last_error or "")
    delay = (row.next_attempt_at - row.created_at).total_seconds()
    assert 1 <= delay <= 4
    # Not due yet: nothing happens now.
    assert await bot.deliver() == 0
    await Notification.filter(id=row.id).update(next_attempt_at=row.created_at)
    assert await bot.deliver() == 1  # after the bot's whole pause of 2 s (bot.limiter)
    edits = [c for c in bot.fake.calls_to("editMessageText") if "Paid" in c["text"]]
    assert len(edits) == 2  # the refused one and the delivered one
    assert bot.fake.last(customer.id).text.startswith("Paid ✓")
    assert (await Notification.get(id=row.id)).status == NotificationStatus.SENT


async def test_server_errors_back_off(bot: BotHarness, customer: FakeUser) -> None:
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    await bot.callback(payment, 1037)
    bot.fake.fail_server_error(502, times=None)
    assert await bot.deliver() == 0
    row = await Notification.get(payment_id=payment.id)
    assert row.status == NotificationStatus.PENDING
    assert 1 <= (row.next_attempt_at - row.created_at).total_seconds() <= 4


async def test_blocked_user_is_undeliverable_not_retried(
    bot: BotHarness, customer: FakeUser
) -> None:
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    await bot.callback(payment, 0)
    bot.fake.block_chat(customer.id)
    assert await bot.deliver() == 0
    row = await Notification.get(payment_id=payment.id, kind="paid")
    assert row.status == NotificationStatus.UNDELIVERABLE
    assert "blocked" in (row.last_error or "")

    def to_customer() -> int:
        return sum(str(c.params.get("chat_id")) == str(customer.id) for c in bot.fake.calls)

    calls = to_customer()
    await bot.deliver()  # the admins' alert about it may go out now
    assert to_customer() == calls  # the customer is never tried again


async def test_status_message_gone_falls_back_to_a_new_message(
    bot: BotHarness, customer: FakeUser
) -> None:
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    del bot.fake.messages[customer.id][payment.status_message_id]
    await bot.callback(payment, 0, receipt="TBF34EVY56")
    assert await bot.deliver() == 1
    assert "Receipt TBF34EVY56" in bot.fake.last(customer.id).text


async def test_admins_get_alerts(bot: BotHarness, customer: FakeUser, admin_user: FakeUser) -> None:
    await bot.pay_up_to_confirmation(customer, amount="500")
    payment = await bot.confirm(customer)
    fresh = await bot.service.get(payment.id)
    from daraja.callbacks import parse_stk_callback
    from tests.support.bot import callback_body

    body = callback_body(fresh, 0)
    body["Body"]["stkCallback"]["CallbackMetadata"]["Item"][0]["Value"] = 5  # paid too little
    await bot.service.apply_result(parse_stk_callback(body))
    await bot.deliver()
    alert = bot.fake.last(admin_user.id).text
    assert alert.startswith(
        f"⚠ Payment #{payment.id}: M-Pesa reports KES 5 paid, but KES 500 was asked, "
        "so it was not marked paid."
    )
    assert f"/status {payment.id}" in alert
    assert "254712345678" not in alert


async def test_run_loop_delivers_within_milliseconds_of_notify_soon(
    bot: BotHarness, customer: FakeUser
) -> None:
    import asyncio
    import time

    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    stop = asyncio.Event()
    task = asyncio.create_task(bot.notifier.run(stop, interval=30))
    await asyncio.sleep(0.05)  # the loop is now asleep for up to 30 s
    await bot.callback(payment, 0)
    started = time.monotonic()
    bot.notifier.notify_soon()
    message = bot.fake.last(customer.id)
    async with asyncio.timeout(2):
        await bot.fake.wait_until(lambda: message.text.startswith("Paid"))
    elapsed = time.monotonic() - started
    stop.set()
    await asyncio.wait_for(task, 1)
    assert message.text.startswith("Paid ✓")
    assert elapsed < 5  # the loop sleeps 30 s between ticks: only the wake-up explains this


async def test_a_row_that_cannot_be_delivered_does_not_block_the_others(
    bot: BotHarness, customer: FakeUser
) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    orphan = await Notification.create(
        payment_id=None, chat_id=customer.id, kind="paid", next_attempt_at=now, created_at=now
    )
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    await bot.callback(payment, 0)
    assert await bot.deliver() == 1
    assert bot.fake.last(customer.id).text.startswith("Paid ✓")
    orphan = await Notification.get(id=orphan.id)
    assert orphan.status == NotificationStatus.UNDELIVERABLE
    assert orphan.last_error == "payment not found"


async def test_alerts_for_a_removed_admin_are_not_sent(bot: BotHarness, customer: FakeUser) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    row = await Notification.create(
        payment_id=payment.id, chat_id=999, kind="admin_alert", topic="amount_mismatch",
        detail={"reason": "amount_mismatch"}, next_attempt_at=now, created_at=now,
    )  # fmt: skip
    assert await bot.deliver() == 0
    assert (await Notification.get(id=row.id)).status == NotificationStatus.UNDELIVERABLE
    assert bot.fake.chat_messages(999) == []


@pytest.mark.parametrize("late_code", [None, "1", "1032"])
@pytest.mark.parametrize("lang", ["en", "sw"])
async def test_our_own_timeout_never_says_nothing_was_charged(
    bot: BotHarness, lang: str, late_code: str | None
) -> None:
    """No final answer reached us: M-Pesa may have taken the money, so the words say so.

    `late_code`: a failure Daraja reported after our expiry but before the message went out
    (recorded quietly; the sandbox query may even say FAILED for a paid payment).
    """
    user = FakeUser(7100, language_code=lang)
    await bot.pay_up_to_confirmation(user)
    payment = await bot.confirm(user)
    await Payment.filter(id=payment.id).update(
        pushed_at=payment.pushed_at - timedelta(seconds=bot.service.rules.payment_timeout_seconds)
    )
    assert await bot.service.expire_overdue() == 1
    if late_code is not None:
        await bot.callback(payment, late_code)
    assert await bot.deliver() == 1

    catalogue = en.TEXTS if lang == "en" else sw.TEXTS
    message = bot.fake.last(user.id)
    assert message.message_id == payment.status_message_id
    assert message.text == catalogue["expired"].format(amount="KES 500")
    for never in ("Nothing was charged", "Hakuna pesa iliyokatwa"):
        assert never not in message.text
    assert "SMS" in message.text
    assert bot.fake.buttons(user.id)[0]["callback_data"] == "retry:500"


@pytest.mark.parametrize("code", ["1037", "1019", "1036", "2026"])
async def test_a_daraja_reported_expiry_keeps_its_own_words(bot: BotHarness, code: str) -> None:
    user = FakeUser(7200)
    await bot.pay_up_to_confirmation(user)
    payment = await bot.confirm(user)
    await bot.callback(payment, code)
    assert await bot.deliver() == 1
    text = bot.fake.last(user.id).text
    assert text != en.TEXTS["expired"].format(amount="KES 500")
    assert text.startswith("Payment of KES 500 not completed.")
