"""Day ranges for /export: words and dates to Nairobi days, and their UTC edges."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from payments.reports import MAX_RANGE_DAYS, BadRange, DayRange, parse_range

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("", TODAY, TODAY),
        ("today", TODAY, TODAY),
        ("Leo", TODAY, TODAY),
        ("yesterday", date(2026, 12, 1), date(2026, 12, 1)),
        ("jana", date(2026, 12, 1), date(2026, 12, 1)),
        ("7d", date(2026, 11, 26), TODAY),
        ("30D", date(2026, 11, 3), TODAY),
        ("2026-02-28", date(2026, 2, 28), date(2026, 2, 28)),
        ("2026-11-01..2026-11-30", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-11-01 .. 2026-11-30", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-01-01..2026-12-31", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_ranges(text: str, first: date, last: date) -> None:
    assert parse_range(text, TODAY) == DayRange(first, last)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("last week", "format"),
        ("2026-13-01", "format"),
        ("2026-11-31", "format"),
        ("0d", "format"),
        ("2026-11-30..", "format"),
        ("2026-12-02..2026-12-01", "order"),
        (f"{MAX_RANGE_DAYS + 1}d", "too_long"),
        ("2024-01-01..2026-01-01", "too_long"),
    ],
)
def test_bad_ranges(text: str, reason: str) -> None:
    with pytest.raises(BadRange) as caught:
        parse_range(text, TODAY)
    assert caught.value.reason == reason


def test_edges_are_nairobi_midnights_in_utc() -> None:
    days = DayRange(date(2026, 11, 30), date(2026, 12, 1))
    assert days.start == datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
    assert days.end == datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
    assert days.days == [date(2026, 11, 30), date(2026, 12, 1)]
