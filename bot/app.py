"""Builds the PTB Application: handlers, typed context, database persistence and the notifier.

The host decides how updates arrive: the webhooks app feeds `application.update_queue` (or calls
`process_update`) with `updater=False`; local development polls with `updater=True`.

Updates from the queue are processed concurrently (`TELEGRAM_CONCURRENT_UPDATES` at once), but
never two of one chat or of one user at once, and those in arrival order
(`PerChatUserUpdateProcessor`): PTB's ConversationHandler and our shared conversation state
assume one update at a time per conversation, and a conversation is keyed by chat and user. So
one customer waiting on something slow (an admin's live query to Daraja, a busy database) holds
up nobody else. STK pushes do not run in a handler at all (`bot.push_sender`).

Every Bot API call goes through one `bot.limiter.SendLimiter` (Telegram's flood limits, with
receipts ahead of replies ahead of admin messages).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
)
from telegram.request import BaseRequest

from bot import views
from bot.context import BotApplication, BotContext, BotData, BotServices
from bot.daily_summary import DailySummary
from bot.handlers.admin import admin_handlers
from bot.handlers.c2b import c2b_handlers
from bot.handlers.common import common_handlers
from bot.handlers.pay import last_resort_handlers, pay_conversation, standalone_handlers
from bot.handlers.shop import SHOP_COMMANDS, shop_handlers
from bot.inbox import Inbox, unique_owner
from bot.inbox_worker import InboxWorker
from bot.limiter import Priority, SendLimiter, keyed_lock, sending_as
from bot.notifier import Notifier
from bot.persistence import DatabasePersistence
from bot.push_sender import PushSender
from bot.shared_conversation import SharedConversationHandler, write_through
from bot.texts import money, t
from config import Settings
from payments.states import WAITING_STATES

log = logging.getLogger(__name__)
#: A payment in these states may have a prompt on the customer's phone.
WAITING = frozenset(str(s) for s in WAITING_STATES)

# Handler groups: -2 lets through only the update types the bot handles (the gate); -1 brings
# the conversation state in from the database (every instance sees the same conversation);
# everything in 0 (the first matching handler wins, so the conversation comes first, the
# stand-alone button handlers catch what it does not, and the last-resort handlers answer
# whatever nobody else took); 99 runs after each update and writes what changed.
GATE_GROUP = -2
SYNC_GROUP = -1
MAIN_GROUP = 0
PERSIST_GROUP = 99

#: The update types the bot handles: what the webhook registration and polling subscribe to.
#: Nothing else is asked for, and the gate drops anything else that arrives anyway: Telegram
#: Business messages in particular (an admin's /status written as a business message would
#: otherwise be answered with the shop's figures in a customer's chat), edited messages,
#: channel posts, guest messages.
ALLOWED_UPDATES: tuple[str, ...] = (Update.MESSAGE, Update.CALLBACK_QUERY)

CUSTOMER_COMMANDS = ("pay", "history", "language", "help", "cancel")
#: What admins see in their menu on top of the customers' commands.
ADMIN_COMMANDS = ("status", "pending", "recent", "reconcile", "unmatched", "attach", *SHOP_COMMANDS)
#: Updates handled at once by default (TELEGRAM_CONCURRENT_UPDATES).
CONCURRENT_UPDATES = 32


class PerChatUserUpdateProcessor(BaseUpdateProcessor):
    """Concurrent updates, serialised per chat and per user, in arrival order.

    The locks are taken before PTB's concurrency semaphore: the application starts one task
    per update in queue order, an uncontended `asyncio.Lock` is taken without yielding and
    waiters are served first come first served, so two updates of one chat or user run one
    after the other in the order they arrived. Locks are always taken chat first, then user,
    so two updates can never wait on each other.
    """

    __slots__ = ("_locks", "admin_ids", "after")

    def __init__(
        self, max_concurrent_updates: int = CONCURRENT_UPDATES, admin_ids: Iterable[int] = ()
    ) -> None:
        super().__init__(max_concurrent_updates)
        #: Whose updates are answered at admin priority (after customers' replies).
        self.admin_ids = frozenset(admin_ids)
        # key -> [lock, holders and waiters]; dropped when nobody needs it (no unbounded growth)
        self._locks: dict[tuple[str, int], list[Any]] = {}
        #: Awaited with each update once its handlers have run (the inbox marks it done), or
        #: with the exception that escaped its processing, still inside the update's chat and
        #: user locks. Not after a cancellation (a stop mid-update).
        self.after: Callable[[object, Exception | None], Awaitable[None]] | None = None

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # What the handlers send goes out at the sender's priority, in the order the updates
        # arrived (bot.limiter): stamped here, before waiting for the chat or a free slot.
        with sending_as(_priority_of(update, self.admin_ids), since=time.monotonic()):
            async with self._serialised(_keys(update)):
                try:
                    await super().process_update(update, coroutine)
                except Exception as exc:
                    if self.after is not None:
                        await self.after(update, exc)
                    raise
                if self.after is not None:
                    await self.after(update, None)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    @asynccontextmanager
    async def _serialised(self, keys: list[tuple[str, int]]) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for key in keys:
                await stack.enter_async_context(self._hold(key))
            yield

    def _hold(self, key: tuple[str, int]) -> AbstractAsyncContextManager[None]:
        return keyed_lock(self._locks, key)


def _priority_of(update: object, admin_ids: frozenset[int]) -> Priority:
    user = update.effective_user if isinstance(update, Update) else None
    return Priority.ADMIN if user is not None and user.id in admin_ids else Priority.REPLY


def _keys(update: object) -> list[tuple[str, int]]:
    """The chat's and the user's lock keys, chat first (the fixed order avoids deadlock)."""
    if not isinstance(update, Update):
        return []
    keys = []
    if update.effective_chat is not None:
        keys.append(("chat", update.effective_chat.id))
    if update.effective_user is not None:
        keys.append(("user", update.effective_user.id))
    return keys


def build_application(
    settings: Settings,
    services: BotServices,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    updater: bool = False,
    persistence: bool = True,
    polling: bool = False,
    concurrent_updates: int | None = None,
    limiter: SendLimiter | None = None,
) -> BotApplication:
    """A configured, not yet initialised Application.

    `polling=True` is an alias of `updater=True` (the name ARCHITECTURE.md uses).
    Without `persistence`, conversation state lives in memory only (tests of single steps).
    `concurrent_updates` (default: TELEGRAM_CONCURRENT_UPDATES) queued updates are processed
    at once, serialised per chat and per user. `limiter` replaces the one built from the
    settings (TELEGRAM_SEND_RATE, TELEGRAM_CHAT_RATE).
    """
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .post_init(_post_init)
        .concurrent_updates(
            PerChatUserUpdateProcessor(
                concurrent_updates or settings.telegram_concurrent_updates, settings.admin_ids
            )
        )
        .rate_limiter(limiter or send_limiter(settings))
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    if not (updater or polling):
        builder = builder.updater(None)
    if persistence:
        builder = builder.persistence(DatabasePersistence())
    application: BotApplication = builder.build()

    data = application.bot_data
    data.services = services
    data.settings = settings
    data.notifier = Notifier(
        application.bot,
        services.outbox,
        services.payments,
        owner=services.owner,
        admin_ids=settings.admin_ids,
        staff_chat_id=settings.admin_chat_id,
        merchant=settings.merchant_name,
        language_of=(
            application.persistence.chosen_language
            if isinstance(application.persistence, DatabasePersistence)
            else None
        ),
        give_up_after=timedelta(hours=settings.telegram_delivery_give_up_hours),
        menu=views.MenuPayment.from_settings(settings),
    )
    data.pushes = PushSender(services.payments, on_done=data.notifier.notify_soon)

    data.inbox = InboxWorker(
        application,
        Inbox(
            owner=unique_owner(services.owner),
            lease_seconds=settings.telegram_inbox_lease_seconds,
        ),
    )
    processor = application.update_processor
    if isinstance(processor, PerChatUserUpdateProcessor):
        processor.after = data.inbox.processed

    timeout = settings.bot_conversation_timeout_seconds or None
    conversation = pay_conversation(timeout, shared=persistence)
    data.conversation = conversation
    application.add_handler(TypeHandler(Update, _gate), GATE_GROUP)
    if isinstance(conversation, SharedConversationHandler):
        application.add_handler(conversation.sync_handler(), SYNC_GROUP)
        conversation.schedule_sweep(application)
    application.add_handler(conversation, MAIN_GROUP)
    for handler in [
        *standalone_handlers(),
        *common_handlers(),
        *admin_handlers(),
        *c2b_handlers(),
        *shop_handlers(),
    ]:
        application.add_handler(handler, MAIN_GROUP)
    # Last in the group: whatever no handler above took still gets an answer.
    for handler in last_resort_handlers():
        application.add_handler(handler, MAIN_GROUP)
    if settings.admin_daily_summary_at is not None:
        data.daily_summary = DailySummary(
            at=settings.admin_daily_summary_at,
            recipients=[*settings.admin_ids, *filter(None, [settings.admin_chat_id])],
            owner=services.owner,
            merchant=settings.merchant_name,
        )
        data.daily_summary.schedule(application)
    if persistence:
        application.add_handler(TypeHandler(Update, write_through), PERSIST_GROUP)
    application.add_error_handler(_on_error)
    return application


async def _gate(update: Update, context: BotContext) -> None:
    """Stop every update that is not a plain message or a button tap (see ALLOWED_UPDATES)."""
    if update.message is None and update.callback_query is None:
        log.info("update %s of a type the bot does not handle: dropped", update.update_id)
        raise ApplicationHandlerStop


def send_limiter(settings: Settings) -> SendLimiter:
    """The one limiter for this instance's share of the bot's Telegram budget."""
    return SendLimiter(rate=settings.telegram_send_rate, chat_rate=settings.telegram_chat_rate)


async def publish_commands(bot: Bot, admin_ids: Iterable[int] = ()) -> None:
    """Publish the command menu in both languages (Telegram shows the user's own).

    Each admin's private chat gets the admin commands too (a chat's own menu replaces the
    default one there, so it lists the customers' commands as well).

    Runs by itself in polling mode (post_init); a webhook host calls it after `initialize()`,
    because PTB only runs post_init from `run_polling`/`run_webhook`.
    """
    for lang in ("en", "sw"):
        language = None if lang == "en" else lang
        commands = [BotCommand(c, t(lang, f"menu_{c}")) for c in CUSTOMER_COMMANDS]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=language)
        admin_menu = commands + [BotCommand(c, t(lang, f"menu_{c}")) for c in ADMIN_COMMANDS]
        for admin in admin_ids:
            await bot.set_my_commands(
                admin_menu, scope=BotCommandScopeChat(admin), language_code=language
            )


async def _post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await publish_commands(application.bot, application.bot_data.settings.admin_ids)


async def _on_error(update: object, context: BotContext) -> None:
    """Log the failure and tell the person something went wrong instead of going silent."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        lang = context.lang(update)
        try:
            text = await _error_text(update, context, lang)
            await update.effective_chat.send_message(text)
        except Exception:
            log.warning("could not tell the user about the error", exc_info=True)


async def _error_text(update: Update, context: BotContext, lang: str) -> str:
    """Never "nothing was charged" (only M-Pesa may say that): when the customer's latest
    payment may have a prompt out, say it is being checked; the reconciler settles it."""
    user = update.effective_user
    if user is None:
        return t(lang, "error_generic")
    try:
        latest = await context.payments.recent_for_user(user.id, limit=1)
    except Exception:
        # The database itself may be what failed: a prompt may be out, we cannot tell.
        log.warning("could not read the customer's payments after an error", exc_info=True)
        return t(lang, "error_unsure")
    if latest and str(latest[0].status) in WAITING:
        return t(lang, "error_checking", amount=money(latest[0].amount))
    return t(lang, "error_generic")
