"""Fixtures for the webhooks app: the real app, its lifespan running, reached via ASGITransport.

`service(**overrides)` (fixture `make_service`) opens the app for settings built with
`make_settings(**overrides)` on a fresh migrated SQLite copy, with the fake Telegram behind PTB
and (unless overridden) the in-process Daraja emulator with no callback delay. It yields a
`Service` with `.client` (httpx, any peer address via `client_for(peer)`), `.telegram`,
`.emulator`, `.runtime`.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from offline.fake_telegram import FakeTelegram
from tests.support.settings import make_settings
from tests.support.webhooks import BASE_URL, Service, ServiceFactory
from webhooks.app import create_app


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
