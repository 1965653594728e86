"""ADMIN_DAILY_SUMMARY_AT and ADMIN_CHAT_ID as read from the environment."""

from __future__ import annotations

from datetime import time

import pytest
from pydantic import ValidationError

from config import Settings


def test_summary_time_and_staff_chat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_DAILY_SUMMARY_AT", "20:00")
    monkeypatch.setenv("ADMIN_CHAT_ID", "-1001234567890")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.admin_daily_summary_at == time(20, 0)
    assert s.admin_chat_id == -1001234567890


def test_unset_means_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_DAILY_SUMMARY_AT", "")  # a blank Heroku config var
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.admin_daily_summary_at is None and s.admin_chat_id is None


@pytest.mark.parametrize("value", ["7:05", "07:05", " 23:59 "])
def test_hours_and_minutes(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ADMIN_DAILY_SUMMARY_AT", value)
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.admin_daily_summary_at in (time(7, 5), time(23, 59))


@pytest.mark.parametrize("value", ["24:00", "20", "8pm", "20:00:00", "20:60", "20.00", "72000"])
def test_anything_but_hh_mm_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ADMIN_DAILY_SUMMARY_AT", value)
    with pytest.raises(ValidationError, match="HH:MM"):
        Settings(_env_file=None)  # type: ignore[call-arg]
