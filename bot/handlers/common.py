"""Customer commands outside the pay conversation: /help, /history, /language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot import views
from bot.context import PRIVATE, BotContext
from bot.texts import LANGUAGES, t

HISTORY_SIZE = 10


async def help_command(update: Update, context: BotContext) -> None:
    lang = context.lang(update)
    text = t(lang, "help", merchant=context.settings.merchant_name)
    if context.is_admin(update):
        text += "\n\n" + t(lang, "help_admin") + "\n\n" + t(lang, "help_shop")
    await _reply(update, text)


async def history(update: Update, context: BotContext) -> None:
    """The caller's own payments, newest first; never anyone else's."""
    lang = context.lang(update)
    user = update.effective_user
    assert user is not None
    payments = await context.payments.recent_for_user(user.id, limit=HISTORY_SIZE)
    if not payments:
        await _reply(update, t(lang, "history_empty"))
        return
    lines = [t(lang, "history_header"), *(views.history_line(lang, p) for p in payments)]
    await _reply(update, "\n".join(lines))


async def language(update: Update, context: BotContext) -> None:
    lang = context.lang(update)
    await _reply(update, t(lang, "language_prompt"), reply_markup=views.language_keyboard(lang))


async def language_chosen(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    choice = (query.data or "").partition(":")[2]
    if choice not in LANGUAGES:
        await query.answer(t(context.lang(update), "callback_invalid"))
        return
    # user_data is persisted (bot.persistence), so the choice survives restarts.
    context.user_data["lang"] = choice
    await query.answer()
    await query.edit_message_text(t(choice, "language_set"))


async def _reply(update: Update, text: str, **kwargs: object) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text, **kwargs)  # type: ignore[arg-type]


def common_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        CommandHandler("help", help_command, filters=PRIVATE),
        CommandHandler("history", history, filters=PRIVATE),
        CommandHandler("language", language, filters=PRIVATE),
        CallbackQueryHandler(language_chosen, pattern=rf"^{views.LANGUAGE}:"),
    ]
