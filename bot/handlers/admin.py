"""Admin commands (/status, /pending, /recent, /reconcile) for the user ids in ADMIN_IDS.

Anyone else gets a polite refusal and no data. Phone numbers are always masked.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot import texts, views
from bot.context import PRIVATE, BotContext
from bot.texts import money, t
from daraja.masking import mask_checkout_id
from daraja.result_codes import describe
from daraja.types import Outcome
from payments.errors import PaymentNotFound
from payments.models import Payment
from payments.rules import mask_phone
from payments.states import RECONCILABLE_STATES

log = logging.getLogger(__name__)

Handler = Callable[[Update, BotContext], Awaitable[None]]
RECENT_DEFAULT = 10
RECENT_MAX = 50


def admin_only(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def guarded(update: Update, context: BotContext) -> None:
        if not context.is_admin(update):
            user = update.effective_user
            log.info("refused admin command from user %s", user.id if user else None)
            await _reply(update, t(context.lang(update), "admin_only"))
            return
        await handler(update, context)

    return guarded


@admin_only
async def status(update: Update, context: BotContext) -> None:
    if context.args:
        await _one_payment(update, context, " ".join(context.args))
    else:
        await _summary(update, context)


async def _summary(update: Update, context: BotContext) -> None:
    lang = context.lang(update)
    summary = await context.payments.day_summary()
    counts = ", ".join(
        f"{views.status_word(lang, state)}: {n}" for state, n in sorted(summary.counts.items()) if n
    )
    rate = summary.success_rate
    last = summary.last_callback_at
    if last is None:
        last_text = t(lang, "admin_no_callback")
    else:
        seconds = int((datetime.now(UTC) - last).total_seconds())
        last_text = t(lang, "admin_ago", seconds=max(seconds, 0))
    await _reply(
        update,
        t(
            lang,
            "admin_summary",
            day=summary.day.isoformat(),
            env=context.settings.daraja_env.value,
            counts=counts or t(lang, "none"),
            total=money(summary.total_received),
            rate=f"{rate:.0%}" if rate is not None else t(lang, "none"),
            pending=summary.pending_now,
            last_callback=last_text,
        ),
    )


async def _one_payment(update: Update, context: BotContext, ref: str) -> None:
    lang = context.lang(update)
    payment = await context.payments.find(ref)
    if payment is None:
        await _reply(update, t(lang, "admin_not_found", ref=ref[:40]))
        return
    live = None
    # Only a waiting payment Daraja accepted (it has a CheckoutRequestID) is worth a query; a
    # flagged one waits for a person. "Live query" is shown only when one was made.
    if (
        payment.status in RECONCILABLE_STATES
        and payment.checkout_request_id
        and not payment.flagged_reason
    ):
        payment, queried = await _reconcile(context, payment)
        if queried:
            live = _live_answer(lang, payment)
    await _reply(update, await _payment_card(lang, context, payment, live))


async def _reconcile(context: BotContext, payment: Payment) -> tuple[Payment, bool]:
    """Ask M-Pesa about `payment` (if the service finds it worth asking); whether it did.

    Every query leaves an event on the payment's timeline (an answer, "still processing" or
    an error), so a timeline that did not grow means no query was made.
    """
    before = len(await context.payments.timeline(payment.id))
    fresh = await context.payments.reconcile_one(payment.id)
    after = len(await context.payments.timeline(payment.id))
    return fresh, after > before


def _live_answer(lang: str, payment: Payment) -> str:
    if payment.status in RECONCILABLE_STATES:
        return t(lang, "admin_live_query", answer=t(lang, "admin_live_processing"))
    return t(lang, "admin_live_query", answer=views.status_word(lang, payment.status))


def _why_no_query(lang: str, payment: Payment) -> str:
    if payment.flagged_reason:
        return t(lang, "admin_no_query_flagged")
    status = views.status_word(lang, payment.status)
    if not payment.checkout_request_id:
        return t(lang, "admin_no_query_not_pushed", status=status)
    return t(lang, "admin_no_query_final", status=status)


async def _payment_card(lang: str, context: BotContext, payment: Payment, live: str | None) -> str:
    p = payment
    events = await context.payments.timeline(p.id)
    timeline = "\n".join(
        f"  {texts.when(e.created_at, lang)} {_event_words(lang, e.kind)}{_detail(lang, e)}"
        for e in events
    ) or "  " + t(lang, "none")
    code = p.result_code
    result = _result_words(lang, code)
    card = t(
        lang,
        "admin_payment",
        id=p.id,
        amount=money(p.amount),
        phone=mask_phone(p.phone),
        status=views.admin_status(lang, p),
        checkout=mask_checkout_id(p.checkout_request_id)
        if p.checkout_request_id
        else t(lang, "none"),
        receipt=p.receipt or t(lang, "none"),
        result=result or t(lang, "none"),
        timeline=timeline,
    )
    return f"{card}\n{live}" if live else card


def _event_words(lang: str, kind: object) -> str:
    key = f"event_{kind}"
    return t(lang, key) if texts.has(lang, key) else str(kind).replace("_", " ")


def _result_words(lang: str, code: str | None) -> str | None:
    """M-Pesa's result code in words: the outcome in the admin's language, and in English also
    Daraja's own explanation (daraja.result_codes has it in English only)."""
    if not code or ":" in code:
        return code  # none yet, or one of our own `push:…` codes
    info = describe(code)
    status = _OUTCOME_STATUS.get(info.outcome)
    words = views.status_word(lang, status) if status else t(lang, "none")
    shown = f"{words} ({t(lang, 'admin_detail_code', code=code)})"
    if texts.lang_or_default(lang) == "en":
        shown += f": {info.summary}"
    return shown


