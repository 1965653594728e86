"""Fixtures for the webhooks app: the real app, its lifespan running, reached via ASGITransport.

`service(**overrides)` (fixture `make_service`) opens the app for settings built with
`make_settings(**overrides)` on a fresh migrated SQLite copy, with the fake Telegram behind PTB
and (unless overridden) the in-process Daraja emulator with no callback delay. It yields a
`Service` with `.client` (httpx, any peer address via `client_for(peer)`), `.telegram`,
`.emulator`, `.runtime`.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from config import Settings
from daraja.emulator import Emulator
from offline.fake_telegram import FakeTelegram
from tests.support.settings import TEST_CALLBACK_TOKEN, make_settings
from webhooks.app import create_app
from webhooks.wiring import Runtime

BASE_URL = "http://lipabot.test"
CALLBACK = f"/payments/callback/{TEST_CALLBACK_TOKEN}"
WEBHOOK_SECRET = "tg-webhook-secret"  # make_settings' TELEGRAM_WEBHOOK_SECRET


@dataclass
class Service:
    app: Starlette
    settings: Settings
    client: httpx.AsyncClient
    telegram: FakeTelegram

    @property
    def runtime(self) -> Runtime:
        return self.app.state.runtime  # type: ignore[no-any-return]

    @property
    def emulator(self) -> Emulator:
        assert self.runtime.emulator_app is not None
        return self.runtime.emulator_app.state.emulator  # type: ignore[no-any-return]

    def client_for(self, peer: str) -> httpx.AsyncClient:
        """A client whose TCP peer address (as the app sees it) is `peer`."""
        transport = httpx.ASGITransport(app=self.app, client=(peer, 40000))
        return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


ServiceFactory = Callable[..., AbstractAsyncContextManager[Service]]


@pytest.fixture
def make_service(
    _sqlite_template: Path, tmp_path: Path, fake_telegram: FakeTelegram
) -> ServiceFactory:
    counter = iter(range(1000))

    @asynccontextmanager
    async def open_service(
        *, app_kwargs: dict[str, Any] | None = None, **overrides: Any
    ) -> AsyncIterator[Service]:
        path = tmp_path / f"lipabot-{next(counter)}.sqlite3"
        shutil.copyfile(_sqlite_template, path)
        overrides.setdefault("database_url", f"sqlite://{path}")
        settings = make_settings(**overrides)
        kwargs: dict[str, Any] = {
            "telegram_request": fake_telegram.request(),
            "reconcile_interval": 60.0,
        }
        kwargs.update(app_kwargs or {})
        app = create_app(settings, **kwargs)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                yield Service(app, settings, client, fake_telegram)

    return open_service


@pytest.fixture
async def service(make_service: ServiceFactory) -> AsyncIterator[Service]:
    async with make_service() as opened:
        yield opened
