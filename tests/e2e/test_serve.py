"""End to end through real sockets: `python -m bot serve` as a subprocess.

The fake Telegram Bot API is served by this test on a free port (TELEGRAM_API_URL points at it),
the Daraja emulator runs as `python -m bot emulator` on another, and the service on a third. A
customer pays by updates POSTed to /telegram/webhook with the secret; the emulator's callback
arrives over HTTP; the receipt is what the fake Telegram records. Every wait is bounded and the
processes are stopped even when an assertion fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import texts
from offline.fake_telegram import FakeTelegram, FakeUser
from tests.support.settings import TEST_BOT_TOKEN, TEST_CALLBACK_TOKEN

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-webhook-secret"
METRICS_TOKEN = "e2e-metrics-token-5b8d2f"
PUBLIC_URL = "https://lipabot.e2e.example"
STARTUP_SECONDS = 30.0
STEP_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "PTB_TIMEDELTA": "true",
        "LOG_LEVEL": "INFO",
    }
    env.update(extra)
    return env


@contextmanager
def process(
    args: list[str], env: dict[str, str], cwd: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bot", *args], env=env, cwd=cwd, stdout=out, stderr=out
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)


async def wait_until(check: Callable[[], Any], what: str, seconds: float = STEP_SECONDS) -> Any:
    async with asyncio.timeout(seconds):
        while True:
            value = check()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(0.05)
    raise AssertionError(what)  # pragma: no cover - asyncio.timeout raises first


async def healthy(url: str, procs: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    async with httpx.AsyncClient(timeout=1.0) as client:

        async def up() -> bool:
            for proc, log in zip(procs, logs, strict=True):
                if proc.poll() is not None:
                    raise AssertionError(f"{log.name} exited:\n{log.read_text()}")
            try:
                return (await client.get(url)).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(up, f"{url} never became healthy", STARTUP_SECONDS)


async def test_a_customer_pays_through_real_sockets(tmp_path: Path) -> None:
    fake = FakeTelegram(TEST_BOT_TOKEN)
    customer = FakeUser(id=4242, first_name="Wanjiku")
    port, emulator_port = free_port(), free_port()
    service = f"http://127.0.0.1:{port}"
    database = f"sqlite://{tmp_path / 'e2e.sqlite3'}"

    async with fake.serve() as telegram_url:
        env = base_env(
            tmp_path,
            TELEGRAM_BOT_TOKEN=TEST_BOT_TOKEN,
            TELEGRAM_API_URL=telegram_url,
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            ADMIN_IDS="1000",
            MERCHANT_NAME="Duka la Mama",
            PUBLIC_URL=PUBLIC_URL,
            PORT=str(port),
            MPESA_ENV="emulator",
            ALLOW_EMULATOR="1",
            METRICS_TOKEN=METRICS_TOKEN,
            MPESA_BASE_URL=f"http://127.0.0.1:{emulator_port}",
            MPESA_CALLBACK_TOKEN=TEST_CALLBACK_TOKEN,
            # Daraja would call PUBLIC_URL; here the emulator calls the service's own socket.
            MPESA_CALLBACK_URL=f"{service}/payments/callback/{TEST_CALLBACK_TOKEN}",
            EMULATOR_CALLBACK_DELAY_SECONDS="0.2",
            DATABASE_URL=database,
        )
        migrate = subprocess.run(  # noqa: ASYNC221 - the release phase, before serving
            [sys.executable, "-m", "bot", "migrate"], env=env, cwd=tmp_path, timeout=60, check=False
        )
        assert migrate.returncode == 0
        emulator_log, serve_log = tmp_path / "emulator.log", tmp_path / "serve.log"
        with (
            process(["emulator", "--port", str(emulator_port)], env, tmp_path, emulator_log) as emu,
            process(["serve", "--host", "127.0.0.1"], env, tmp_path, serve_log) as web,
        ):
            try:
                await healthy(f"{service}/healthz", [emu, web], [emulator_log, serve_log])
                await _pay(fake, customer, service)
            except BaseException:
                print("--- serve log ---\n" + serve_log.read_text())
                print("--- emulator log ---\n" + emulator_log.read_text())
                raise
        logs = serve_log.read_text() + emulator_log.read_text()
        assert TEST_CALLBACK_TOKEN not in logs
        assert TEST_BOT_TOKEN not in logs
        assert SECRET not in logs
        assert METRICS_TOKEN not in logs
        assert "SERVING ON THE DARAJA EMULATOR" in serve_log.read_text()  # said loudly


async def _pay(fake: FakeTelegram, customer: FakeUser, service: str) -> None:
    # serve registered the webhook with its secret before answering health checks.
    set_webhook = fake.calls_to("setWebhook")
    assert set_webhook and set_webhook[-1]["url"] == f"{PUBLIC_URL}/telegram/webhook"
    assert set_webhook[-1]["secret_token"] == SECRET

    async with httpx.AsyncClient(base_url=service, timeout=5.0) as client:

        async def send(update: dict[str, Any]) -> None:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            response = await client.post("/telegram/webhook", json=update, headers=headers)
            assert response.status_code == 200

        def bot_said(count: int) -> Callable[[], bool]:
            return lambda: len(fake.chat_messages(customer.id)) >= count

        await send(fake.command(customer, "pay"))
        await wait_until(bot_said(1), "no answer to /pay")
        await send(fake.text(customer, "1500"))
        await wait_until(bot_said(2), "no answer to the amount")
        await send(fake.text(customer, "0712 345 678"))
        await wait_until(
            lambda: any(b["callback_data"].startswith("pay:") for b in _buttons(fake, customer)),
            "no Confirm button",
        )
        confirm = next(b for b in _buttons(fake, customer) if b["callback_data"].startswith("pay:"))
        await send(fake.press(customer, confirm["callback_data"]))

        paid = texts.CATALOGUES["en"]["paid"].split("{", 1)[0]
        await wait_until(
            lambda: any(text.startswith(paid) for text in fake.texts(customer.id)),
            "the receipt never reached the fake Telegram",
        )
        receipt = next(text for text in fake.texts(customer.id) if text.startswith(paid))
        assert "KES 1,500" in receipt and "Duka la Mama" in receipt

        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/metrics")).status_code == 404
        auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        health = (await client.get("/healthz", headers=auth)).json()
        assert health["pending_payments"] == 0 and health["database"] == "ok"
        metrics = (await client.get("/metrics", headers=auth)).text
        assert 'lipabot_callbacks_received_total{result="applied"} 1.0' in metrics
        # serve runs with webhooks.limits: a header over 16 KiB is refused.
        big = {"x-big": "a" * 20_000}
        assert (await client.get("/healthz", headers=big)).status_code == 431


def _buttons(fake: FakeTelegram, customer: FakeUser) -> list[dict[str, Any]]:
    if not fake.chat_messages(customer.id):
        return []
    return [b for b in fake.buttons(customer.id) if "callback_data" in b]
