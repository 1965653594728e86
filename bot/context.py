"""The typed handler context: services and settings reach handlers here, not through loose dicts.

`BotServices` is what the host (webhooks app or polling CLI) hands to `build_application`;
`BotData` is PTB's `bot_data` object (never persisted: it holds live services); `BotContext` is
the `CallbackContext` every handler receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot, filters

from bot import texts
from config import Settings

if TYPE_CHECKING:
    from bot.daily_summary import DailySummary
    from bot.inbox_worker import InboxWorker
    from bot.notifier import Notifier
    from bot.push_sender import PushSender
    from payments.outbox import Outbox
    from payments.service import PaymentService


#: Commands work in private chats only: in a group, amounts, receipts and admin data would be
#: shown to everyone in it.
PRIVATE = filters.ChatType.PRIVATE


@dataclass
class BotServices:
    """What the bot needs from the rest of lipabot.

    `owner` names this instance in outbox leases (two instances never deliver the same row).
    """

    payments: PaymentService
    outbox: Outbox
    owner: str = "bot"


class BotData:
    """PTB's bot_data: filled once by `build_application`, read through `BotContext`."""

    services: BotServices
    settings: Settings
    notifier: Notifier
    #: The Telegram inbox: webhook updates kept until processed (`bot.inbox`).
    inbox: InboxWorker
    #: Sends claimed STK pushes in the background (`bot.push_sender`).
    pushes: PushSender
    #: None unless ADMIN_DAILY_SUMMARY_AT is set.
    daily_summary: DailySummary | None = None
    #: The /pay conversation, so a last-resort handler can tell which step a customer is at.
    conversation: Any = None


class BotContext(CallbackContext[ExtBot[None], dict[str, Any], dict[str, Any], BotData]):
    """Handler context with typed access to the services, settings and the caller's language."""

    #: Set when this update found its conversation idle past the timeout and the customer was
    #: just told so: that message is the answer, nothing else is added (PTB builds one context
    #: per update and hands it to every group's handlers).
    timed_out_now: bool = False

    @property
    def services(self) -> BotServices:
        return self.bot_data.services

    @property
    def payments(self) -> PaymentService:
        return self.bot_data.services.payments

    @property
    def settings(self) -> Settings:
        return self.bot_data.settings

    def lang(self, update: Update | None = None) -> str:
        """The user's chosen language, else Telegram's client language ("sw" → Kiswahili)."""
        chosen = self.user_data.get("lang") if self.user_data is not None else None
        if chosen in texts.LANGUAGES:
            return str(chosen)
        user = update.effective_user if update is not None else None
        return texts.language_from_telegram(user.language_code if user else None)

    def is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.settings.admin_ids


BotApplication = Application[ExtBot[None], BotContext, dict[str, Any], dict[str, Any], BotData, Any]


def inbox_of(application: Application[Any, Any, Any, Any, Any, Any]) -> InboxWorker:
    """The inbox worker `build_application` created for this application."""
    return application.bot_data.inbox  # type: ignore[no-any-return]


def notifier_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Notifier:
    """The notifier `build_application` created for this application."""
    return application.bot_data.notifier  # type: ignore[no-any-return]
