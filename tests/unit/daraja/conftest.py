"""Fixtures for the Daraja client tests: a scripted fake Daraja, a hand-moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from daraja.client import DarajaClient
from tests.support.clock import Clock
from tests.support.scripted_daraja import FakeDaraja, make_config


@pytest.fixture
def fake() -> FakeDaraja:
    return FakeDaraja()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def client(
    fake: FakeDaraja, clock: Clock, sleeps: list[float]
) -> AsyncIterator[DarajaClient]:
    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with fake.client() as http:
        yield DarajaClient(make_config(), http, clock=clock, sleep=no_sleep)
