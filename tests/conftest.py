"""Shared pytest wiring: each fixture family lives in its own module under tests/support/."""

pytest_plugins = [
    "tests.support.settings",
    "tests.support.db",
    "tests.support.daraja",
    "tests.support.telegram",
]
