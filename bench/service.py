"""Running lipabot's service for a benchmark: its environment, a fake Telegram, the load process.

The service runs as the Procfile runs it (`python -m bot serve`, one uvicorn worker) in a child
process, configured only through environment variables, with Telegram replaced by
`offline.fake_telegram` served over a loopback socket from the benchmark's own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.common import BENCH_BOT_TOKEN, HOST, bench_env, spawn
from bench.seed import CALLBACK_TOKEN

WEBHOOK_SECRET = "bench-webhook-secret"


def service_env(database_url: str, port: int, telegram_url: str, **extra: str) -> dict[str, str]:
    """Settings for `python -m bot serve`, as environment variables (how Heroku sets them)."""
    return bench_env(
        DATABASE_URL=database_url,
        PORT=str(port),
        # `serve` insists on an https PUBLIC_URL (Telegram's rule for webhooks); the fake
        # Telegram never calls it, and Daraja's callbacks come to the loopback port instead.
        PUBLIC_URL="https://lipabot.bench.invalid",
        MPESA_CALLBACK_URL=f"http://{HOST}:{port}/payments/callback/{CALLBACK_TOKEN}",
        TELEGRAM_BOT_TOKEN=BENCH_BOT_TOKEN,
        TELEGRAM_API_URL=telegram_url,
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        MPESA_ENV="emulator",
        # `serve` takes the emulator (no money moves) only when asked to.
        ALLOW_EMULATOR="1",
        MPESA_CALLBACK_TOKEN=CALLBACK_TOKEN,
        # Seeded payments must not be queried or expired while a bench runs.
        RECONCILE_AFTER_SECONDS="3600",
        PAYMENT_TIMEOUT_SECONDS="7200",
        LOG_LEVEL=os.environ.get("LIPABOT_BENCH_LOG_LEVEL", "INFO"),
        **extra,
    )


def serve_command() -> list[str]:
    """`python -m bot serve` on loopback, or `LIPABOT_BENCH_SERVE_CMD` (to compare another way)."""
    custom = os.environ.get("LIPABOT_BENCH_SERVE_CMD", "").split()
    return custom or [sys.executable, "-m", "bot", "serve", "--host", HOST]


def start_service(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    return spawn(serve_command(), env, log_path)


@contextlib.asynccontextmanager
async def fake_telegram() -> AsyncIterator[tuple[Any, str]]:
    """A `offline.fake_telegram.FakeTelegram` on a loopback port; yields it and TELEGRAM_API_URL."""
    from offline.fake_telegram import FakeTelegram

    fake = FakeTelegram(BENCH_BOT_TOKEN)
    async with fake.serve(HOST, 0) as url:
        yield fake, url


def outcome_messages(telegram: Any) -> int:
    """Messages sent or edited by the bot so far (receipts and failure notices included)."""
    return len(telegram.calls_to("sendMessage")) + len(telegram.calls_to("editMessageText"))


async def loadgen(
    base: str,
    requests_file: Path,
    *,
    connections: int,
    count: int,
    seconds: float,
    warmup: int = 0,
) -> dict[str, Any]:
    """`bench.loadgen` in its own process; awaited, so this event loop keeps serving meanwhile."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.loadgen",
        "--base",
        base,
        "--requests",
        str(requests_file),
        "--connections",
        str(connections),
        "--max-requests",
        str(count),
        "--max-seconds",
        str(seconds),
        "--warmup",
        str(warmup),
        env=bench_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=seconds + 60)
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed: {err.decode()[-2000:]}")
    return json.loads(out)
