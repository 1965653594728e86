"""Fixtures for the reliability suite (tests/support/harness.py) and the figures printed after it.

* `clock`: the hand-moved `Clock` every instance reads;
* `watch`: the `QueryWatch` all instances' Daraja traffic passes through;
* `fanout`: the `CallbackFanOut` the emulator posts callbacks into;
* `telegram`: a `TelegramSeam` over the session's `fake_telegram`;
* `daraja_emulator`: the emulator app (callback delay 0) posting into `fanout`;
* `launch(name, **settings_overrides)`: start one more instance on the current database;
* `lipabot`: one instance on a fresh SQLite database (most fault tests);
* `lipabot_on_each_db`: the same, once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from daraja.emulator import Emulator
from offline.fake_telegram import FakeTelegram
from tests.support.clock import Clock
from tests.support.daraja import make_emulator_app
from tests.support.db import TestDatabase
from tests.support.figures import FIGURES
from tests.support.harness import (
    CallbackFanOut,
    Instance,
    Launch,
    QueryWatch,
    TelegramSeam,
    reliability_settings,
    start_instance,
)


@pytest.fixture
def clock() -> Clock:
    return Clock.from_real_now()  # Daraja timestamps are checked against the real time


@pytest.fixture
def watch() -> QueryWatch:
    return QueryWatch()


@pytest.fixture
def fanout() -> CallbackFanOut:
    return CallbackFanOut()


@pytest.fixture
def telegram(fake_telegram: FakeTelegram) -> TelegramSeam:
    return TelegramSeam(fake_telegram)


@pytest.fixture
async def daraja_emulator(fanout: CallbackFanOut) -> AsyncIterator[Starlette]:
    http = httpx.AsyncClient(transport=fanout, timeout=10.0)
    app = make_emulator_app(callback_http=http)
    yield app
    await app.state.emulator.aclose()
    await http.aclose()


@pytest.fixture
async def launch(
    daraja_emulator: Starlette,
    telegram: TelegramSeam,
    watch: QueryWatch,
    clock: Clock,
    fanout: CallbackFanOut,
) -> AsyncIterator[Launch]:
    started: list[Instance] = []

    async def _launch(name: str = "instance-a", **overrides: Any) -> Instance:
        instance = await start_instance(
            name,
            settings=reliability_settings(**overrides),
            emulator_app=daraja_emulator,
            telegram=telegram,
            watch=watch,
            clock=clock,
            fanout=fanout,
        )
        started.append(instance)
        return instance

    yield _launch
    # Callbacks still scheduled must not reach instances being taken down.
    await daraja_emulator.state.emulator.aclose()
    for instance in reversed(started):
        await instance.stop()


@pytest.fixture
async def lipabot(sqlite_db: TestDatabase, launch: Launch) -> Instance:
    return await launch()


@pytest.fixture
async def lipabot_on_each_db(db: TestDatabase, launch: Launch) -> Instance:
    """One instance, once on SQLite and once on PostgreSQL."""
    return await launch()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES.payments and not FIGURES.faults:
        return
    terminalreporter.section("reliability figures")
    for line in FIGURES.render():
        terminalreporter.write_line(line)


@pytest.fixture
def emu(daraja_emulator: Starlette) -> Emulator:
    """The shared emulator's control API."""
    return daraja_emulator.state.emulator  # type: ignore[no-any-return]
