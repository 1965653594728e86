"""Fixtures and helpers for tests that need a real payments database (SQLite and PostgreSQL).

* `db` — parametrised over ["sqlite", "postgres"]; yields a `TestDatabase` whose tortoise
  context is active for the test (models just work).
* `sqlite_db` — the SQLite half only, for tests that need one database.
* `temporary_database(kind)` — the same as a plain async context manager, for benchmarks and
  end-to-end scripts outside pytest fixtures.

The schema always comes from the real migrations (`payments.db.migrate`), so the migrations are
tested by every database test. To stay fast, migrations run once per session: SQLite copies a
migrated template file per test; PostgreSQL migrates one throwaway database
`lipabot_test_<unix time>_<random>` per session and truncates it between tests, then drops it
at the end; one that a killed run left behind is dropped by a later run after six hours.

PostgreSQL comes from env `LIPABOT_TEST_POSTGRES_URL` (default
`postgres://postgres@127.0.0.1:5432/postgres`, used only to create and drop the throwaway
database). When it is unreachable the postgres tests are skipped with the reason, unless
`LIPABOT_REQUIRE_POSTGRES=1` (CI), in which case they fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from tortoise.context import TortoiseContext

from payments.db import migrate, tortoise_config
from tests.support.journal import journal_mismatches

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
TABLES = (
    "notification",
    "payment_event",
    "c2b_payment",
    "payment",
    "stored_state",
    "telegram_inbox",
)
#: Enough pooled connections for real concurrency in tests (asyncio.gather of 50 calls).
POOL_QUERY = "minsize=1&maxsize=10"


@dataclass(frozen=True, slots=True)
class TestDatabase:
    """A migrated, empty database and the tortoise context that is open on it."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    kind: str  # "sqlite" or "postgres"
    url: str
    context: TortoiseContext

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgres"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server for tests could not be reached."""


def postgres_server_url() -> str:
    return os.environ.get("LIPABOT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def postgres_required() -> bool:
    return os.environ.get("LIPABOT_REQUIRE_POSTGRES", "") == "1"


def _with_database(server_url: str, name: str, query: str = "") -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, query, ""))


@asynccontextmanager
async def _admin_connection() -> AsyncIterator[Any]:
    """A connection to the server's admin database, or `PostgresUnavailable`."""
    import asyncpg

    url = postgres_server_url().replace("postgres://", "postgresql://", 1)
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise PostgresUnavailable(f"PostgreSQL at {_safe(url)} unreachable: {exc}") from exc
    try:
        yield conn
    finally:
        await conn.close()


async def _admin_execute(sql: str) -> None:
    async with _admin_connection() as conn:
        await conn.execute(sql)


def _safe(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


#: Throwaway databases are named `lipabot_test_<unix time>_<random>`.
TEST_DATABASE_PREFIX = "lipabot_test_"
#: A throwaway database older than this belongs to a run that was killed before it could drop
#: it (a whole CI run takes at most 90 minutes): the next run drops it.
LEFTOVER_AFTER_SECONDS = 6 * 3600


def throwaway_database_name(now: float | None = None) -> str:
    created = int(time.time() if now is None else now)
    return f"{TEST_DATABASE_PREFIX}{created}_{uuid.uuid4().hex[:8]}"


def leftover_databases(names: Iterable[str], now: float | None = None) -> list[str]:
    """Which of `names` are throwaway test databases left behind by a killed run.

    Only names in today's format with a creation time more than LEFTOVER_AFTER_SECONDS ago:
    anything else (a database of a run still going, another project's) is not ours to drop.
    """
    current = time.time() if now is None else now
    leftovers = []
    for name in names:
        stamp, _, rest = name.removeprefix(TEST_DATABASE_PREFIX).partition("_")
        if not name.startswith(TEST_DATABASE_PREFIX) or not stamp.isdigit() or not rest:
            continue
        if current - int(stamp) > LEFTOVER_AFTER_SECONDS:
            leftovers.append(name)
    return leftovers


async def drop_leftover_databases() -> list[str]:
    """Drop throwaway databases that killed runs left behind; returns their names."""
    async with _admin_connection() as conn:
        rows = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", TEST_DATABASE_PREFIX + "%"
        )
        dropped = leftover_databases(row["datname"] for row in rows)
        for name in dropped:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return dropped


