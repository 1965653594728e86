"""Issue 13: admin views a shop owner can read, in English and Kiswahili.

Flagged payments say what is wrong, "Live query" appears only when a query was made, /reconcile
says when it did not ask, alerts are sentences, and checkout ids (which end in the payer's
number) are masked.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.texts import t
from daraja.callbacks import parse_stk_callback, parse_stk_query
from offline.fake_telegram import FakeUser
from payments.models import Notification, Payment
from payments.states import PaymentStatus
from tests.support.bot import BotHarness, callback_body

# A CheckoutRequestID as Daraja makes them since late 2022: the payer's number at the end.
REAL_CHECKOUT = "ws_CO_22112022152650652254712345678"
MASKED_CHECKOUT = "ws_CO_22112022152650652•••••••••678"


@pytest.fixture(params=["en", "sw"])
def admin(request: pytest.FixtureRequest) -> FakeUser:
    return FakeUser(id=1000, first_name="Mama Duka", language_code=request.param)


def lang_of(user: FakeUser) -> str:
    return str(user.language_code)


async def flagged_payment(bot: BotHarness, customer: FakeUser, paid: int = 300) -> Payment:
    await bot.pay_up_to_confirmation(customer, amount="500")
    payment = await bot.confirm(customer)
    body = callback_body(await bot.service.get(payment.id), 0)
    body["Body"]["stkCallback"]["CallbackMetadata"]["Item"][0]["Value"] = paid
    await bot.service.apply_result(parse_stk_callback(body))
    flagged = await bot.service.get(payment.id)
    assert flagged.flagged_reason == "amount_mismatch"
    return flagged


async def test_a_flagged_payment_says_what_is_wrong_and_is_not_queried(
    bot: BotHarness, customer: FakeUser, admin: FakeUser
) -> None:
    lang = lang_of(admin)
    payment = await flagged_payment(bot, customer)
    reply = await bot.say(admin, f"/status {payment.id}")
    flag = t(lang, "admin_flagged_amount_mismatch", paid="KES 300", expected="KES 500")
    assert reply.startswith(f"{t(lang, 'admin_payment').split(' ')[0]} {payment.id}: KES 500")
    assert flag in reply.splitlines()[0]
    assert t(lang, "status_pending") not in reply.splitlines()[0]
    assert t(lang, "admin_live_query", answer="").split(":")[0] not in reply
    assert bot.gateway.queries == []
    # The card in words, no key=value dumps: M-Pesa's answer and the timeline's details.
    assert "=" not in reply
    assert f"{t(lang, 'status_paid')} ({t(lang, 'admin_detail_code', code='0')})" in reply
    assert t(lang, "event_amount_mismatch") in reply and "KES 300" in reply


def test_the_english_flag_is_in_words() -> None:
    flag = t("en", "admin_flagged_amount_mismatch", paid="KES 300", expected="KES 500")
    assert flag == "flagged: amount mismatch (paid KES 300, expected KES 500)"


async def test_a_waiting_payment_is_queried_live_and_says_so(
    bot: BotHarness, customer: FakeUser, admin: FakeUser
) -> None:
    lang = lang_of(admin)
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    reply = await bot.say(admin, f"/status {payment.id}")
    assert bot.gateway.queries == [payment.checkout_request_id]
    assert t(lang, "admin_live_query", answer=t(lang, "admin_live_processing")) in reply
    assert t(lang, "status_pending") in reply.splitlines()[0]


async def test_reconcile_of_a_final_payment_says_it_did_not_query(
    bot: BotHarness, customer: FakeUser, admin: FakeUser
) -> None:
    lang = lang_of(admin)
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    await bot.callback(payment, 0)
    reply = await bot.say(admin, f"/reconcile {payment.id}")
    why = t(lang, "admin_no_query_final", status=t(lang, "status_paid"))
    assert reply == t(lang, "admin_reconcile_no_query", id=payment.id, why=why)
    assert bot.gateway.queries == []


def test_the_english_no_query_answer() -> None:
    why = t("en", "admin_no_query_final", status="paid")
    assert t("en", "admin_reconcile_no_query", id=7, why=why) == (
        "Did not query M-Pesa about payment 7: it is paid, which is final."
    )


async def test_reconcile_of_a_flagged_payment_says_why_it_did_not_query(
    bot: BotHarness, customer: FakeUser, admin: FakeUser
) -> None:
    lang = lang_of(admin)
    payment = await flagged_payment(bot, customer)
    reply = await bot.say(admin, f"/reconcile {payment.id}")
    why = t(lang, "admin_no_query_flagged")
    assert reply == t(lang, "admin_reconcile_no_query", id=payment.id, why=why)
    assert bot.gateway.queries == []


async def test_reconcile_that_queried_gives_the_new_status_in_words(
    bot: BotHarness, customer: FakeUser, admin: FakeUser
) -> None:
    lang = lang_of(admin)
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    bot.gateway.query_answer = parse_stk_query(
        {
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successsfully",
            "MerchantRequestID": payment.merchant_request_id,
            "CheckoutRequestID": payment.checkout_request_id,
            "ResultCode": "1032",
            "ResultDesc": "Request cancelled by user",
        }
    )
    reply = await bot.say(admin, f"/reconcile {payment.id}")
    status = t(lang, "status_cancelled")
    assert reply == t(lang, "admin_reconciled", id=payment.id, status=status)
    assert bot.gateway.queries == [payment.checkout_request_id]


async def test_cards_mask_the_checkout_id_and_speak_the_admins_language(
    bot: BotHarness, customer: FakeUser, admin: FakeUser
) -> None:
    lang = lang_of(admin)
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    await bot.callback(payment, 0)
    await Payment.filter(id=payment.id).update(checkout_request_id=REAL_CHECKOUT)
    reply = await bot.say(admin, f"/status {payment.id}")
    assert MASKED_CHECKOUT in reply
    assert "254712345678" not in reply
    assert t(lang, "event_created") in reply and t(lang, "event_callback") in reply
    assert t(lang, "status_paid") in reply.splitlines()[0]


async def test_the_day_summary_counts_statuses_in_words(
    bot: BotHarness, customer: FakeUser, other_customer: FakeUser, admin: FakeUser
) -> None:
    lang = lang_of(admin)
    await bot.pay_up_to_confirmation(customer)
    await bot.callback(await bot.confirm(customer), 0)
    await bot.pay_up_to_confirmation(other_customer, phone="0722000111")
    await bot.confirm(other_customer)
    reply = await bot.say(admin, "/status")
    assert f"{t(lang, 'status_paid')}: 1" in reply
    assert f"{t(lang, 'status_pending')}: 1" in reply
    assert "pending: 1" not in reply  # not the raw status name


@pytest.mark.parametrize(
    ("topic", "detail"),
    [
        ("amount_mismatch", {"paid_amount": 300, "expected_amount": 500, "receipt": "TBF1"}),
        ("receipt_conflict", {"receipt": "TBF2"}),
        ("second_receipt", {"receipt": "TBF3"}),
        ("paid_after_final", {"paid_amount": 500, "receipt": "TBF4"}),
        ("something_new", {}),
    ],
)
async def test_alerts_are_sentences_with_the_checkout_masked(
    bot: BotHarness, customer: FakeUser, admin: FakeUser, topic: str, detail: dict
) -> None:  # type: ignore[type-arg]
    lang = lang_of(admin)
    await bot.pay_up_to_confirmation(customer)
    payment = await bot.confirm(customer)
    now = datetime.now(UTC)
    await Notification.create(
        payment_id=payment.id,
        chat_id=admin.id,
        language=lang,
        kind="admin_alert",
        topic=topic,
        detail={"reason": topic, "checkout_request_id": REAL_CHECKOUT, **detail},
        next_attempt_at=now,
        created_at=now,
    )
    assert await bot.deliver() == 1
    alert = bot.fake.last(admin.id).text
    assert alert.startswith("⚠")
    assert MASKED_CHECKOUT in alert and "254712345678" not in alert
    assert "=" not in alert and "_" not in alert.replace(MASKED_CHECKOUT, "")
    assert f"/status {payment.id}" in alert
    for value in detail.values():
        if isinstance(value, str):
            assert value in alert


def test_the_english_amount_alert_reads_as_a_sentence() -> None:
    text = t(
        "en",
        "alert_amount_mismatch",
        payment_id=5,
        paid="KES 300",
        expected="KES 500",
        receipt="TBF1",
        checkout=MASKED_CHECKOUT,
    )
    assert text.startswith(
        "⚠ Payment #5: M-Pesa reports KES 300 paid, but KES 500 was asked, "
        "so it was not marked paid."
    )


async def test_history_and_admin_lines_use_words(
    bot: BotHarness, customer: FakeUser, admin: FakeUser
) -> None:
    lang = lang_of(admin)
    payment = await flagged_payment(bot, customer)
    reply = await bot.say(admin, "/recent")
    flag = t(lang, "admin_flagged_amount_mismatch", paid="KES 300", expected="KES 500")
    assert flag in reply
    assert (await bot.service.get(payment.id)).status is PaymentStatus.PENDING


async def test_an_admin_who_chose_kiswahili_gets_alerts_in_kiswahili(
    bot: BotHarness, customer: FakeUser, admin_user: FakeUser
) -> None:
    await bot.say(admin_user, "/language")
    await bot.press(admin_user, "lang:sw")
    payment = await flagged_payment(bot, customer)  # the service queues the alert in English
    await bot.deliver()
    alert = bot.fake.last(admin_user.id).text
    assert alert.startswith(f"⚠ Malipo #{payment.id}: M-Pesa inasema KES 300 zimelipwa")
    assert (await Notification.get(kind="admin_alert")).language == "en"
