"""C2B words: admin alerts without a payment, and the M-Pesa menu steps per shop."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot import views
from bot.texts import t
from tests.support.settings import make_settings


def test_an_unmatched_c2b_alert_has_its_own_words() -> None:
    detail = {
        "reason": "unmatched_c2b",
        "c2b_id": 7,
        "trans_id": "UL2ABCDEF1",
        "amount": 300,
        "account": "WRONG-NO",
        "payer": "2547 ***** 111",
        "name": "GRACE",
        "why": "no_account",
    }
    text = views.admin_alert_text("en", "unmatched_c2b", None, detail)
    assert "KES 300 from 2547 ***** 111 GRACE" in text
    assert '"WRONG-NO"' in text and "UL2ABCDEF1" in text
    assert "no payment has this account number" in text
    assert "/attach 7 <payment id>" in text
    sw = views.admin_alert_text("sw", "unmatched_c2b", None, detail)
    assert "hakuna malipo yenye namba hii ya akaunti" in sw


def test_other_topics_without_a_payment_are_rendered_generically() -> None:
    # A topic with no words of its own, and no payment: the facts, never a phone number.
    detail = {"reason": "something_new", "receipt": "UL2X", "amount": 50, "phone": "2547"}
    text = views.admin_alert_text("en", "something_new", None, detail)
    assert text == t(
        "en", "admin_alert_unlinked", topic="something new", facts="receipt=UL2X, amount=50"
    )


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_menu_steps_for_a_paybill_and_a_till(lang: str) -> None:
    payment = SimpleNamespace(
        amount=800, phone="254712341037", account_number="LB7K2QX", account_reference="INV042"
    )
    paybill = views.MenuPayment.from_settings(make_settings(mpesa_shortcode="4130669"))
    text = views.menu_steps(lang, payment, "Duka la Mama", paybill)
    assert "4130669" in text and "LB7K2QX" in text and "KES 800" in text and "Pay Bill" in text
    till = views.MenuPayment.from_settings(
        make_settings(mpesa_transaction_type="CustomerBuyGoodsOnline", mpesa_party_b="5432100")
    )
    text = views.menu_steps(lang, payment, "Duka la Mama", till)
    assert "5432100" in text and "Buy Goods" in text and "LB7K2QX" not in text


@pytest.mark.parametrize(
    ("kind", "code", "offered"),
    [
        ("push_failed", "push:subscriber_locked", True),
        ("expired", "1037", True),
        ("failed", "1001", True),
        ("failed", "2001", False),  # a wrong PIN: the prompt did reach the phone
        ("cancelled", "1032", False),
        ("expired", None, False),  # we gave up waiting: the prompt may still be answered
    ],
)
def test_the_menu_is_offered_only_when_the_prompt_never_got_through(
    kind: str, code: str | None, offered: bool
) -> None:
    payment = SimpleNamespace(
        amount=800,
        phone="254712341037",
        account_number="LB7K2QX",
        account_reference="x",
        result_code=code,
        receipt=None,
    )
    menu = views.MenuPayment(business="174379")
    text, _ = views.outcome_text(kind, "en", payment, "Duka", menu)
    assert ("Account number: LB7K2QX" in text) is offered
