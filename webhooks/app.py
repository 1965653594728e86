"""`create_app(settings, ...)`: the co-hosted Starlette service.

Routes come from one module per family (`webhooks.callbacks`, `webhooks.c2b`,
`webhooks.telegram`, `webhooks.health`); the object graph they use is built by `webhooks.wiring`
and opened and closed by this app's lifespan. Tests swap transports through the keyword
arguments instead of patching.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from telegram.request import BaseRequest

from config import Settings
from config.logging import RedactingFilter
from webhooks import c2b, callbacks, gc_tuning, health, telegram
from webhooks.access_log import AccessLogMiddleware
from webhooks.security import ForwardedMiddleware, IpAllowlist, TrustedProxies
from webhooks.wiring import EMULATOR_MOUNT, Runtime, TelegramMode, build_runtime

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    daraja_transport: httpx.AsyncBaseTransport | None = None,
    telegram_request: BaseRequest | None = None,
    telegram_updates_request: BaseRequest | None = None,
    telegram_mode: TelegramMode = "webhook",
    register_webhook: bool = False,
    run_migrations: bool = False,
    run_workers: bool = True,
    reconcile_interval: float = 5.0,
    tune_gc: bool = False,
) -> Starlette:
    """The service for `settings`; nothing is opened until its lifespan starts.

    `daraja_transport` replaces the network under the Daraja client (default: the in-process
    emulator in emulator mode, else real HTTP); `telegram_request` replaces PTB's (e.g.
    `FakeTelegram.request()`; `telegram_updates_request` the one getUpdates uses, for polling).
    `telegram_mode="polling"` fetches updates with getUpdates instead
    of the webhook; `register_webhook` calls setWebhook at start-up (`serve`). Migrations are
    for `run` and `demo`; in production the release phase runs them. `tune_gc` applies
    `webhooks.gc_tuning` (the CLI's long-running processes only).
    """
    if tune_gc:
        gc_tuning.raise_young_threshold()
    runtime_box: list[Runtime] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = runtime_box[0]
        await runtime.start(
            daraja_transport=daraja_transport,
            telegram_request=telegram_request,
            telegram_updates_request=telegram_updates_request,
            run_migrations=run_migrations,
            run_workers=run_workers,
            register_webhook=register_webhook,
            reconcile_interval=reconcile_interval,
        )
        if tune_gc:
            gc_tuning.freeze_startup_objects()
        try:
            yield
        finally:
            await runtime.stop()

    app = Starlette(
        routes=[*callbacks.routes, *c2b.routes, *telegram.routes, *health.routes_for(settings)],
        middleware=[
            Middleware(ForwardedMiddleware, proxies=TrustedProxies(settings.forwarded_allow_ips)),
            Middleware(AccessLogMiddleware),
        ],
        lifespan=lifespan,
    )
    runtime = build_runtime(settings, host_app=app, telegram_mode=telegram_mode)
    runtime_box.append(runtime)
    if runtime.emulator_app is not None and telegram_mode == "polling":
        # Only `run` (on a laptop, 127.0.0.1 by default) shows the emulator over HTTP. Under
        # `serve` the port is public, and the emulator's control API shows every customer's
        # phone number and the callback URL with its token, and changes outcomes: the app
        # reaches it in-process (wiring's ASGITransport), and nothing of it is routed here.
        app.router.routes.append(Mount(EMULATOR_MOUNT, app=runtime.emulator_app))
    app.state.runtime = runtime
    app.state.health = health.HealthProbe()
    app.state.callback_allowlist = IpAllowlist(settings.mpesa_allowed_ips)
    _hide_from_logs(runtime.callback_token)
    return app


def _hide_from_logs(secret: str) -> None:
    """Add a secret made up at start-up to every redacting filter already installed."""
    root = logging.getLogger()
    for holder in [root, *root.handlers]:
        for filt in holder.filters:
            if isinstance(filt, RedactingFilter) and secret not in filt.secrets:
                filt.secrets = sorted({*filt.secrets, secret}, key=len, reverse=True)
