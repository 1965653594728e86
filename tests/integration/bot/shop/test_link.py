"""/link: a printable QR code whose code is the deep link /start understands."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from bot.texts import t
from offline.fake_telegram import FakeTelegram, FakeUser
from tests.support.bot import BotHarness
from tests.support.shop import decode_qr, uploads

BOT_LINK = "https://t.me/lipa_test_bot?start="


def start_payload(link: str) -> str:
    assert link.startswith(BOT_LINK), link
    return link.removeprefix(BOT_LINK)


async def test_link_with_amount_and_reference_starts_that_payment(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser, customer: FakeUser
) -> None:
    await shop.say(admin_user, "/link 500 INV042")

    [photo] = uploads(fake_telegram, admin_user, "photo")
    assert photo.file is not None and photo.file.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode_qr(photo.file.data) == [BOT_LINK + "pay-500-INV042"]
    assert BOT_LINK + "pay-500-INV042" in photo.text
    assert "KES 500" in photo.text and "INV042" in photo.text and "Duka la Mama" in photo.text
    picture = Image.open(BytesIO(photo.file.data))
    # Print-ready: large, and taller than wide (the shop's name and the amount under the code).
    assert picture.width >= 1000 and picture.height > picture.width * 1.1

    # The customer scans it: Telegram opens the bot with /start <payload>.
    payload = start_payload(decode_qr(photo.file.data)[0])
    await shop.say(customer, f"/start {payload}")
    assert "KES 500" in fake_telegram.texts(customer.id)[-1]  # straight to the phone step
    await shop.say(customer, "0712345678")
    payment = await shop.payment_of(customer)
    assert (payment.amount, payment.account_reference) == (500, "INV042")
    await shop.press(customer, f"pay:{payment.id}")
    # The push carries the payment's own account number; the shop's reference stays stored.
    assert shop.gateway.pushed("phone", "amount", "account_reference") == [
        ("254712345678", 500, payment.account_number)
    ]


async def test_link_without_amount_lets_the_customer_type_it(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser, customer: FakeUser
) -> None:
    await shop.say(admin_user, "/link")

    [photo] = uploads(fake_telegram, admin_user, "photo")
    assert photo.file is not None
    [link] = decode_qr(photo.file.data)
    assert link == BOT_LINK + "pay"
    assert link in photo.text

    reply = await shop.say(customer, f"/start {start_payload(link)}")
    assert reply == t("en", "ask_amount", merchant="Duka la Mama")
    reply = await shop.say(customer, "1,250")
    assert "KES 1,250" in reply
    await shop.say(customer, "0712345678")
    payment = await shop.payment_of(customer)
    assert payment.amount == 1250


async def test_link_amount_only(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser
) -> None:
    await shop.say(admin_user, "/link 2,000")
    [photo] = uploads(fake_telegram, admin_user, "photo")
    assert photo.file is not None
    assert decode_qr(photo.file.data) == [BOT_LINK + "pay-2000"]
    assert photo.file.filename == "lipa-2000.png"


@pytest.mark.parametrize(
    ("command", "key"),
    [
        ("/link abc", "link_bad_amount"),
        ("/link 0", "link_bad_amount"),
        ("/link 250001", "link_bad_amount"),  # above PAY_MAX_AMOUNT
        ("/link 10.50", "link_bad_amount"),
        ("/link 500 INV-042", "link_bad_reference"),  # "-" separates the link's parts
        ("/link 500 INV 042", "link_bad_reference"),
        ("/link 500 ABCDEFGHIJKLM", "link_bad_reference"),  # 13 > M-Pesa's 12
        ("/link 500 ÜBER", "link_bad_reference"),
    ],
)
async def test_bad_links_are_refused_in_words(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser, command: str, key: str
) -> None:
    reply = await shop.say(admin_user, command)
    first_words = t("en", key, text="X", reference="X", minimum="X", maximum="X").split("X")[1]
    assert first_words[:15] in reply
    assert uploads(fake_telegram, admin_user, "photo") == []


async def test_every_link_the_command_makes_is_one_start_accepts(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser, customer: FakeUser
) -> None:
    """The longest amount and reference still fit Telegram's 64 characters and /start."""
    await shop.say(admin_user, "/link 250000 ABCDEFGHIJ_1")
    [photo] = uploads(fake_telegram, admin_user, "photo")
    assert photo.file is not None
    payload = start_payload(decode_qr(photo.file.data)[0])
    assert payload == "pay-250000-ABCDEFGHIJ_1" and len(payload) <= 64
    await shop.say(customer, f"/start {payload}")
    assert t("en", "welcome_bad_link") not in fake_telegram.texts(customer.id)


async def test_only_admins_get_links(
    shop: BotHarness, fake_telegram: FakeTelegram, customer: FakeUser
) -> None:
    reply = await shop.say(customer, "/link 500")
    assert reply == t("en", "admin_only")
    assert uploads(fake_telegram, customer, "photo") == []


async def test_kiswahili_link(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser
) -> None:
    sw_admin = FakeUser(id=admin_user.id, first_name="Mama Duka", language_code="sw")
    await shop.say(sw_admin, "/link 500")
    [photo] = uploads(fake_telegram, sw_admin, "photo")
    assert photo.text.startswith("Kiungo cha kulipa Duka la Mama, KES 500")
