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
    Message,
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
    AmountProblem,
    DraftExpired,
    InvalidAmount,
    InvalidPhone,
    NotSafaricom,
    PaymentInProgress,
    PaymentNotFound,
    PushLimitExceeded,
)
from payments.models import Payment
from payments.msisdn import display_number, is_safaricom
from payments.rules import mask_phone, normalize_phone, parse_amount, safaricom_phone
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
    """/pay: ask for the amount; `/pay 500` starts with it (refused while one is on its way)."""
    if not context.args:
        return await _begin(update, context, amount=None, reference=None)
    return await _begin_with_text(update, context, " ".join(context.args))


async def text_outside(update: Update, context: BotContext) -> int:
    """Text outside a conversation: a bare amount ("500", "Ksh 1,500") starts a payment;
    anything else gets a pointer to /pay and /help (or news of the payment on its way)."""
    message = update.effective_message
    text = (message.text or "").strip() if message else ""
    if context.timed_out_now:
        return END  # the customer was just told the last conversation timed out
    if _looks_like_amount(text, context):
        return await _begin_with_text(update, context, text)
    await point_the_way(update, context)
    return END


def _looks_like_amount(text: str, context: BotContext) -> bool:
    """A number, even a wrong one ("0", "1.000", "300000"), but not a phone number."""
    try:
        normalize_phone(text)
        return False
    except InvalidPhone:
        pass
    try:
        parse_amount(text, context.payments.rules)
    except InvalidAmount as exc:
        return exc.reason is not AmountProblem.NOT_A_NUMBER
    return True


async def _begin_with_text(update: Update, context: BotContext, text: str) -> int:
    """Start a payment with the amount in `text`; a wrong one is explained, then asked for."""
    try:
        amount = parse_amount(text, context.payments.rules)
    except InvalidAmount as exc:
        state = await _begin(update, context, amount=None, reference=None, ask=False)
        if state == AMOUNT:
            lang = context.lang(update)
            await _reply(
                update, _amount_problem(lang, exc, text) + "\n\n" + t(lang, "amount_again")
            )
        return state
    return await _begin(update, context, amount=amount, reference=None)


