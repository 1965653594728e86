"""Admin commands with arguments no payment could match answer "not found", on both databases.

A reference longer than the column it would be looked up in (CheckoutRequestID 64, receipt 32,
phone 16 characters) used to reach the ORM, which refused it, and the admin read the generic
"something went wrong" instead of "no payment matches".
"""

from __future__ import annotations

import pytest

from bot.texts import t
from offline.fake_telegram import FakeUser
from tests.support.bot import BotHarness

LONG_REFERENCES = {
    "checkout-id": "ws_CO_" + "9" * 80,
    "receipt-like": "U" * 40,
    "digits": "1" * 100,
    "hash-and-digits": "#" + "1" * 80,
    "phone-like": "+254" + "7" * 60,
    "words": "INV" * 30,
}


async def replies(shop: BotHarness, admin: FakeUser, command: str) -> list[str]:
    before = len(shop.fake.chat_messages(admin.id))
    await shop.say(admin, command)
    return [m.text for m in shop.fake.chat_messages(admin.id)[before:]]


@pytest.mark.parametrize("command", ["/status", "/reconcile", "/find"])
@pytest.mark.parametrize("ref", list(LONG_REFERENCES.values()), ids=list(LONG_REFERENCES))
async def test_an_over_long_reference_is_not_found(
    shop: BotHarness, customer: FakeUser, admin_user: FakeUser, command: str, ref: str
) -> None:
    await shop.pay_up_to_confirmation(customer, amount="1500")
    paid = await shop.confirm(customer)
    await shop.callback(paid, 0, receipt="TBF34EVY55")

    answer = await replies(shop, admin_user, f"{command} {ref}")

    key = "find_none" if command == "/find" else "admin_not_found"
    field = "search" if command == "/find" else "ref"
    assert answer == [t("en", key, **{field: ref[:40]})]
    assert shop.gateway.queries == []


@pytest.mark.parametrize("command", ["/status", "/find"])
async def test_a_receipt_typed_in_lower_case_is_found(
    shop: BotHarness, customer: FakeUser, admin_user: FakeUser, command: str
) -> None:
    await shop.pay_up_to_confirmation(customer, amount="1500")
    paid = await shop.confirm(customer)
    await shop.callback(paid, 0, receipt="TBF34EVY55")

    answer = await replies(shop, admin_user, f"{command} tbf34evy55")

    assert any(text.startswith(f"Payment {paid.id}: KES 1,500") for text in answer), answer


@pytest.mark.parametrize("count", ["9" * 100, "²", "١٢", "-3"])
async def test_recent_with_an_odd_count_shows_the_default_list(
    shop: BotHarness, customer: FakeUser, admin_user: FakeUser, count: str
) -> None:
    await shop.pay_up_to_confirmation(customer, amount="1500")
    await shop.confirm(customer)

    answer = await replies(shop, admin_user, f"/recent {count}")

    assert len(answer) == 1 and answer[0] != t("en", "error_generic")
    assert "KES 1,500" in answer[0]
