"""The /pay conversation: amount → phone → confirmation → STK push, plus deep links and retries.

Every state handler returns the next state (PTB's conversationbot shape); the whole machine is
`pay_conversation()`. The draft payment is created on entering confirmation so the Confirm button
carries its id; Confirm claims the push (`PaymentService.claim_push`, a conditional move, so a
double tap, a stale button or a second instance can never push twice) and the prompt is sent in
the background (`bot.push_sender`), so a slow Daraja never holds up a reply.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import deep_links, texts, views
from bot.context import PRIVATE, BotContext
from bot.shared_conversation import SharedConversationHandler
from bot.texts import has, money, t
from payments.errors import (
    DraftExpired,
    InvalidAmount,
    InvalidPhone,
    PaymentInProgress,
    PaymentNotFound,
    PushLimitExceeded,
)
from payments.models import Payment
from payments.rules import mask_phone, normalize_phone, parse_amount
from payments.states import PaymentStatus

log = logging.getLogger(__name__)

AMOUNT, PHONE, CONFIRM = range(3)
END = ConversationHandler.END
CONVERSATION_NAME = "pay"

_DRAFT = "draft"
# Statuses whose payment is already on its way: a new /pay must wait for it.
_BUSY = frozenset({PaymentStatus.PUSHING, PaymentStatus.PENDING, PaymentStatus.UNKNOWN})


# ------------------------------------------------------------------ entry points


async def start(update: Update, context: BotContext) -> int:
    """/start, with an optional `pay[-<amount>[-<reference>]]` payload (`bot.deep_links`)."""
    lang = context.lang(update)
    user = update.effective_user
    name = user.first_name if user else ""
    await _reply(update, t(lang, "welcome", name=name, merchant=context.settings.merchant_name))
    if not context.args:
        return END
    link = deep_links.parse(context.args[0])
    if link is not None and link.amount is None:
        return await _begin(update, context, amount=None, reference=None)  # customer types it
    amount = _checked_amount(link.amount, context) if link and link.amount else None
    if amount is None:
        await _reply(update, t(lang, "welcome_bad_link"))
        return END
    reference = link.reference if link else None
    return await _begin(update, context, amount=amount, reference=reference)


async def pay(update: Update, context: BotContext) -> int:
    """/pay: ask for the amount (or refuse while another payment is on its way)."""
    return await _begin(update, context, amount=None, reference=None)


async def retry(update: Update, context: BotContext) -> int:
    """The "Try again" button under a failure: start over with the same amount."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    amount = _checked_amount((query.data or "").partition(":")[2], context)
    return await _begin(update, context, amount=amount, reference=None)


async def _begin(
    update: Update, context: BotContext, *, amount: int | None, reference: str | None
) -> int:
    lang = context.lang(update)
    user_id = _user_id(update)
    if not await _ready_for_new_payment(update, context, user_id):
        return END
    context.user_data[_DRAFT] = {"amount": amount, "reference": reference}
    if amount is None:
        await _reply(update, t(lang, "ask_amount", merchant=context.settings.merchant_name))
        return AMOUNT
    return await _ask_phone(update, context)


async def _ready_for_new_payment(update: Update, context: BotContext, user_id: int) -> bool:
    """Refuse while a payment is on its way; drop a stale draft left by an abandoned chat."""
    for payment in await context.payments.recent_for_user(user_id, limit=5):
        if payment.status in _BUSY and not payment.flagged_reason:
            await _reply(update, _in_progress_text(context.lang(update), payment))
            return False
        if payment.status == PaymentStatus.CREATED:
            await context.payments.cancel_draft(payment.id, user_id=user_id)
    return True


# ------------------------------------------------------------------ amount


async def amount_entered(update: Update, context: BotContext) -> int:
    lang = context.lang(update)
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    try:
        amount = parse_amount(text, context.payments.rules)
    except InvalidAmount as exc:
        await _reply(update, _amount_problem(lang, exc, text) + "\n\n" + t(lang, "amount_again"))
        return AMOUNT
    _draft(context)["amount"] = amount
    return await _ask_phone(update, context)


def _amount_problem(lang: str, exc: InvalidAmount, text: str) -> str:
    key = f"amount_{exc.reason}"
    values = {"minimum": money(exc.minimum), "maximum": money(exc.maximum), "text": text[:20]}
    return t(lang, key if has(lang, key) else "amount_invalid", **values)


# ------------------------------------------------------------------ phone


