"""Opening, migrating and closing the payments database (tortoise-orm 1.x).

`DATABASE_URL` picks the engine: `sqlite://lipabot.sqlite3` (default) or `postgres://...`.

Tortoise 1.x keeps its state in a `TortoiseContext` found through a context variable. The
application runs one database per process, so `init_db` registers its context as tortoise's
global fallback: tasks started elsewhere (uvicorn's request tasks, PTB's handlers) then find it
too. Tests open their own isolated contexts instead (see `tests/support/db.py`), and `migrate`
always runs in a private context so it never disturbs the one the caller is using.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext, get_current_context
from tortoise.migrations.api.migrate import migrate as _migrate_api

logger = logging.getLogger(__name__)

APP_LABEL = "models"
MODELS_MODULE = "payments.models"
MIGRATIONS_MODULE = "migrations"

_context: TortoiseContext | None = None


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
    config["credentials"]["connection_class"] = _NoResetConnection
    return config


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
    """Apply every migration under `migrations/` that the database has not seen yet."""
    config = tortoise_config(database_url)
    # A private context: tortoise's migrate API re-initialises "the current" context, which
    # would otherwise close the connections of whoever called us.
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        await _migrate_api(config=config)
    logger.info("database migrated")


async def init_db(database_url: str, *, run_migrations: bool = False) -> TortoiseContext:
    """Open the process-wide database (optionally migrating first) and return its context."""
    global _context
    if _context is not None:
        raise RuntimeError("init_db called twice without close_db")
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


#: For tortoise's own CLI: `tortoise -c payments.db.TORTOISE_ORM makemigrations|migrate|history`.
TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", "sqlite://lipabot.sqlite3"))
