"""`kill -9` after the webhook acknowledged N updates: all N are answered after a restart.

`python -m bot serve` runs as a subprocess on SQLite and on PostgreSQL, with the fake Telegram on
a real socket. The first answer hangs inside the fake Telegram (the process is busy with it, so
the other updates wait in its queue), the webhook acknowledges every update, and the process is
killed with SIGKILL: nothing in its memory survives. A second process on the same database
answers every customer exactly once, from the inbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import texts
from offline.fake_telegram import FakeTelegram, FakeUser
from payments.models import InboundUpdate
from tests.e2e.test_serve import SECRET, base_env, free_port, healthy, process, wait_until
from tests.support.db import TestDatabase
from tests.support.figures import FIGURES
from tests.support.settings import TEST_BOT_TOKEN, TEST_CALLBACK_TOKEN

pytestmark = pytest.mark.slow

N = 60
LEASE_SECONDS = "2"


def serve_env(tmp_path: Path, telegram_url: str, database: str, port: int) -> dict[str, str]:
    return base_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TEST_BOT_TOKEN,
        TELEGRAM_API_URL=telegram_url,
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_INBOX_LEASE_SECONDS=LEASE_SECONDS,
        PUBLIC_URL="https://lipabot.e2e.example",
        PORT=str(port),
        MPESA_ENV="emulator",
        ALLOW_EMULATOR="1",  # the test says so: simulated payments, no money moves
        MPESA_CALLBACK_TOKEN=TEST_CALLBACK_TOKEN,
        DATABASE_URL=database,
    )


async def test_killed_after_acknowledging_n_updates_answers_all_after_restart(
    db: TestDatabase, tmp_path: Path
) -> None:
    fake = FakeTelegram(TEST_BOT_TOKEN)
    customers = [FakeUser(id=6000 + i, first_name=f"Customer {i}") for i in range(N)]
    ask_amount = texts.t("en", "ask_amount", merchant="lipabot merchant")

    async with fake.serve() as telegram_url:
        first_port, second_port = free_port(), free_port()
        first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
        env = serve_env(tmp_path, telegram_url, db.url, first_port)
        with process(["serve", "--host", "127.0.0.1"], env, tmp_path, first_log) as first:
            url = f"http://127.0.0.1:{first_port}"
            await healthy(f"{url}/healthz", [first], [first_log])
            fake.fail_hang(method="sendMessage")  # the first answer never comes back
            try:
                statuses = await post_all(url, [fake.command(c, "pay") for c in customers])
                assert statuses == [200] * N, first_log.read_text()
                first.kill()  # SIGKILL: no shutdown, no flush, nothing kept in memory
                first.wait(timeout=10)
            finally:
                fake.clear_failures()  # the hung request answers 502 to nobody, changing nothing
        answered = [c for c in customers if fake.texts(c.id)]
        assert answered == [], "the test needs the process killed before it answered"
        assert await InboundUpdate.filter(done_at__isnull=True).count() == N

        env = serve_env(tmp_path, telegram_url, db.url, second_port)
        with process(["serve", "--host", "127.0.0.1"], env, tmp_path, second_log) as second:
            url = f"http://127.0.0.1:{second_port}"
            await healthy(f"{url}/healthz", [second], [second_log])
            try:
                await wait_until(
                    lambda: all(fake.texts(c.id) for c in customers),
                    "not every acknowledged update was answered after the restart",
                    seconds=60.0,
                )
                await wait_until(backlog_empty, "the inbox still holds open updates")
            except BaseException:
                print("--- second serve log ---\n" + second_log.read_text())
                raise
    for customer in customers:
        assert fake.texts(customer.id) == [ask_amount], customer.id
    FIGURES.drove("telegram inbox", N)
    FIGURES.injected("kill -9 after acknowledged updates")
    FIGURES.delivered(
        {c.id: 1 for c in customers}, {c.id: len(fake.texts(c.id)) for c in customers}
    )


async def backlog_empty() -> bool:
    return await InboundUpdate.filter(done_at__isnull=True).count() == 0


async def post_all(url: str, updates: list[dict[str, Any]]) -> list[int]:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
        return [
            (await client.post("/telegram/webhook", json=update, headers=headers)).status_code
            for update in updates
        ]
