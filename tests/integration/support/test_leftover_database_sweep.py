"""A throwaway test database that a killed run left behind is dropped by a later run."""

from __future__ import annotations

from tests.support.db import LEFTOVER_AFTER_SECONDS, TestDatabase, throwaway_database_name


async def test_a_killed_runs_database_is_dropped_by_the_next_run(postgres_db: TestDatabase) -> None:
    import time

    from tests.support.db import _admin_execute, drop_leftover_databases

    old = throwaway_database_name(now=time.time() - LEFTOVER_AFTER_SECONDS - 60)
    young = throwaway_database_name()
    await _admin_execute(f'CREATE DATABASE "{old}"')
    await _admin_execute(f'CREATE DATABASE "{young}"')
    try:
        dropped = await drop_leftover_databases()
        assert old in dropped and young not in dropped
        # This session's own database is young: it is still there and in use.
        assert postgres_db.url.split("/")[-1].split("?")[0] not in dropped
    finally:
        await _admin_execute(f'DROP DATABASE IF EXISTS "{old}"')
        await _admin_execute(f'DROP DATABASE IF EXISTS "{young}"')