async def retry(update: Update, context: BotContext) -> int:
    """The "Try again" button under a failure: start over with the same amount."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    amount = _checked_amount((query.data or "").partition(":")[2], context)
    return await _begin(update, context, amount=amount, reference=None)


async def _begin(
    update: Update,
    context: BotContext,
    *,
    amount: int | None,
    reference: str | None,
    ask: bool = True,
) -> int:
    lang = context.lang(update)
    user_id = _user_id(update)
    await _retire_draft_buttons(update, context)
    if not await _ready_for_new_payment(update, context, user_id):
        return _finish(context)
    context.user_data[_DRAFT] = {"amount": amount, "reference": reference}
    if amount is None:
        if ask:
            await _reply(update, t(lang, "ask_amount", merchant=context.settings.merchant_name))
        return AMOUNT
    return await _ask_phone(update, context)


async def _ready_for_new_payment(update: Update, context: BotContext, user_id: int) -> bool:
    """Refuse while a payment is on its way; drop a draft the new payment replaces (its
    confirmation loses its buttons and says why)."""
    lang = context.lang(update)
    for payment in await context.payments.recent_for_user(user_id, limit=5):
        if payment.status in _BUSY and not payment.flagged_reason:
            await _reply(update, _in_progress_text(lang, payment))
            return False
        if payment.status == PaymentStatus.CREATED:
            dropped = await context.payments.cancel_draft(payment.id, user_id=user_id)
            await _retire(update, context, dropped.status_message_id, t(lang, "confirm_replaced"))
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
    values: dict[str, object] = {
        "minimum": money(exc.minimum),
        "maximum": money(exc.maximum),
        "text": text[:20],
    }
    if exc.reason is AmountProblem.AMBIGUOUS and exc.thousands is not None:
        values.update(thousands=money(exc.thousands), plain=exc.thousands)
    elif exc.reason is AmountProblem.AMBIGUOUS:
        key = "amount_invalid"
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
    if last and is_safaricom(last):
        button = views.InlineKeyboardButton(
            t(lang, "btn_last_phone", phone=mask_phone(last)), callback_data=views.LAST_PHONE
        )
        sent = await _reply(
            update,
            t(lang, "ask_phone_last", phone=mask_phone(last)),
            reply_markup=views.InlineKeyboardMarkup([[button]]),
        )
        # Its button goes when the phone step ends, whichever way (see _retire_draft_buttons).
        _draft(context)["buttons"] = [sent.message_id]
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
        phone = safaricom_phone(raw)
    except NotSafaricom as exc:
        network = t(lang, f"network_{exc.network.lower()}")
        await _reply(update, t(lang, "phone_not_safaricom", network=network))
        return PHONE
    except InvalidPhone:
        await _reply(update, t(lang, "phone_invalid"))
        return PHONE
    await _retire_draft_buttons(update, context)
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
            customer_name=update.effective_user.full_name if update.effective_user else None,
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
    # The customer's own number in full here (and only here), so a typo can be caught.
    await _reply(
        update, t(lang, "preparing", phone=display_number(phone)), reply_markup=_no_keyboard()
    )
    sent = await _reply(
        update,
        views.confirmation_text(lang, payment, merchant),
        reply_markup=views.confirm_keyboard(lang, payment.id),
    )
    # Remembered with the payment, so whichever instance ends the draft (a new /pay, the
    # timeout, /cancel) can take the buttons away and say why.
    await context.payments.set_status_message(payment.id, sent.message_id)
    return CONFIRM


async def confirm_pressed(update: Update, context: BotContext) -> int | None:
    """Confirm: claim the push, answer at once, send the prompt in the background.

    The claim (created -> pushing) is a conditional move, so a double tap, a stale button or a
    second instance still cannot push twice; only the tap whose claim moved the row sends. The
    push itself runs outside this handler (`bot.push_sender`): a slow Daraja holds up no reply,
    and a refusal reaches the customer through the outbox, edited into this message.

    Also registered outside the conversation, so a stale or repeated tap still gets an answer
    (one line, and the old buttons go).
    """
    query = update.callback_query
    assert query is not None and query.message is not None
    lang = context.lang(update)
    payment = await _own_payment(update, context)
    if payment is None:
        return _finish_if_current(context, None)
    if payment.status != PaymentStatus.CREATED:
        await _stale_confirmation(query, lang, payment)
        return _finish_if_current(context, payment.id)
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
        # The way out if the prompt never comes (phone off, old SIM): bot.handlers.c2b.
        await _edit_cosmetic(query, claimed.id, check_phone, views.menu_keyboard(lang, claimed.id))
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


async def _edit_quietly(query: CallbackQuery, text: str) -> None:
    try:
        await _edit(query, text)
    except TelegramError as exc:
        log.info("could not edit a stale confirmation: %s", exc)


async def _edit_cosmetic(
    query: CallbackQuery, payment_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """An edit nothing depends on: a Telegram failure is logged and otherwise ignored."""
    try:
        await _edit(query, text, markup)
    except TelegramError as exc:
        log.warning(
            "payment #%d: status message edit failed (%s: %s); pushing anyway",
            payment_id,
            type(exc).__name__,
            exc,
        )


async def cancel_pressed(update: Update, context: BotContext) -> int | None:
    query = update.callback_query
    assert query is not None
    lang = context.lang(update)
    payment = await _own_payment(update, context)
    if payment is None:
        return _finish_if_current(context, None)
    if payment.status != PaymentStatus.CREATED:
        await _stale_confirmation(query, lang, payment)
        return _finish_if_current(context, payment.id)
    await query.answer()
    await context.payments.cancel_draft(payment.id, user_id=_user_id(update))
    await _edit(query, t(lang, "cancelled"))
    return _finish_if_current(context, payment.id)


async def _stale_confirmation(query: CallbackQuery, lang: str, payment: Payment) -> None:
    """A tap on the buttons of a payment that has moved on: say so in one line, and take the
    buttons away (a draft that ended says why; a pushed payment's message is the notifier's)."""
    if payment.status in _BUSY:
        await query.answer(t(lang, "already_sent"))
    else:
        await query.answer(t(lang, "payment_closed"))
    if payment.status in (PaymentStatus.CANCELLED, PaymentStatus.EXPIRED) and not (
        payment.checkout_request_id
    ):
        await _edit_quietly(query, t(lang, "confirm_ended"))
        return
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.info("could not remove stale buttons: %s", exc.message)


async def payment_named_by(query: CallbackQuery, context: BotContext) -> Payment | None:
    """The payment a button's data (`<action>:<id>`) names, or None when there is none."""
    raw_id = (query.data or "").partition(":")[2]
    # Button data is client-controlled: "²".isdigit() is True but int() refuses it, and a
    # 60-digit id overflows the database's integer column. Ids are int4, so 9 digits always fit.
    if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 9):
        return None
    try:
        return await context.payments.get(int(raw_id))
    except PaymentNotFound:
        return None