async def _ask_phone(update: Update, context: BotContext) -> int:
    lang = context.lang(update)
    amount = _draft(context)["amount"]
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(t(lang, "btn_share_phone"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await _reply(update, t(lang, "ask_phone", amount=money(amount)), reply_markup=keyboard)
    last = await context.payments.last_phone_for_user(_user_id(update))
    if last:
        button = views.InlineKeyboardButton(
            t(lang, "btn_last_phone", phone=mask_phone(last)), callback_data=views.LAST_PHONE
        )
        await _reply(
            update,
            t(lang, "ask_phone_last", phone=mask_phone(last)),
            reply_markup=views.InlineKeyboardMarkup([[button]]),
        )
    return PHONE


async def phone_typed(update: Update, context: BotContext) -> int:
    text = update.effective_message.text if update.effective_message else ""
    return await _take_phone(update, context, text or "")


async def contact_shared(update: Update, context: BotContext) -> int:
    message = update.effective_message
    assert message is not None and message.contact is not None
    # Only the sender's own number: pushing to someone else's phone would let anyone spam
    # strangers with M-Pesa prompts.
    if message.contact.user_id != _user_id(update):
        await _reply(update, t(context.lang(update), "not_own_contact"))
        return PHONE
    return await _take_phone(update, context, message.contact.phone_number)


async def last_phone_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    last = await context.payments.last_phone_for_user(_user_id(update))
    if not last:
        await _reply(update, t(context.lang(update), "phone_again"))
        return PHONE
    return await _take_phone(update, context, last)


async def _take_phone(update: Update, context: BotContext, raw: str) -> int:
    lang = context.lang(update)
    try:
        phone = normalize_phone(raw)
    except InvalidPhone:
        await _reply(update, t(lang, "phone_invalid"))
        return PHONE
    return await _confirm(update, context, phone)


# ------------------------------------------------------------------ confirmation and push


async def _confirm(update: Update, context: BotContext, phone: str) -> int:
    lang = context.lang(update)
    draft = _draft(context)
    chat = update.effective_chat
    try:
        payment = await context.payments.create_payment(
            user_id=_user_id(update),
            chat_id=chat.id if chat else _user_id(update),
            amount=draft["amount"],
            phone=phone,
            account_reference=draft.get("reference"),
            language=lang,
        )
    except PaymentInProgress as exc:
        text = _busy_text(lang, exc.existing, _user_id(update))
        await _reply(update, text, reply_markup=_no_keyboard())
        return _finish(context)
    except PushLimitExceeded as exc:
        await _reply(update, _limit_text(lang, exc), reply_markup=_no_keyboard())
        return _finish(context)
    draft["payment_id"] = payment.id
    merchant = context.settings.merchant_name
    # A message of its own to take the share-number keyboard away: a message can carry either
    # a reply keyboard change or inline buttons, and the confirmation needs the buttons.
    await _reply(update, t(lang, "preparing", phone=mask_phone(phone)), reply_markup=_no_keyboard())
    await _reply(
        update,
        views.confirmation_text(lang, payment, merchant),
        reply_markup=views.confirm_keyboard(lang, payment.id),
    )
    return CONFIRM


async def confirm_pressed(update: Update, context: BotContext) -> int:
    """Confirm: claim the push, answer at once, send the prompt in the background.

    The claim (created -> pushing) is a conditional move, so a double tap, a stale button or a
    second instance still cannot push twice; only the tap whose claim moved the row sends. The
    push itself runs outside this handler (`bot.push_sender`): a slow Daraja holds up no reply,
    and a refusal reaches the customer through the outbox, edited into this message.

    Also registered outside the conversation, so a stale or repeated tap still gets an answer.
    """
    query = update.callback_query
    assert query is not None and query.message is not None
    lang = context.lang(update)
    payment = await _own_payment(update, context)
    if payment is None:
        return _finish(context)
    if payment.status != PaymentStatus.CREATED:
        await query.answer(t(lang, "already_sent" if payment.status in _BUSY else "payment_closed"))
        return _finish(context)
    try:
        claimed = await context.payments.claim_push(payment.id, user_id=_user_id(update))
    except DraftExpired:
        # An old Confirm button (the draft outlived DRAFT_TTL): cancelled, nothing pushed.
        await query.answer()
        await _edit(query, t(lang, "draft_expired"))
        return _finish(context)
    except PushLimitExceeded as exc:
        await query.answer()
        await _edit(query, _limit_text(lang, exc))
        return _finish(context)
    except PaymentInProgress as exc:
        await query.answer()
        await _edit(query, _busy_text(lang, exc.existing, _user_id(update)))
        return _finish(context)
    if claimed is None:  # another tap or instance got there first
        fresh = await context.payments.get(payment.id)
        await query.answer(t(lang, "already_sent" if fresh.status in _BUSY else "payment_closed"))
        return _finish(context)
    merchant = context.settings.merchant_name
    # The message says "check your phone" before the push is sent, so the notifier's later edit
    # (paid / failed) can never be overwritten by this handler. The edit is cosmetic: Telegram
    # refusing it (flood control, 5xx, an uneditable message) must not keep the prompt from
    # going out, and the message id is remembered anyway so the notifier edits this message.
    check_phone = t(lang, "check_phone", amount=money(claimed.amount), merchant=merchant)
    try:
        await query.answer(t(lang, "sending_prompt"))
        await _edit_cosmetic(query, claimed.id, check_phone)
        await context.payments.set_status_message(claimed.id, query.message.message_id)
    finally:
        # Whatever happened above, the claimed push goes out: a claim never sent would leave
        # the payment in `pushing` until the reconciler gives it up.
        context.bot_data.pushes.start(context.application, claimed, update=update)
    return _finish(context)


async def _edit(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the status message; "not modified" means a concurrent tap already showed this."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def _edit_cosmetic(query: CallbackQuery, payment_id: int, text: str) -> None:
    """An edit nothing depends on: a Telegram failure is logged and otherwise ignored."""
    try:
        await _edit(query, text)
    except TelegramError as exc:
        log.warning(
            "payment #%d: status message edit failed (%s: %s); pushing anyway",
            payment_id,
            type(exc).__name__,
            exc,
        )


async def cancel_pressed(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    lang = context.lang(update)
    payment = await _own_payment(update, context)
    if payment is None:
        return _finish(context)
    await query.answer()
    if payment.status == PaymentStatus.CREATED:
        await context.payments.cancel_draft(payment.id, user_id=_user_id(update))
        await _edit(query, t(lang, "cancelled"))
    else:
        await query.edit_message_reply_markup(None)
    return _finish(context)


async def _own_payment(update: Update, context: BotContext) -> Payment | None:
    """The payment named by the button, if it belongs to the presser; else answer and refuse."""
    query = update.callback_query
    assert query is not None
    lang = context.lang(update)
    raw_id = (query.data or "").partition(":")[2]
    payment = None
    # Button data is client-controlled: "²".isdigit() is True but int() refuses it, and a
    # 60-digit id overflows the database's integer column. Ids are int4, so 9 digits always fit.
    if raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 9:
        try:
            payment = await context.payments.get(int(raw_id))
        except PaymentNotFound:
            payment = None
    if payment is None:
        log.warning("refused callback with unknown payment id %r", raw_id[:20])
        await query.answer(t(lang, "callback_invalid"), show_alert=True)
        return None
    if payment.user_id != _user_id(update):
        log.warning("refused callback for payment %s from user %s", payment.id, _user_id(update))
        await query.answer(t(lang, "callback_not_yours"), show_alert=True)
        return None
    return payment


# ------------------------------------------------------------------ leaving


async def cancel_command(update: Update, context: BotContext) -> int:
    lang = context.lang(update)
    payment_id = _draft(context).get("payment_id")
    if payment_id is not None:
        await _cancel_draft_quietly(context, payment_id, _user_id(update))
    await _reply(update, t(lang, "cancelled"), reply_markup=_no_keyboard())
    return _finish(context)


async def cancel_outside(update: Update, context: BotContext) -> None:
    await _reply(update, t(context.lang(update), "nothing_to_cancel"))


async def timed_out(update: Update, context: BotContext) -> None:
    """conversation_timeout: say so (nobody likes silence) and drop the draft."""
    payment_id = _draft(context).get("payment_id")
    user_id = _user_id(update)
    if payment_id is not None:
        await _cancel_draft_quietly(context, payment_id, user_id)
    chat = update.effective_chat
    await context.bot.send_message(
        chat.id if chat else user_id,
        t(context.lang(update), "timeout"),
        reply_markup=_no_keyboard(),
    )
    context.user_data.pop(_DRAFT, None)


async def _cancel_draft_quietly(context: BotContext, payment_id: int, user_id: int) -> None:
    try:
        await context.payments.cancel_draft(payment_id, user_id=user_id)
    except PaymentNotFound:
        log.info("draft %s already gone when cancelling", payment_id)


def _hint(key: str) -> Callable[[Update, BotContext], Awaitable[int]]:
    """Stickers, photos, voice…: say what is expected and stay in the same state."""
    state = {"hint_amount": AMOUNT, "hint_phone": PHONE, "hint_confirm": CONFIRM}[key]

    async def handler(update: Update, context: BotContext) -> int:
        await _reply(update, t(context.lang(update), key))
        return state

    return handler


# ------------------------------------------------------------------ helpers


def _draft(context: BotContext) -> dict[str, Any]:
    return context.user_data.setdefault(_DRAFT, {})


def _finish(context: BotContext) -> int:
    context.user_data.pop(_DRAFT, None)
    return END


def _user_id(update: Update) -> int:
    user = update.effective_user
    assert user is not None
    return user.id


def _checked_amount(text: str, context: BotContext) -> int | None:
    try:
        return parse_amount(text, context.payments.rules)
    except InvalidAmount:
        return None


def _in_progress_text(lang: str, payment: Payment) -> str:
    return t(
        lang,
        "in_progress",
        amount=money(payment.amount),
        phone=mask_phone(payment.phone),
        when=texts.when(payment.created_at, lang),
    )


def _busy_text(lang: str, existing: Payment, user_id: int) -> str:
    """The customer's own pending payment in detail; someone else's only as "number busy"."""
    if existing.user_id == user_id:
        return _in_progress_text(lang, existing)
    return t(lang, "phone_busy")


def _limit_text(lang: str, exc: PushLimitExceeded) -> str:
    return t(lang, "push_limit", wait=texts.wait(exc.retry_after_seconds, lang))


def _no_keyboard() -> ReplyKeyboardRemove:
    return ReplyKeyboardRemove()


async def _reply(update: Update, text: str, **kwargs: object) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the machine

_UNEXPECTED = ~filters.TEXT & ~filters.COMMAND & ~filters.CONTACT
_TYPED = filters.TEXT & ~filters.COMMAND


def pay_conversation(
    timeout_seconds: float | None, *, shared: bool = True
) -> ConversationHandler[BotContext]:
    """The /pay machine.

    `shared` (the default): a `SharedConversationHandler`, its state in the database for every
    instance (the Application needs `DatabasePersistence`). Otherwise state lives in this
    process's memory only (single-step tests, an Application without persistence).
    """
    confirm = CallbackQueryHandler(confirm_pressed, pattern=rf"^{views.CONFIRM}:")
    cancel = CallbackQueryHandler(cancel_pressed, pattern=rf"^{views.CANCEL}:")
    states: dict[object, list[BaseHandler[Update, BotContext, object]]] = {
        AMOUNT: [
            MessageHandler(_TYPED, amount_entered),
            MessageHandler(_UNEXPECTED | filters.CONTACT, _hint("hint_amount")),
        ],
        PHONE: [
            MessageHandler(filters.CONTACT, contact_shared),
            MessageHandler(_TYPED, phone_typed),
            CallbackQueryHandler(last_phone_chosen, pattern=rf"^{views.LAST_PHONE}$"),
            MessageHandler(_UNEXPECTED, _hint("hint_phone")),
        ],
        CONFIRM: [
            confirm,
            cancel,
            MessageHandler(_TYPED | _UNEXPECTED | filters.CONTACT, _hint("hint_confirm")),
        ],
        ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
    }
    options: dict[str, Any] = {
        "entry_points": [
            CommandHandler("pay", pay, filters=PRIVATE),
            CommandHandler("start", start, filters=PRIVATE),
            CallbackQueryHandler(retry, pattern=rf"^{views.RETRY}:"),
        ],
        "states": states,
        "fallbacks": [CommandHandler("cancel", cancel_command, filters=PRIVATE)],
        "conversation_timeout": timeout_seconds,
        # /pay, /start pay-… or "Try again" mid-conversation start over (dropping the draft).
        "allow_reentry": True,
        "name": CONVERSATION_NAME,
    }
    with warnings.catch_warnings():
        # PTB warns that callback queries are tracked per chat/user rather than per message.
        # That is what we want: the button's payment id, not the message, identifies the payment.
        warnings.filterwarnings("ignore", message="If 'per_message=False'")
        if shared:
            return SharedConversationHandler(persistent=True, **options)
        return ConversationHandler(**options)


def standalone_handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Handlers for taps and commands that arrive outside a running conversation."""
    return [
        CallbackQueryHandler(confirm_pressed, pattern=rf"^{views.CONFIRM}:"),
        CallbackQueryHandler(cancel_pressed, pattern=rf"^{views.CANCEL}:"),
        CommandHandler("cancel", cancel_outside, filters=PRIVATE),
    ]