async def create_postgres_database() -> str:
    """Create and migrate a throwaway database; returns its URL (with a pool size).

    Databases that killed runs left behind are dropped first (`drop_leftover_databases`).
    """
    await drop_leftover_databases()
    name = throwaway_database_name()
    await _admin_execute(f'CREATE DATABASE "{name}"')
    url = _with_database(postgres_server_url(), name, POOL_QUERY)
    try:
        await migrate(url)
    except BaseException:
        await drop_postgres_database(url)
        raise
    return url


async def drop_postgres_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def create_sqlite_database(directory: Path) -> str:
    path = directory / f"lipabot-{uuid.uuid4().hex[:8]}.sqlite3"
    url = f"sqlite://{path}"
    await migrate(url)
    return url


@asynccontextmanager
async def open_database(kind: str, url: str) -> AsyncIterator[TestDatabase]:
    """Open an isolated tortoise context on `url` and make it current while inside."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        yield TestDatabase(kind=kind, url=url, context=ctx)


async def truncate_all(database: TestDatabase) -> None:
    conn = database.context.db()
    if database.is_postgres:
        await conn.execute_script(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    else:
        for table in TABLES:
            await conn.execute_script(f"DELETE FROM {table}")  # noqa: S608 (constant names)


@asynccontextmanager
async def temporary_database(kind: str = "sqlite") -> AsyncIterator[TestDatabase]:
    """A fresh migrated database of `kind`, open and current; removed afterwards.

    Raises `PostgresUnavailable` when the PostgreSQL server cannot be reached.
    """
    if kind == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="lipabot-db-"))
        try:
            url = await create_sqlite_database(directory)
            async with open_database(kind, url) as database:
                yield database
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    elif kind == "postgres":
        url = await create_postgres_database()
        try:
            async with open_database(kind, url) as database:
                yield database
        finally:
            await drop_postgres_database(url)
    else:
        raise ValueError(f"unknown database kind {kind!r} (sqlite or postgres)")


# ------------------------------------------------------------------------------ fixtures
# Session set-up runs in its own short event loop (asyncio.run): tests use one loop each, and
# connections are only ever opened per test, inside that test's loop.


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sqlite-template")
    url = asyncio.run(create_sqlite_database(directory))
    return Path(url.removeprefix("sqlite://"))


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str | PostgresUnavailable]:
    try:
        url = asyncio.run(create_postgres_database())
    except PostgresUnavailable as exc:
        if postgres_required():
            raise
        yield exc
        return
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(url))


async def _check_journal(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("rows_set_by_hand") is not None:
        return
    mismatches = await journal_mismatches()
    assert not mismatches, "status changed outside a move: " + "; ".join(mismatches)


@pytest.fixture
async def sqlite_db(
    _sqlite_template: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[TestDatabase]:
    """A migrated SQLite database (a copy of the session's template), open for this test."""
    path = tmp_path / "lipabot.sqlite3"
    shutil.copyfile(_sqlite_template, path)
    async with open_database("sqlite", f"sqlite://{path}") as database:
        yield database
        await _check_journal(request)


@pytest.fixture
async def postgres_db(
    _postgres_url: str | PostgresUnavailable, request: pytest.FixtureRequest
) -> AsyncIterator[TestDatabase]:
    """The session's PostgreSQL database, emptied, open for this test (skips if unreachable)."""
    if isinstance(_postgres_url, PostgresUnavailable):
        pytest.skip(
            f"{_postgres_url} (set LIPABOT_TEST_POSTGRES_URL; "
            "LIPABOT_REQUIRE_POSTGRES=1 makes this a failure)"
        )
    async with open_database("postgres", _postgres_url) as database:
        await truncate_all(database)
        yield database
        await _check_journal(request)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> TestDatabase:
    """A migrated, empty database, once on SQLite and once on PostgreSQL."""
    # A plain fixture choosing an async one: pytest-asyncio sets it up in the test's loop.
    fixture = "sqlite_db" if request.param == "sqlite" else "postgres_db"
    return request.getfixturevalue(fixture)
