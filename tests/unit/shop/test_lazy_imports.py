"""The picture libraries load when /link or /report first runs, not when the bot starts."""

from __future__ import annotations

import subprocess
import sys


def test_starting_the_bot_imports_no_picture_library() -> None:
    code = (
        "import sys, bot.app, webhooks.app; "
        "print(sorted(m for m in ('matplotlib', 'PIL', 'segno', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and a constant script
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