async def _own_payment(update: Update, context: BotContext) -> Payment | None:
    """The payment named by the button, if it belongs to the presser; else answer and refuse."""
    query = update.callback_query
    assert query is not None
    lang = context.lang(update)
    payment = await payment_named_by(query, context)
    if payment is None:
        raw_id = (query.data or "").partition(":")[2]
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
    await _retire_draft_buttons(update, context)
    if payment_id is not None:
        dropped = await _cancel_draft_quietly(context, payment_id, _user_id(update))
        if dropped is not None:
            await _retire(update, context, dropped.status_message_id, t(lang, "confirm_ended"))
    await _reply(update, t(lang, "cancelled"), reply_markup=_no_keyboard())
    return _finish(context)


async def cancel_outside(update: Update, context: BotContext) -> None:
    await _reply(update, t(context.lang(update), "nothing_to_cancel"))


async def timed_out(update: Update, context: BotContext) -> None:
    """conversation_timeout: say so (nobody likes silence) and drop the draft."""
    context.timed_out_now = True
    payment_id = _draft(context).get("payment_id")
    user_id = _user_id(update)
    lang = context.lang(update)
    await _retire_draft_buttons(update, context)
    if payment_id is not None:
        dropped = await _cancel_draft_quietly(context, payment_id, user_id)
        if dropped is not None:
            await _retire(update, context, dropped.status_message_id, t(lang, "confirm_expired"))
    chat = update.effective_chat
    await context.bot.send_message(
        chat.id if chat else user_id,
        t(context.lang(update), "timeout"),
        reply_markup=_no_keyboard(),
    )
    context.user_data.pop(_DRAFT, None)


async def _cancel_draft_quietly(
    context: BotContext, payment_id: int, user_id: int
) -> Payment | None:
    """The draft, cancelled; None when it is gone. Only a draft that this call (or an earlier
    ending) cancelled is returned: a pushed payment keeps its message."""
    try:
        payment = await context.payments.cancel_draft(payment_id, user_id=user_id)
    except PaymentNotFound:
        log.info("draft %s already gone when cancelling", payment_id)
        return None
    return payment if payment.status == PaymentStatus.CANCELLED else None


def _hint(key: str) -> Callable[[Update, BotContext], Awaitable[int]]:
    """Stickers, photos, voice…: say what is expected and stay in the same state."""
    state = {"hint_amount": AMOUNT, "hint_phone": PHONE, "hint_confirm": CONFIRM}[key]

    async def handler(update: Update, context: BotContext) -> int:
        await _reply(update, t(context.lang(update), key))
        return state

    return handler


# ------------------------------------------------------------------ never silent

_STEP_HINTS = {AMOUNT: "hint_amount", PHONE: "hint_phone", CONFIRM: "hint_confirm"}


async def point_the_way(update: Update, context: BotContext, *, prefix: str = "") -> None:
    """What to say to a message nothing else answered: the current step's hint, news of the
    payment on its way, or a pointer to /pay and /help."""
    if context.timed_out_now:
        return  # the customer was just told the last conversation timed out: that is the answer
    lang = context.lang(update)
    state = current_step(context, update)
    if state in _STEP_HINTS:
        text = t(lang, _STEP_HINTS[state])
    else:
        waiting = await _payment_on_its_way(context, _user_id(update))
        if waiting is not None:
            text = t(lang, "pointer_waiting", amount=money(waiting.amount))
        else:
            text = t(lang, "pointer", merchant=context.settings.merchant_name)
    await _reply(update, prefix + text)


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command no handler took (a typo, or one this bot does not have)."""
    message = update.effective_message
    command = ((message.text or "").split() or ["/"])[0][:32] if message else "/"
    prefix = t(context.lang(update), "unknown_command", command=command) + "\n"
    await point_the_way(update, context, prefix=prefix)


async def anything_else(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice notes, contacts… that no step wanted."""
    await point_the_way(update, context)


async def stale_button(update: Update, context: BotContext) -> None:
    """A tap no handler took (e.g. an old "Use 0712…" button): say so, and take the buttons off."""
    query = update.callback_query
    assert query is not None
    await query.answer(t(context.lang(update), "button_stale"))
    if query.message is not None:
        try:
            await query.edit_message_reply_markup(None)
        except TelegramError as exc:
            log.info("could not take stale buttons away: %s", exc)


async def _payment_on_its_way(context: BotContext, user_id: int) -> Payment | None:
    for payment in await context.payments.recent_for_user(user_id, limit=5):
        if payment.status in _BUSY and not payment.flagged_reason:
            return payment
    return None


def current_step(context: BotContext, update: Update) -> object | None:
    """The pay conversation's state for this update (AMOUNT, PHONE, CONFIRM) or None."""
    conversation = context.bot_data.conversation
    if conversation is None:
        return None
    if isinstance(conversation, SharedConversationHandler):
        key = conversation.key_of(update)
    else:
        try:
            key = conversation._get_key(update)
        except RuntimeError:
            return None
    return conversation._conversations.get(key) if key is not None else None


