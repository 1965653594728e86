"""The Telegram webhook route: latency and throughput of three ways to acknowledge an update.

The real app (`webhooks.app.create_app`, PTB with database persistence, the fake Telegram behind
PTB's request) is called in-process through httpx's ASGITransport by `--concurrency` clients
(Telegram opens up to 40 connections to a webhook), `--updates` distinct customers each sending
`/pay` once. Three ways to answer:

- `queue`: what the route did before the inbox (main at ebc88f4): parse, put the update on
  PTB's in-memory update queue, answer 200. Fast, but `kill -9` loses every queued update;
- `inbox`: today's route: parse, one INSERT into `telegram_inbox`, queue, answer 200; the row
  is marked done after the handlers ran (`bot.inbox`);
- `process`: parse, run the handlers (`application.process_update`), then answer 200, so an
  update is acknowledged only once processed.

Printed per database and way: the route's latency (p50/p99/max, request sent to answer read),
acknowledged updates per second, and updates processed per second (until every customer had
their answer). Each (database, way) runs in its own child process on a fresh database.
Run: `.venv/bin/python -m bench.telegram_webhook` (`--db postgres|sqlite|both`, `--updates N`,
`--concurrency N`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bench.common import (
    BENCH_BOT_TOKEN,
    latency_summary_ms,
    postgres_available,
    print_table,
    run_module,
    throwaway_postgres,
    write_results,
)

MODES = ("queue", "inbox", "process")
SECRET = "bench-webhook-secret"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


async def _old_queue_route(request: Request) -> Response:
    """The route before the inbox: parse, enqueue in memory, 200 (secret check as there)."""
    application = request.app.state.runtime.application
    data = json.loads(await request.body())
    await application.update_queue.put(Update.de_json(data, application.bot))
    return JSONResponse({"ok": True, "detail": "queued"})


async def _process_route(request: Request) -> Response:
    """Answer only after the handlers ran."""
    application = request.app.state.runtime.application
    data = json.loads(await request.body())
    await application.process_update(Update.de_json(data, application.bot))
    return JSONResponse({"ok": True, "detail": "processed"})


async def run_child(database_url: str, mode: str, updates: int, concurrency: int) -> dict[str, Any]:
    from pydantic import SecretStr

    from config import Settings
    from offline.fake_telegram import FakeTelegram, FakeUser
    from payments.db import migrate
    from webhooks.app import create_app

    await migrate(database_url)
    fake = FakeTelegram(BENCH_BOT_TOKEN)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(BENCH_BOT_TOKEN),
        telegram_webhook_secret=SecretStr(SECRET),
        telegram_send_rate=0,
        mpesa_env="emulator",
        mpesa_callback_token=SecretStr("bench-callback-token-0123456789abcdef"),
        public_url="https://lipabot.bench.invalid",
        database_url=database_url,
    )
    app = create_app(settings, telegram_request=fake.request(), run_workers=False)
    path = {"queue": "/bench/queue", "inbox": "/telegram/webhook", "process": "/bench/process"}
    app.router.routes.insert(0, Route("/bench/queue", _old_queue_route, methods=["POST"]))
    app.router.routes.insert(0, Route("/bench/process", _process_route, methods=["POST"]))
    customers = [FakeUser(id=900_000 + i, first_name=f"C{i}") for i in range(updates)]
    bodies = [fake.command(c, "pay") for c in customers]
    latencies: list[float] = []
    async with app.router.lifespan_context(app):
        application = app.state.runtime.application
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            # Warm up (first-request costs: imports, prepared statements), then measure.
            await client.post(
                path[mode], json=fake.command(FakeUser(id=1), "help"), headers=HEADERS
            )
            await application.update_queue.join()
            pending = iter(bodies)
            started = time.perf_counter()

            async def worker() -> None:
                for body in pending:
                    sent = time.perf_counter()
                    response = await client.post(path[mode], json=body, headers=HEADERS)
                    latencies.append(time.perf_counter() - sent)
                    assert response.status_code == 200, response.text

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            acknowledged = time.perf_counter() - started
            await application.update_queue.join()
            processed = time.perf_counter() - started
    answered = sum(1 for c in customers if fake.texts(c.id))
    return {
        "mode": mode,
        "updates": updates,
        "concurrency": concurrency,
        **latency_summary_ms(latencies),
        "acknowledged_per_s": round(updates / acknowledged, 1),
        "processed_per_s": round(updates / processed, 1),
        "answered": answered,
    }


async def child_main(db: str, mode: str, updates: int, concurrency: int) -> None:
    if db == "postgres":
        async with throwaway_postgres() as url:
            figures = await run_child(url, mode, updates, concurrency)
    else:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite://{Path(directory) / 'bench.sqlite3'}"
            figures = await run_child(url, mode, updates, concurrency)
    print(json.dumps(figures))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--child", nargs=2, metavar=("DB", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        asyncio.run(child_main(args.child[0], args.child[1], args.updates, args.concurrency))
        return 0
    databases = ["postgres", "sqlite"] if args.db == "both" else [args.db]
    if "postgres" in databases and not asyncio.run(postgres_available()):
        print("PostgreSQL not reachable: SQLite only", file=sys.stderr)
        databases = ["sqlite"]
    rows, results = [], []
    for db in databases:
        for mode in MODES:
            out = run_module(
                "bench.telegram_webhook",
                "--child", db, mode,
                "--updates", str(args.updates),
                "--concurrency", str(args.concurrency),
                timeout=300,
            )  # fmt: skip
            figures = {"db": db, **json.loads(out.strip().splitlines()[-1])}
            results.append(figures)
            rows.append(
                [
                    db,
                    mode,
                    figures["p50_ms"],
                    figures["p99_ms"],
                    figures["max_ms"],
                    figures["acknowledged_per_s"],
                    figures["processed_per_s"],
                    f"{figures['answered']}/{figures['updates']}",
                ]
            )
    print_table(
        f"/telegram/webhook, {args.updates} /pay updates, {args.concurrency} connections",
        ["db", "way", "p50 ms", "p99 ms", "max ms", "acked/s", "processed/s", "answered"],
        rows,
    )
    write_results("telegram_webhook", {"runs": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
