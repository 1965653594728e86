"""Opening, migrating and closing the payments database (tortoise-orm 1.x).

`DATABASE_URL` picks the engine: `sqlite://lipabot.sqlite3` (default) or `postgres://...`.

Tortoise 1.x keeps its state in a `TortoiseContext` found through a context variable. The
application runs one database per process, so `init_db` registers its context as tortoise's
global fallback: tasks started elsewhere (uvicorn's request tasks, PTB's handlers) then find it
too. Tests open their own isolated contexts instead (see `tests/support/db.py`), and `migrate`
always runs in a private context so it never disturbs the one the caller is using.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext, get_current_context
from tortoise.exceptions import ConfigurationError
from tortoise.migrations.api.migrate import migrate as _migrate_api
from tortoise.migrations.executor import MigrationExecutor

logger = logging.getLogger(__name__)

APP_LABEL = "models"
MODELS_MODULE = "payments.models"
MIGRATIONS_MODULE = "migrations"

_context: TortoiseContext | None = None

#: How long opening a connection may take before the database counts as unreachable.
CONNECT_TIMEOUT_SECONDS = 10.0
SCHEMES = ("sqlite", "postgres", "postgresql", "asyncpg")


class DatabaseUnavailable(Exception):
    """The database cannot be used; the message is the cause, in one line, without password."""


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The tortoise config for one database holding the payment models."""
    url = _normalise_url(database_url)
    connection = _connection_name(url)
    return {
        "connections": {connection: _connection_config(url)},
        "apps": {
            APP_LABEL: {
                "models": [MODELS_MODULE],
                "default_connection": connection,
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


class _NoResetConnection(asyncpg.Connection):
    """An asyncpg connection the pool takes back without a reset round trip.

    lipabot changes no session state (no SET, LISTEN, advisory locks or cursors); asyncpg still
    rolls back a transaction left open before the connection is handed out again.
    """

    def get_reset_query(self) -> str:
        return ""


def _connection_config(url: str) -> str | dict[str, Any]:
    if not url.startswith("postgres://"):
        return url
    config = expand_db_url(url)
    credentials = config["credentials"]
    # libpq's `?sslmode=require` (as Render, Neon and others hand out) is asyncpg's `ssl=`;
    # tortoise would pass it on as an unknown keyword (TypeError at the first connection).
    if "sslmode" in credentials:
        credentials["ssl"] = credentials.pop("sslmode")
    credentials["connection_class"] = _NoResetConnection
    return config


def url_problem(database_url: str) -> str | None:
    """Why `database_url` cannot be used, in one line; None when it can be parsed."""
    scheme = database_url.split("://", 1)[0] if "://" in database_url else ""
    if scheme not in SCHEMES:
        return "not a database URL: use sqlite://<file> or postgres://user:password@host/db"
    url = _normalise_url(database_url)
    try:
        _connection_config(url) if scheme != "sqlite" else expand_db_url(url)
    except (ConfigurationError, ValueError) as exc:
        return f"cannot be read: {exc}"
    folder = sqlite_folder(database_url)
    if folder is not None and not folder.is_dir():
        return f"the folder {folder} of the SQLite file does not exist: create it first"
    return None


def sqlite_path(database_url: str) -> Path | None:
    """The SQLite file of `database_url`; None for PostgreSQL and in-memory databases."""
    if not database_url.startswith("sqlite://"):
        return None
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def sqlite_folder(database_url: str) -> Path | None:
    path = sqlite_path(database_url)
    return None if path is None else path.parent


def safe_url(database_url: str) -> str:
    """The database URL without its password."""
    try:
        parts = urlsplit(database_url)
        password = parts.password
    except ValueError:
        return database_url.split("://", 1)[0] + "://…"
    if password is None:
        return database_url
    return parts._replace(netloc=parts.netloc.replace(f":{password}@", ":***@")).geturl()


def one_line(exc: BaseException) -> str:
    """The innermost cause of `exc` as `Type: first line of message`."""
    while exc.__cause__ is not None or (
        exc.__context__ is not None and not exc.__suppress_context__ and not str(exc)
    ):
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    if isinstance(exc, TimeoutError):
        text = text or f"no answer within {CONNECT_TIMEOUT_SECONDS:g} s"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _preflight(ctx: TortoiseContext, database_url: str) -> None:
    """One trivial query within the timeout, or DatabaseUnavailable with the cause.

    Needed before tortoise's migrate: its SQLite client keeps its connection lock after a failed
    connect, so the query after the failure waits for ever (`migrate` hung on a missing folder).
    """
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
            await ctx.db().execute_query("SELECT 1")
    except Exception as exc:
        raise DatabaseUnavailable(one_line(exc)) from exc


def _refuse_unusable(database_url: str) -> None:
    problem = url_problem(database_url)
    if problem is not None:
        raise DatabaseUnavailable(problem)


async def pending_migrations(database_url: str) -> list[str]:
    """Names of the migrations under `migrations/` this database has not applied yet."""
    _refuse_unusable(database_url)
    config = tortoise_config(database_url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        try:
            await _preflight(ctx, database_url)
            executor = MigrationExecutor(ctx.db(), config["apps"])
            plan = await executor.plan()
        finally:
            await ctx.close_connections()
    return [step.migration.name for step in plan if not step.backward]


def _connection_name(url: str) -> str:
    # Named after the engine, not "default": tortoise caches compiled INSERT statements per
    # (connection name, table), so a process that opens SQLite and then PostgreSQL (the test
    # suite, a migration tool) would otherwise reuse SQLite's placeholders on PostgreSQL.
    return url.split(":", 1)[0] or "default"


def _normalise_url(database_url: str) -> str:
    # Hosting providers hand out postgresql:// as often as postgres://; tortoise knows the latter.
    if database_url.startswith("postgresql://"):
        return "postgres://" + database_url.removeprefix("postgresql://")
    return database_url


async def migrate(database_url: str) -> None:
    """Apply every migration under `migrations/` that the database has not seen yet.

    Raises DatabaseUnavailable (cause in one line) when the database cannot be opened.
    """
    _refuse_unusable(database_url)
    config = tortoise_config(database_url)
    logger.info("migrating %s", safe_url(database_url))
    # A private context: tortoise's migrate API re-initialises "the current" context, which
    # would otherwise close the connections of whoever called us.
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        await _preflight(ctx, database_url)
        await _migrate_api(config=config)
    logger.info("database migrated")


async def init_db(database_url: str, *, run_migrations: bool = False) -> TortoiseContext:
    """Open the process-wide database (optionally migrating first) and return its context."""
    global _context
    if _context is not None:
        raise RuntimeError("init_db called twice without close_db")
    _refuse_unusable(database_url)
    if run_migrations:
        await migrate(database_url)
    ctx = TortoiseContext()
    ctx.__enter__()  # model set-up during init() looks the context up through the variable
    try:
        await ctx.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    except BaseException:
        await ctx.close_connections()
        ctx.__exit__(None, None, None)
        raise
    _context = ctx
    return ctx


async def close_db() -> None:
    """Close the connections `init_db` opened; safe to call when nothing is open."""
    global _context
    ctx, _context = _context, None
    if ctx is None:
        return
    await ctx.close_connections()
    try:
        ctx.__exit__(None, None, None)
    except ValueError:
        # close_db ran in another task than init_db (e.g. a lifespan's shutdown): the context
        # variable token belongs to that task and there is nothing to restore here.
        pass


async def ping() -> bool:
    """True when the current database answers a trivial query."""
    ctx = get_current_context()
    if ctx is None or not ctx.inited:
        return False
    try:
        await ctx.db().execute_query("SELECT 1")
    except Exception:  # any driver error means "not healthy"; the caller only needs yes/no
        logger.warning("database ping failed", exc_info=True)
        return False
    return True


def __getattr__(name: str) -> Any:
    # For tortoise's own CLI: `tortoise -c payments.db.TORTOISE_ORM makemigrations|migrate|...`.
    # Built on first use, not at import: a DATABASE_URL that cannot be parsed must not stop
    # every command (`check` among them) from starting.
    if name == "TORTOISE_ORM":
        return tortoise_config(os.environ.get("DATABASE_URL", "sqlite://lipabot.sqlite3"))
    raise AttributeError(name)
