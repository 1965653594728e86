"""The Daraja library stands on its own: no Telegram, web framework or payments imports."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import daraja.callbacks, daraja.client, daraja.config, daraja.result_codes, daraja.token
bad = sorted(m for m in sys.modules if m.split(".")[0] in {
    "telegram", "starlette", "bot", "webhooks", "payments", "tortoise", "config"})
print(",".join(bad))
"""


def test_daraja_imports_nothing_from_the_app_or_its_frameworks() -> None:
    # A fresh interpreter: this test process has imported everything already.
    done = subprocess.run(  # noqa: S603 - our own interpreter and a constant script
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
