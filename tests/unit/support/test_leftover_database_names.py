"""Which throwaway PostgreSQL databases a test run may drop as left behind by a killed run."""

from __future__ import annotations

from tests.support.db import (
    LEFTOVER_AFTER_SECONDS,
    leftover_databases,
    throwaway_database_name,
)

NOW = 1_800_000_000.0


def test_names_carry_their_creation_time() -> None:
    name = throwaway_database_name(now=NOW)
    assert name.startswith(f"lipabot_test_{int(NOW)}_")
    assert leftover_databases([name], now=NOW) == []
    assert leftover_databases([name], now=NOW + LEFTOVER_AFTER_SECONDS + 1) == [name]


def test_only_old_databases_in_our_format_are_dropped() -> None:
    old = f"lipabot_test_{int(NOW - LEFTOVER_AFTER_SECONDS - 60)}_0a1b2c3d"
    young = f"lipabot_test_{int(NOW - 60)}_0a1b2c3d"
    names = [
        old,
        young,
        "lipabot_test_4f2a9c1e7b30",  # the earlier format: no time, so no way to tell its age
        "lipabot_test_abc_def",
        f"lipabot_test_{int(NOW - LEFTOVER_AFTER_SECONDS - 60)}",  # no random part
        "lipabot_bench_123_abc",
        "postgres",
        "test",
    ]
    assert leftover_databases(names, now=NOW) == [old]
