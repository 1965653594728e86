"""`python -m bot demo` and `chat` as a newcomer runs them: subprocesses, no configuration."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import texts

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _bare_env(home: Path) -> dict[str, str]:
    # No settings at all, and a working directory without .env: the demo must need nothing.
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
    }


def test_demo_runs_offline_and_reports_every_expected_message(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        env=_bare_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - started < 30
    out = done.stdout
    assert "you: /pay" in out
    assert "[1] ✅ Confirm  [2] ✖ Cancel" in out
    assert "Receipt " in out
    assert texts.failure_reason("en", "1032", merchant="Duka la Mama") in out
    assert texts.failure_reason("en", "2001", merchant="Duka la Mama") in out
    assert "Account number: LB" in out and "pays from the M-Pesa menu" in out  # issue 17
    assert "admin: /status" in out and "Received: KES 2,300" in out
    assert out.rstrip().splitlines()[-1].startswith("demo OK")
    assert list(tmp_path.iterdir()) == []  # the temporary database went away


def test_chat_takes_piped_input(tmp_path: Path) -> None:
    script = "/pay\n250\n0712 340 001\n#1\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input=script,
        env=_bare_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "you: [1] ✅ Confirm" in out
    # 0001 is the emulator's "insufficient balance"; the outcome arrives after the input ended.
    assert texts.failure_reason("en", "1", merchant="Duka la Mama") in out
    assert out.rstrip().endswith("bye")


def test_chat_quits_on_quit_and_rejects_missing_buttons(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input="#3\n/quit\n/pay\n",
        env=_bare_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert "(chat: there is no button [3])" in done.stdout
    assert "you: /pay" not in done.stdout  # nothing after /quit is sent
