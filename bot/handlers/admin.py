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
from daraja.result_codes import describe
from payments.errors import PaymentNotFound
from payments.models import Payment
from payments.rules import mask_phone
from payments.states import RECONCILABLE_STATES, PaymentStatus

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
    counts = ", ".join(f"{state}: {n}" for state, n in sorted(summary.counts.items()) if n)
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
    # Only a payment Daraja accepted (it has a CheckoutRequestID) can be queried.
    if payment.status in RECONCILABLE_STATES and payment.checkout_request_id:
        payment = await context.payments.reconcile_one(payment.id)
        live = _live_answer(lang, payment)
    await _reply(update, await _payment_card(lang, context, payment, live))


def _live_answer(lang: str, payment: Payment) -> str:
    status_value = payment.status
    if status_value in RECONCILABLE_STATES:
        return t(lang, "admin_live_query", answer=t(lang, "admin_live_processing"))
    return t(lang, "admin_live_query", answer=str(status_value))


async def _payment_card(lang: str, context: BotContext, payment: Payment, live: str | None) -> str:
    p = payment
    events = await context.payments.timeline(p.id)
    timeline = "\n".join(
        f"  {texts.when(e.created_at, lang)} {e.kind}{_detail(e)}" for e in events
    ) or "  " + t(lang, "none")
    code = p.result_code
    result = f"{code} {describe(code).summary}" if code and ":" not in code else code
    card = t(
        lang,
        "admin_payment",
        id=p.id,
        amount=money(p.amount),
        phone=mask_phone(p.phone),
        status=p.status,
        checkout=p.checkout_request_id or t(lang, "none"),
        receipt=p.receipt or t(lang, "none"),
        result=result or t(lang, "none"),
        timeline=timeline,
    )
    return f"{card}\n{live}" if live else card


# Event details worth a line in a chat; the rest (raw bodies, ids) stays in the database.
_TIMELINE_KEYS = ("result_code", "code", "decision", "receipt", "amount", "by", "error", "reason")


def _detail(event: object) -> str:
    detail = getattr(event, "detail", None)
    if not isinstance(detail, dict):
        return ""
    shown = [f"{key}={detail[key]}" for key in _TIMELINE_KEYS if detail.get(key) not in (None, "")]
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
        payment = await context.payments.reconcile_one(payment.id)
    except PaymentNotFound:
        await _reply(update, t(lang, "admin_not_found", ref=ref[:40]))
        return
    await _reply(
        update, t(lang, "admin_reconciled", id=payment.id, status=PaymentStatus(payment.status))
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