# ------------------------------------------------------------------ helpers


def _draft(context: BotContext) -> dict[str, Any]:
    return context.user_data.setdefault(_DRAFT, {})


def _finish(context: BotContext) -> int:
    context.user_data.pop(_DRAFT, None)
    return END


def _finish_if_current(context: BotContext, payment_id: int | None) -> int | None:
    """End the conversation if the tap was about its own draft; a stale tap (an older
    confirmation, or one tapped outside any conversation) leaves the current step alone."""
    draft = (context.user_data or {}).get(_DRAFT)
    if draft is None or (payment_id is not None and draft.get("payment_id") == payment_id):
        return _finish(context)
    return None


async def _retire_draft_buttons(update: Update, context: BotContext) -> None:
    """Take away the buttons the current step showed (the "Use 0712…" number button)."""
    draft = (context.user_data or {}).get(_DRAFT) or {}
    for message_id in draft.pop("buttons", None) or []:
        await _retire(update, context, message_id, None)


async def _retire(
    update: Update, context: BotContext, message_id: int | None, text: str | None
) -> None:
    """Remove the buttons under a message the bot sent (and replace its text, if given).

    Cosmetic: the message may be gone or already changed, and Telegram may refuse; the
    customer's next step must not depend on it.
    """
    chat = update.effective_chat
    if message_id is None or chat is None:
        return
    try:
        if text is None:
            await context.bot.edit_message_reply_markup(chat.id, message_id, reply_markup=None)
        else:
            await context.bot.edit_message_text(text, chat.id, message_id, reply_markup=None)
    except TelegramError as exc:
        log.info("could not take the buttons off message %s: %s", message_id, exc)


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
    key = "push_limit_phone" if exc.per == "phone" else "push_limit"
    return t(lang, key, wait=texts.wait(exc.retry_after_seconds, lang))


def _no_keyboard() -> ReplyKeyboardRemove:
    return ReplyKeyboardRemove()


async def _reply(update: Update, text: str, **kwargs: object) -> Message:
    chat = update.effective_chat
    assert chat is not None
    return await chat.send_message(text, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the machine

_UNEXPECTED = ~filters.TEXT & ~filters.COMMAND & ~filters.CONTACT
_TYPED = filters.TEXT & ~filters.COMMAND
#: Only updates that carry a message or a button tap reach any handler (bot.app's gate);
#: these are the rest of the private-chat traffic.
_PRIVATE_MESSAGE = PRIVATE & filters.UpdateType.MESSAGE


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
    starts: list[BaseHandler[Update, BotContext, object]] = [
        CommandHandler("pay", pay, filters=PRIVATE),
        CommandHandler("start", start, filters=PRIVATE),
        CallbackQueryHandler(retry, pattern=rf"^{views.RETRY}:"),
    ]
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
        # Outside a conversation, typed text is a bare amount or gets a pointer (never silence).
        "entry_points": [*starts, MessageHandler(PRIVATE & _TYPED, text_outside)],
        "states": states,
        # /pay, /start pay-… or "Try again" mid-conversation start over (dropping the draft).
        # Fallbacks rather than allow_reentry: re-entry would also let typed text (an entry
        # point) restart the conversation at every step.
        "fallbacks": [CommandHandler("cancel", cancel_command, filters=PRIVATE), *starts],
        "conversation_timeout": timeout_seconds,
        "name": CONVERSATION_NAME,
    }
    with warnings.catch_warnings():
        # PTB warns that callback queries are tracked per chat/user rather than per message.
        # That is what we want: the button's payment id, not the message, identifies the payment.
        warnings.filterwarnings("ignore", message="If 'per_message=False'")
        if shared:
            return SharedConversationHandler(persistent=True, **options)
        return ConversationHandler(**options)


def last_resort_handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Registered after every other handler of the group: whatever nothing else answered."""
    return [
        MessageHandler(_PRIVATE_MESSAGE & filters.COMMAND, unknown_command),
        MessageHandler(_PRIVATE_MESSAGE, anything_else),
        CallbackQueryHandler(stale_button),
    ]


def standalone_handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """Handlers for taps and commands that arrive outside a running conversation."""
    return [
        CallbackQueryHandler(confirm_pressed, pattern=rf"^{views.CONFIRM}:"),
        CallbackQueryHandler(cancel_pressed, pattern=rf"^{views.CANCEL}:"),
        CommandHandler("cancel", cancel_outside, filters=PRIVATE),
    ]
