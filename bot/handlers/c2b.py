"""Paying from the M-Pesa menu, and the admins' side of C2B payments (docs/DARAJA.md §11).

* The "Pay from the M-Pesa menu instead" button (under "check your phone") turns that message into
  the exact steps for this shop: Pay Bill number and the payment's own account number, or the
  till; when the money arrives the notifier edits the same message to paid, with the receipt.
* `/unmatched` lists C2B payments that matched no payment; `/attach <C2B id> <payment id>`
  gives one to a payment (it is then settled like any confirmation).
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import texts, views
from bot.context import PRIVATE, BotContext
from bot.handlers.admin import admin_only
from bot.handlers.pay import payment_named_by
from bot.texts import money, t
from payments.errors import C2BNotAttachable, PaymentNotFound
from payments.states import PaymentStatus

log = logging.getLogger(__name__)

UNMATCHED_SHOWN = 20
#: Statuses a menu payment can still settle (a draft is cancelled first, then paid).
_PAYABLE = frozenset(
    {
        PaymentStatus.CREATED,
        PaymentStatus.PUSHING,
        PaymentStatus.PENDING,
        PaymentStatus.UNKNOWN,
        PaymentStatus.EXPIRED,
        PaymentStatus.FAILED,
        PaymentStatus.CANCELLED,
        PaymentStatus.PUSH_FAILED,
    }
)


async def menu_pay_pressed(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    lang = context.lang(update)
    payment = await payment_named_by(query, context)
    user = update.effective_user
    if payment is None or user is None or payment.user_id != user.id:
        await query.answer(t(lang, "callback_invalid"), show_alert=True)
        return
    if payment.status not in _PAYABLE or payment.flagged_reason:
        await query.answer(t(lang, "payment_closed"))
        return
    await query.answer()
    menu = views.MenuPayment.from_settings(context.settings)
    steps = views.menu_steps(lang, payment, context.settings.merchant_name, menu)
    try:
        await query.edit_message_text(steps)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
    # The notifier edits this message to paid when the C2B confirmation arrives.
    await context.payments.set_status_message(payment.id, query.message.message_id)


@admin_only
async def unmatched(update: Update, context: BotContext) -> None:
    lang = context.lang(update)
    rows = await context.payments.unmatched_c2b(limit=UNMATCHED_SHOWN)
    if not rows:
        await _reply(update, t(lang, "unmatched_empty"))
        return
    lines = [t(lang, "unmatched_header")]
    for row in rows:
        why = row.note
        lines.append(
            t(
                lang,
                "unmatched_line",
                id=row.id,
                when=texts.when(row.trans_time or row.created_at, lang),
                amount=money(row.amount),
                account=row.bill_ref or "-",
                payer=row.msisdn_masked or "-",
                name=row.first_name or "",
                receipt=row.trans_id,
                why=t(lang, f"c2b_why_{why}") if texts.has(lang, f"c2b_why_{why}") else why,
            )
        )
    lines.append(t(lang, "unmatched_footer"))
    await _reply(update, "\n".join(lines))


@admin_only
async def attach(update: Update, context: BotContext) -> None:
    lang = context.lang(update)
    args = context.args or []
    if len(args) != 2 or not all(a.isascii() and a.isdigit() and len(a) <= 9 for a in args):
        await _reply(update, t(lang, "attach_usage"))
        return
    c2b_id, payment_id = int(args[0]), int(args[1])
    user = update.effective_user
    try:
        done = await context.payments.attach_c2b(
            c2b_id, payment_id, admin_id=user.id if user else 0
        )
    except PaymentNotFound:
        await _reply(update, t(lang, "admin_not_found", ref=f"#{payment_id}"))
        return
    except C2BNotAttachable as exc:
        await _reply(
            update,
            t(lang, "attach_refused", c2b_id=c2b_id, payment_id=payment_id, reason=exc.reason),
        )
        return
    payment = done.payment
    assert payment is not None
    log.info(
        "admin %s attached C2B #%d to payment #%d", user.id if user else "?", c2b_id, payment.id
    )
    context.bot_data.notifier.notify_soon()
    await _reply(
        update,
        t(
            lang,
            "attach_done",
            c2b_id=c2b_id,
            receipt=payment.receipt or "-",
            amount=money(payment.paid_amount or payment.amount),
            payment_id=payment.id,
            status=views.status_word(lang, payment.status),
        ),
    )


async def _reply(update: Update, text: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text)


def c2b_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        CallbackQueryHandler(menu_pay_pressed, pattern=rf"^{views.MENU_PAY}:"),
        CommandHandler("unmatched", unmatched, filters=PRIVATE),
        CommandHandler("attach", attach, filters=PRIVATE),
    ]
