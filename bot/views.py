"""Payments rendered as words and buttons: the one place that reads `Payment` fields for display.

Handlers and the notifier call these, so a customer sees the same receipt line whether it came
from the conversation or from the outbox.
"""

from __future__ import annotations

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


def outcome_text(kind: str, lang: str, payment: Any, merchant: str) -> tuple[str, Any]:
    """(text, reply_markup) telling the customer how the payment ended.

    `kind` is an outbox kind (paid, late_paid, failed, cancelled, expired, push_failed) or a
    payment status; failures carry a "Try again" button with the same amount.
    """
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
