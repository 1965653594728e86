"""Builds lipabot's running object graph from `Settings`, and takes it down again.

`Runtime.start(...)` opens, in order: the database, the HTTP client for Daraja (with metrics
hooks), the Daraja client, the payments service and outbox, the PTB Application, and the
background workers (notifier, reconciler); `Runtime.stop()` closes them in reverse. The Starlette
app (`webhooks.app`) only calls these two from its lifespan, so the wiring can be read (and
tested) apart from the routes.

In emulator mode without `MPESA_BASE_URL`, the Daraja emulator lives in this process: the Daraja
client reaches it through `httpx.ASGITransport` and the emulator posts its callbacks back into
this app the same way. In-process rather than over loopback because it needs no port to be known
when the object graph is built (`PORT=0`, tests, the demo), costs no socket round-trip, and keeps
working when the app itself runs under a test transport. Only `run` (local polling) also mounts
it at `/daraja` to look at over HTTP; under `serve` nothing of it is reachable from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import httpx
from telegram.error import TelegramError
from telegram.request import BaseRequest

from bot.app import ALLOWED_UPDATES, build_application, publish_commands
from bot.context import BotServices, inbox_of, notifier_of
from config import Settings
from config.settings import DarajaEnv
from daraja.c2b import REFUSED_URL_WORDS
from daraja.client import DarajaClient
from daraja.config import DarajaConfig
from daraja.emulator import create_emulator_app
from payments import db
from payments.daraja_gateway import DarajaGateway
from payments.outbox import Outbox
from payments.reconciler import Reconciler, default_owner
from payments.rules import PaymentRules
from payments.service import PaymentService
from webhooks.metrics import Metrics

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import ASGIApp

    from bot.context import BotApplication
    from bot.inbox_worker import InboxWorker
    from bot.notifier import Notifier

log = logging.getLogger(__name__)

CALLBACK_PATH = "/payments/callback/"
C2B_CONFIRMATION_PATH = "/payments/c2b/confirmation/"
C2B_VALIDATION_PATH = "/payments/c2b/validation/"
TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
EMULATOR_MOUNT = "/daraja"
#: Base URL the in-process Daraja client uses for the mounted emulator (never resolved).
EMULATOR_INTERNAL_URL = "http://daraja-emulator.internal"
#: Shortest callback token `check` accepts: it is the only thing guarding the callback route.
MIN_CALLBACK_TOKEN_LENGTH = 24
SHUTDOWN_GRACE_SECONDS = 5.0

TelegramMode = Literal["webhook", "polling"]


def announce_chats(settings: Settings) -> tuple[int, ...]:
    """Who hears of every paid payment: the admins and the staff chat (ADMIN_NOTIFY_PAYMENTS)."""
    if not settings.admin_notify_payments:
        return ()
    chats = list(settings.admin_ids)
    if settings.admin_chat_id is not None:
        chats.append(settings.admin_chat_id)
    return tuple(dict.fromkeys(chats))


def uses_mounted_emulator(settings: Settings) -> bool:
    """The emulator runs inside this app: emulator mode and no external Daraja URL given."""
    return settings.daraja_env == DarajaEnv.EMULATOR and not settings.mpesa_base_url


def callback_token_of(settings: Settings) -> str | None:
    token = settings.mpesa_callback_token
    return token.get_secret_value() if token is not None else None


def public_base_url(settings: Settings) -> str:
    """PUBLIC_URL, or (locally, emulator mode only) the loopback address on PORT."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if settings.daraja_env == DarajaEnv.EMULATOR:
        return f"http://127.0.0.1:{settings.port}"
    raise ValueError("PUBLIC_URL is required unless MPESA_ENV=emulator")


def callback_url(settings: Settings, token: str) -> str:
    """The CallBackURL sent to Daraja: MPESA_CALLBACK_URL, else PUBLIC_URL + the token path."""
    if settings.mpesa_callback_url:
        return settings.mpesa_callback_url.strip()
    return f"{public_base_url(settings)}{CALLBACK_PATH}{token}"


def c2b_urls(settings: Settings, token: str) -> tuple[str, str]:
    """The C2B ConfirmationURL and ValidationURL to register (`python -m bot register-c2b`)."""
    base = public_base_url(settings)
    return (
        f"{base}{C2B_CONFIRMATION_PATH}{token}",
        f"{base}{C2B_VALIDATION_PATH}{token}",
    )


