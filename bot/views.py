"""Payments rendered as words and buttons: the one place that reads `Payment` fields for display.

Handlers and the notifier call these, so a customer sees the same receipt line whether it came
from the conversation or from the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.texts import money, t
from payments.msisdn import display_number
from payments.rules import mask_phone
from payments.states import PaymentStatus

# Callback data prefixes: short, because Telegram allows 64 bytes of callback data.
CONFIRM = "pay"
CANCEL = "cancel"
RETRY = "retry"
LANGUAGE = "lang"
LAST_PHONE = "lastphone"
MENU_PAY = "menupay"

#: Result codes after which the prompt never reached the customer (or could not be answered):
#: the failure message also gives the M-Pesa menu steps (docs/DARAJA.md §6, §11).
MENU_FALLBACK_CODES = frozenset({"1037", "1036", "2026", "1001", "1025", "9999"})


@dataclass(frozen=True, slots=True)
class MenuPayment:
    """Where this shop's customers pay from the M-Pesa menu: a PayBill number (with each
    payment's own account number) or a till (Buy Goods)."""

    business: str | None = None
    till: str | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> MenuPayment:
        if str(settings.mpesa_transaction_type) == "CustomerBuyGoodsOnline":
            return cls(till=(settings.mpesa_party_b or settings.mpesa_shortcode))
        return cls(business=settings.mpesa_shortcode)


def confirm_keyboard(lang: str, payment_id: object) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "btn_confirm"), callback_data=f"{CONFIRM}:{payment_id}"
                ),
                InlineKeyboardButton(t(lang, "btn_cancel"), callback_data=f"{CANCEL}:{payment_id}"),
            ]
        ]
    )


def retry_keyboard(lang: str, amount: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(lang, "btn_try_again"), callback_data=f"{RETRY}:{amount}")]]
    )


def language_keyboard(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(lang, "btn_lang_en"), callback_data=f"{LANGUAGE}:en"),
                InlineKeyboardButton(t(lang, "btn_lang_sw"), callback_data=f"{LANGUAGE}:sw"),
            ]
        ]
    )


def confirmation_text(lang: str, payment: Any, merchant: str) -> str:
    reference = payment.account_reference
    reference_line = t(lang, "confirm_reference", reference=reference) if reference else ""
    return t(
        lang,
        "confirm",
        amount=money(payment.amount),
        merchant=merchant,
        # The customer's own number in full, on this step only: a typo is caught before the
        # prompt goes to a stranger. Everywhere else it is masked.
        phone=display_number(payment.phone),
        reference_line=reference_line,
    )


def paid_when(payment: Any) -> datetime:
    """When M-Pesa says the money moved; our own record time if the callback lacked it."""
    return payment.transaction_time or payment.completed_at or payment.updated_at


def menu_steps(lang: str, payment: Any, merchant: str, menu: MenuPayment) -> str:
    """The exact M-Pesa menu steps to pay `payment` to this shop."""
    if menu.till:
        return t(
            lang,
            "menu_steps_till",
            amount=money(payment.amount),
            amount_plain=payment.amount,
            till=menu.till,
            phone=mask_phone(payment.phone),
            merchant=merchant,
        )
    return t(
        lang,
        "menu_steps_paybill",
        amount=money(payment.amount),
        amount_plain=payment.amount,
        business=menu.business or "",
        account=payment.account_number or payment.account_reference,
        merchant=merchant,
    )


def menu_keyboard(lang: str, payment_id: object) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "btn_pay_from_menu"), callback_data=f"{MENU_PAY}:{payment_id}"
                )
            ]
        ]
    )


def offers_menu(kind: str, payment: Any) -> bool:
    """Whether a failure leaves the customer the M-Pesa menu (the prompt never got through)."""
    if kind == "push_failed":
        return True
    return kind in ("failed", "expired") and (payment.result_code or "") in MENU_FALLBACK_CODES


def outcome_text(
    kind: str, lang: str, payment: Any, merchant: str, menu: MenuPayment | None = None
) -> tuple[str, Any]:
    """(text, reply_markup) telling the customer how the payment ended.

    `kind` is an outbox kind (paid, late_paid, failed, cancelled, expired, push_failed) or a
    payment status; failures carry a "Try again" button with the same amount. With `menu`, a
    prompt that never got through also gives the M-Pesa menu steps.
    """
    text, markup = _outcome_text(kind, lang, payment, merchant)
    if menu is not None and offers_menu(kind, payment):
        steps = menu_steps(lang, payment, merchant, menu)
        text = f"{text}\n\n{t(lang, 'menu_fallback_intro')}\n{steps}"
    return text, markup


