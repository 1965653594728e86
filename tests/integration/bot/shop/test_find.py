"""/find: payments by M-Pesa receipt, account reference or phone digits, as /status cards."""

from __future__ import annotations

from datetime import timedelta

from bot.texts import t
from daraja.timestamps import now_utc
from offline.fake_telegram import FakeTelegram, FakeUser
from payments.models import Payment
from payments.states import PaymentStatus
from tests.support.bot import BotHarness
from tests.support.shop import add_payment

S = PaymentStatus


async def cards(shop: BotHarness, admin: FakeUser, command: str) -> list[str]:
    """The bot's messages in answer to `command`."""
    before = len(shop.fake.chat_messages(admin.id))
    await shop.say(admin, command)
    return [m.text for m in shop.fake.chat_messages(admin.id)[before:]]


def card_of(payment: Payment) -> str:
    return f"Payment {payment.id}: KES {payment.amount:,}"


async def seed() -> dict[str, Payment]:
    now = now_utc()
    return {
        "receipt": await add_payment(now - timedelta(hours=3), receipt="TBF34EVY55", amount=700),
        "reference": await add_payment(
            now - timedelta(hours=2), reference="INV042", amount=1200, phone="254700111222"
        ),
        "phone_a": await add_payment(
            now - timedelta(hours=1), status=S.FAILED, result_code="1", phone="254722000678"
        ),
        "other": await add_payment(now, phone="254799555444", receipt="QWE123RTY9", amount=90),
    }


async def test_by_receipt_any_case(shop: BotHarness, admin_user: FakeUser) -> None:
    payments = await seed()
    replies = await cards(shop, admin_user, "/find tbf34evy55")
    assert replies[0] == t("en", "find_header", search="tbf34evy55", total=1)
    [card] = replies[1:]
    assert card.startswith(card_of(payments["receipt"]))
    assert "Receipt: TBF34EVY55" in card and "Timeline:" in card  # the /status card


async def test_by_reference(shop: BotHarness, admin_user: FakeUser) -> None:
    payments = await seed()
    replies = await cards(shop, admin_user, "/find INV042")
    assert [r.split(",")[0] for r in replies[1:]] == [f"Payment {payments['reference'].id}: KES 1"]
    assert replies[1].startswith(card_of(payments["reference"]))


async def test_by_last_digits_of_a_phone(shop: BotHarness, admin_user: FakeUser) -> None:
    payments = await seed()  # 254712345678 (receipt) and 254722000678 (phone_a) end in 678
    replies = await cards(shop, admin_user, "/find 678")
    assert replies[0] == t("en", "find_header", search="678", total=2)
    assert [r.split("\n")[0].split(",")[0] for r in replies[1:]] == [
        f"Payment {payments['phone_a'].id}: KES 500",  # newest first
        f"Payment {payments['receipt'].id}: KES 700",
    ]
    assert all("254722000678" not in r and "2547•••••678" in r for r in replies[1:])


async def test_by_whole_phone_in_any_form(shop: BotHarness, admin_user: FakeUser) -> None:
    payments = await seed()
    replies = await cards(shop, admin_user, "/find 0722 000 678")
    assert len(replies) == 2 and replies[1].startswith(card_of(payments["phone_a"]))
    replies = await cards(shop, admin_user, "/find +254700111222")
    assert len(replies) == 2 and replies[1].startswith(card_of(payments["reference"]))


async def test_nothing_found_and_too_few_digits(shop: BotHarness, admin_user: FakeUser) -> None:
    await seed()
    assert await shop.say(admin_user, "/find NOPE999") == t("en", "find_none", search="NOPE999")
    # Two digits would match half the shop: not a phone search.
    assert await shop.say(admin_user, "/find 78") == t("en", "find_none", search="78")
    assert await shop.say(admin_user, "/find") == t("en", "find_usage")


async def test_many_matches_show_the_newest_and_say_so(
    shop: BotHarness, admin_user: FakeUser
) -> None:
    now = now_utc()
    made = [await add_payment(now + timedelta(seconds=n), amount=100 + n) for n in range(7)]
    replies = await cards(shop, admin_user, "/find 345678")
    assert replies[0] == t("en", "find_header", search="345678", total=7)
    assert [r.split(",")[0] for r in replies[1:6]] == [
        f"Payment {p.id}: KES {p.amount}" for p in reversed(made[2:])
    ]
    assert replies[6] == t("en", "find_more", shown=5, total=7)


async def test_only_admins_find(
    shop: BotHarness, fake_telegram: FakeTelegram, customer: FakeUser
) -> None:
    await seed()
    assert await shop.say(customer, "/find 678") == t("en", "admin_only")


async def test_by_account_number_any_case(shop: BotHarness, admin_user: FakeUser) -> None:
    payments = await seed()
    target = payments["reference"]
    await Payment.filter(id=target.id).update(account_number="LB7K2QX")
    replies = await cards(shop, admin_user, "/find lb7k2qx")
    assert replies[0] == t("en", "find_header", search="lb7k2qx", total=1)
    assert replies[1].startswith(card_of(target))