def telegram_webhook_url(settings: Settings) -> str:
    return f"{public_base_url(settings)}{TELEGRAM_WEBHOOK_PATH}"


def resolve_callback_token(settings: Settings) -> str:
    """The configured token; in emulator mode a fresh random one when none is configured."""
    token = callback_token_of(settings)
    if token:
        return token
    if settings.daraja_env != DarajaEnv.EMULATOR:
        raise ValueError(f"MPESA_CALLBACK_TOKEN is required for MPESA_ENV={settings.daraja_env}")
    log.info("MPESA_CALLBACK_TOKEN not set: generated a random one for this run (emulator mode)")
    while True:
        # Daraja refuses callback URLs with certain words in them, token included.
        token = secrets.token_urlsafe(32)
        if not any(word in token.lower() for word in REFUSED_URL_WORDS):
            return token


@dataclass
class Runtime:
    """Everything the routes need, built once per app."""

    settings: Settings
    callback_token: str
    metrics: Metrics
    emulator_app: Starlette | None = None
    emulator_callback_http: httpx.AsyncClient | None = None
    http: httpx.AsyncClient | None = None
    daraja: DarajaClient | None = None
    service: PaymentService | None = None
    outbox: Outbox | None = None
    application: BotApplication | None = None
    reconciler: Reconciler | None = None
    telegram_mode: TelegramMode = "webhook"
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _exit: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    @property
    def notifier(self) -> Notifier:
        assert self.application is not None
        return notifier_of(self.application)

    @property
    def inbox(self) -> InboxWorker:
        assert self.application is not None
        return inbox_of(self.application)

    async def start(
        self,
        *,
        daraja_transport: httpx.AsyncBaseTransport | None = None,
        telegram_request: BaseRequest | None = None,
        telegram_updates_request: BaseRequest | None = None,
        run_migrations: bool = False,
        run_workers: bool = True,
        register_webhook: bool = False,
        reconcile_interval: float = 5.0,
    ) -> None:
        """Open everything; on failure, close what was opened and re-raise."""
        try:
            await self._start(
                daraja_transport=daraja_transport,
                telegram_request=telegram_request,
                telegram_updates_request=telegram_updates_request,
                run_migrations=run_migrations,
                run_workers=run_workers,
                register_webhook=register_webhook,
                reconcile_interval=reconcile_interval,
            )
        except BaseException:
            await self.stop()
            raise

    async def _start(
        self,
        *,
        daraja_transport: httpx.AsyncBaseTransport | None,
        telegram_request: BaseRequest | None,
        telegram_updates_request: BaseRequest | None,
        run_migrations: bool,
        run_workers: bool,
        register_webhook: bool,
        reconcile_interval: float,
    ) -> None:
        settings = self.settings
        await db.init_db(settings.database_url, run_migrations=run_migrations)
        self._exit.push_async_callback(db.close_db)

        emulator_url = None
        if self.emulator_app is not None:
            await self._open_emulator()
            emulator_url = EMULATOR_INTERNAL_URL
            if daraja_transport is None:
                daraja_transport = httpx.ASGITransport(app=self.emulator_app)
        transport = daraja_transport or httpx.AsyncHTTPTransport()
        self.http = httpx.AsyncClient(
            transport=self.metrics.wrap_transport(transport),
            timeout=settings.mpesa_timeout_seconds,
            event_hooks=self.metrics.event_hooks(),
        )
        self._exit.push_async_callback(self.http.aclose)

        config = DarajaConfig.from_settings(settings, emulator_base_url=emulator_url)
        self.daraja = DarajaClient(config, self.http)
        self.service = PaymentService(
            DarajaGateway(self.daraja),
            rules=PaymentRules.from_settings(settings),
            callback_url=callback_url(settings, self.callback_token),
            account_reference=settings.mpesa_account_reference,
            description=settings.mpesa_transaction_desc,
            admin_chat_ids=settings.admin_ids,
            announce_chat_ids=announce_chats(settings),
        )
        self.outbox = Outbox()
        owner = default_owner()
        self.application = build_application(
            settings,
            BotServices(payments=self.service, outbox=self.outbox, owner=owner),
            request=telegram_request,
            get_updates_request=telegram_updates_request,
            updater=self.telegram_mode == "polling",
        )
        # Runs after the Application stopped (it processes its queue first): what is left of
        # this instance's inbox leases is handed back for the next instance at once.
        self._exit.push_async_callback(self.inbox.release)
        await self._start_telegram(register_webhook)
        if run_workers:
            self.reconciler = Reconciler(self.service, owner=owner, interval=reconcile_interval)
            self._tasks = [
                asyncio.create_task(self.notifier.run(self._stop), name="lipabot-notifier"),
                asyncio.create_task(self.reconciler.run(self._stop), name="lipabot-reconciler"),
            ]
            if self.telegram_mode == "webhook":
                self._tasks.append(
                    asyncio.create_task(self.inbox.run(self._stop), name="lipabot-inbox")
                )
            self._exit.push_async_callback(self._stop_workers)
        log.info(
            "lipabot started: Daraja %s%s, Telegram %s, database %s",
            settings.daraja_env,
            " (emulator in-process)" if self.emulator_app is not None else "",
            self.telegram_mode,
            "PostgreSQL" if settings.is_postgres else "SQLite",
        )

    async def _open_emulator(self) -> None:
        assert self.emulator_app is not None
        if self.emulator_callback_http is not None:
            self._exit.push_async_callback(self.emulator_callback_http.aclose)
        # Starlette does not run a mounted app's lifespan; we run it, so the emulator's
        # scheduled callbacks are cancelled with us (before its callback client is closed).
        await self._exit.enter_async_context(
            self.emulator_app.router.lifespan_context(self.emulator_app)
        )

    async def _start_telegram(self, register_webhook: bool) -> None:
        application = self.application
        assert application is not None
        await application.initialize()
        self._exit.push_async_callback(application.shutdown)
        await application.start()
        self._exit.push_async_callback(application.stop)
        if self.telegram_mode == "polling":
            assert application.updater is not None
            # start_polling deletes any webhook first: Telegram refuses getUpdates while one is set.
            await application.updater.start_polling(allowed_updates=list(ALLOWED_UPDATES))
            self._exit.push_async_callback(application.updater.stop)
        elif register_webhook:
            secret = self.settings.telegram_webhook_secret
            await application.bot.set_webhook(
                telegram_webhook_url(self.settings),
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=list(ALLOWED_UPDATES),
            )
            log.info("Telegram webhook registered at %s", telegram_webhook_url(self.settings))
        if self.telegram_mode == "polling" or register_webhook:
            # PTB runs post_init (which publishes them) only from run_polling/run_webhook.
            await self._publish_commands()

    async def _publish_commands(self) -> None:
        """The command menus; a refusal costs the menu, never the service."""
        assert self.application is not None
        try:
            await publish_commands(self.application.bot, self.settings.admin_ids)
        except TelegramError as exc:
            log.warning("could not publish the command menus: %s", exc)

    async def _stop_workers(self) -> None:
        self._stop.set()
        if not self._tasks:
            return
        _, late = await asyncio.wait(self._tasks, timeout=SHUTDOWN_GRACE_SECONDS)
        for task in late:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def stop(self) -> None:
        """Close in reverse order of opening; safe to call more than once."""
        await self._exit.aclose()
        self._exit = contextlib.AsyncExitStack()


def build_runtime(
    settings: Settings, *, host_app: ASGIApp, telegram_mode: TelegramMode = "webhook"
) -> Runtime:
    """The runtime for `settings`, not started yet.

    With the in-process emulator, its callbacks are posted to `host_app` (this service) through
    an ASGITransport, whatever host the CallBackURL names.
    """
    token = resolve_callback_token(settings)
    emulator_app = None
    callback_http = None
    if uses_mounted_emulator(settings):
        callback_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=host_app), timeout=10.0)
        emulator_app = create_emulator_app(
            shortcode=settings.mpesa_shortcode,
            passkey=settings.mpesa_passkey.get_secret_value(),
            callback_delay=settings.emulator_callback_delay_seconds,
            http=callback_http,
        )
    return Runtime(
        settings=settings,
        callback_token=token,
        metrics=Metrics(),
        emulator_app=emulator_app,
        emulator_callback_http=callback_http,
        telegram_mode=telegram_mode,
    )