_OUTCOME_STATUS = {
    Outcome.PAID: "paid",
    Outcome.CANCELLED: "cancelled",
    Outcome.EXPIRED: "expired",
    Outcome.FAILED: "failed",
    Outcome.UNKNOWN: "unknown",
}


# Event details worth a line in a chat, in words; the rest (raw bodies, ids) stays in the
# database. `decision` repeats the event's own kind, so it is not shown.
_TIMELINE_KEYS = ("result_code", "code", "receipt", "amount", "by", "error", "reason")


def _detail(lang: str, event: object) -> str:
    detail = getattr(event, "detail", None)
    if not isinstance(detail, dict):
        return ""
    shown = []
    for key in _TIMELINE_KEYS:
        value = detail.get(key)
        if value in (None, ""):
            continue
        if key == "amount" and isinstance(value, int):
            shown.append(money(value))
        elif key in ("result_code", "code"):
            shown.append(t(lang, "admin_detail_code", code=value))
        elif key == "receipt":
            shown.append(t(lang, "admin_detail_receipt", receipt=value))
        elif key == "by":
            shown.append(t(lang, "admin_detail_by", who=value))
        else:
            shown.append(str(value).replace("_", " "))
    return f" ({', '.join(shown)})" if shown else ""


@admin_only
async def pending(update: Update, context: BotContext) -> None:
    lang = context.lang(update)
    payments = await context.payments.pending()
    if not payments:
        await _reply(update, t(lang, "admin_pending_empty"))
        return
    lines = [t(lang, "admin_pending_header"), *(views.admin_line(lang, p) for p in payments)]
    await _reply(update, "\n".join(lines))


@admin_only
async def recent(update: Update, context: BotContext) -> None:
    lang = context.lang(update)
    n = RECENT_DEFAULT
    # isdigit() alone admits "²", which int() refuses.
    if context.args and context.args[0].isascii() and context.args[0].isdigit():
        n = max(1, min(int(context.args[0]), RECENT_MAX))
    payments = await context.payments.recent(limit=n)
    if not payments:
        await _reply(update, t(lang, "admin_recent_empty"))
        return
    lines = [t(lang, "admin_recent_header", n=n), *(views.admin_line(lang, p) for p in payments)]
    await _reply(update, "\n".join(lines))


@admin_only
async def reconcile(update: Update, context: BotContext) -> None:
    lang = context.lang(update)
    if not context.args:
        await _reply(update, t(lang, "admin_reconcile_usage"))
        return
    ref = context.args[0]
    payment = await context.payments.find(ref)
    if payment is None:
        await _reply(update, t(lang, "admin_not_found", ref=ref[:40]))
        return
    try:
        payment, queried = await _reconcile(context, payment)
    except PaymentNotFound:
        await _reply(update, t(lang, "admin_not_found", ref=ref[:40]))
        return
    if not queried:
        why = _why_no_query(lang, payment)
        await _reply(update, t(lang, "admin_reconcile_no_query", id=payment.id, why=why))
        return
    await _reply(
        update, t(lang, "admin_reconciled", id=payment.id, status=views.admin_status(lang, payment))
    )


async def _reply(update: Update, text: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text)


def admin_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        CommandHandler("status", status, filters=PRIVATE),
        CommandHandler("pending", pending, filters=PRIVATE),
        CommandHandler("recent", recent, filters=PRIVATE),
        CommandHandler("reconcile", reconcile, filters=PRIVATE),
    ]