def _outcome_text(kind: str, lang: str, payment: Any, merchant: str) -> tuple[str, Any]:
    amount = money(payment.amount)
    if kind in ("paid", "late_paid", "receipt"):
        # "receipt": the receipt of a payment a query had settled; the paid message gains it.
        text = t(
            lang,
            "paid" if kind == "receipt" else kind,
            receipt=payment.receipt or t(lang, "receipt_to_follow"),
            amount=amount,
            merchant=merchant,
            when=texts.when(paid_when(payment), lang),
        )
        return text, None
    if kind == "flagged":
        return t(
            lang, "flagged", amount=money(payment.paid_amount or payment.amount), merchant=merchant
        ), None
    retry = retry_keyboard(lang, payment.amount)
    if kind == "push_failed":
        reason = texts.push_failure_reason(
            lang, payment.result_code, merchant=merchant, retry_after=_retry_after(payment)
        )
        return t(lang, "push_failed", amount=amount, reason=reason), retry
    if kind == "expired" and not texts.is_expiry_code(payment.result_code):
        # We gave up waiting (no result code, or only a later failure code recorded quietly):
        # M-Pesa never confirmed either way, so the words must not say nothing was charged.
        return t(lang, "expired", amount=amount), retry
    reason = texts.failure_reason(lang, payment.result_code, merchant=merchant)
    return t(lang, "failed", amount=amount, reason=reason), retry


def announcement(lang: str, payment: Any) -> str:
    """The shop's one line about a payment that came in (never the full phone)."""
    return t(
        lang,
        "announcement",
        amount=money(payment.paid_amount or payment.amount),
        customer=payment.customer_name or t(lang, "announcement_no_name"),
        phone=mask_phone(payment.phone),
        receipt=payment.receipt or t(lang, "none"),
        reference=payment.account_reference,
    )


def admin_alert_text(lang: str, topic: str, payment_id: int | None, detail: Any) -> str:
    """An admin alert in words: its topic's own text when there is one (`alert_<topic>`, e.g.
    unmatched_c2b), else the topic and the recorded facts (never a phone number)."""
    facts_of: dict[str, Any] = detail if isinstance(detail, dict) else {}
    key = f"alert_{topic}"
    if topic and texts.has(lang, key):
        values = {name: "-" for name in _ALERT_FIELDS}
        values.update({k: v for k, v in facts_of.items() if v not in (None, "")})
        if isinstance(values.get("amount"), int):
            values["amount"] = money(values["amount"])
        why = str(values.get("why", ""))
        if texts.has(lang, f"c2b_why_{why}"):
            values["why"] = t(lang, f"c2b_why_{why}")
        return t(lang, key, **values)
    facts = ", ".join(f"{k}={v}" for k, v in facts_of.items() if k != "reason" and "phone" not in k)
    words = (topic or facts_of.get("reason") or "alert").replace("_", " ")
    if payment_id is None:
        return t(lang, "admin_alert_unlinked", topic=words, facts=facts or "-")
    return t(lang, "admin_alert", topic=words, payment_id=payment_id, facts=facts or "-")


#: Placeholders topic texts may use; missing facts read "-".
_ALERT_FIELDS = ("c2b_id", "trans_id", "amount", "account", "payer", "name", "why", "payment_id")


def status_word(lang: str, status: str) -> str:
    return t(lang, f"status_{PaymentStatus(status).value}")


def admin_status(lang: str, payment: Any) -> str:
    """The status for a shop owner: in words, and a flagged payment says what is wrong."""
    reason = getattr(payment, "flagged_reason", None)
    if not reason:
        return status_word(lang, payment.status)
    if reason == "amount_mismatch":
        paid = payment.paid_amount
        return t(
            lang,
            "admin_flagged_amount_mismatch",
            paid=money(paid) if paid is not None else t(lang, "none"),
            expected=money(payment.amount),
        )
    if reason == "receipt_conflict":
        return t(lang, "admin_flagged_receipt_conflict")
    key = f"event_{reason}"
    words = t(lang, key) if texts.has(lang, key) else str(reason).replace("_", " ")
    return t(lang, "admin_flagged", reason=words)


def history_line(lang: str, payment: Any) -> str:
    receipt = f" · {payment.receipt}" if payment.receipt else ""
    return t(
        lang,
        "history_line",
        when=texts.when(payment.created_at, lang),
        amount=money(payment.amount),
        status=status_word(lang, payment.status),
        receipt=receipt,
    )


def admin_line(lang: str, payment: Any) -> str:
    return t(
        lang,
        "admin_payment_line",
        id=payment.id,
        when=texts.when(payment.created_at, lang),
        amount=money(payment.amount),
        phone=mask_phone(payment.phone),
        status=admin_status(lang, payment),
    )


def _retry_after(payment: Any) -> float | None:
    value = getattr(payment, "retry_after_seconds", None)
    return float(value) if value else None


def day_text(lang: str, day: date) -> str:
    """A calendar day as people write it: `2 Dec 2026` (month names per language)."""
    month = texts.MONTHS[texts.lang_or_default(lang)][day.month - 1]
    return f"{day.day} {month} {day.year}"
