"""CPU time per STK callback inside the service process, without HTTP or a load generator.

`bench/callbacks.py` measures the real thing over HTTP, but on a 2-core machine its figures move
with whatever else runs (the server, the load generator and PostgreSQL share the cores). This
bench calls the Starlette app in-process (ASGI, as uvicorn would) with Daraja-shaped callbacks
for pre-created pending payments, N at once, and reports the process's own CPU time (user and
system) per callback: a steadier figure for comparing two versions of the callback path.

Layers, each its own row:

* `asgi`: the whole app (middleware, route, body checks, parser, service, database);
* `service`: `PaymentService.apply_result` on a parsed result (no Starlette, no parsing);
* `select1`: one `SELECT 1` through the same tortoise connection (the floor of a round trip).

Logging is set up as `serve` does it, into /dev/null; the notifier and reconciler are off (they
have their own bench: bench/outbox_cost.py). PostgreSQL only (SQLite takes another path).
Run: `.venv/bin/python -m bench.callback_cpu [--callbacks N] [--concurrency 32]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.common import (
    free_port,
    postgres_available,
    print_table,
    throwaway_postgres,
    write_results,
)
from bench.seed import seed
from bench.service import fake_telegram, service_env

LAYERS = ("asgi", "service", "select1")


class _App:
    """A Starlette app run in-process: lifespan started, requests as ASGI calls."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.create_task(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        message = await self._from_app.get()
        if message["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"the app did not start: {message}")

    async def stop(self) -> None:
        await self._to_app.put({"type": "lifespan.shutdown"})
        await self._from_app.get()
        if self._task is not None:
            await self._task

    async def post(self, path: str, body: bytes) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        delivered = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if delivered:
                await asyncio.Event().wait()  # no disconnect while the app answers
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self.app(scope, receive, send)
        return status


async def _measure(
    calls: list[Callable[[], Awaitable[Any]]], concurrency: int
) -> tuple[float, float, float]:
    """(user µs, system µs, wall seconds) per call, the calls run `concurrency` at a time."""
    pending = iter(calls)

    async def worker() -> None:
        for call in pending:
            await call()

    before, started = os.times(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    after, wall = os.times(), time.perf_counter() - started
    count = len(calls)
    return (
        (after.user - before.user) / count * 1e6,
        (after.system - before.system) / count * 1e6,
        wall,
    )


async def run(callbacks: int, warmup: int, concurrency: int, log_stream: Any) -> dict[str, Any]:
    from config import load_settings
    from config.logging import configure_logging
    from daraja.callbacks import parse_stk_callback
    from payments.stores import sql as apply_sql
    from webhooks.app import create_app

    total = warmup + 2 * callbacks  # asgi and service settle distinct payments
    rows: dict[str, Any] = {}
    async with throwaway_postgres("lipabot_cpu") as url, fake_telegram() as (_, telegram_url):
        with tempfile.TemporaryDirectory() as workdir:
            requests_file = Path(workdir) / "callbacks.jsonl"
            await seed(url, 0, total, requests_file)
            requests = [json.loads(line) for line in requests_file.read_text().splitlines()]
        os.environ.update(service_env(url, free_port(), telegram_url))
        settings = load_settings()
        configure_logging(settings)
        for handler in logging.getLogger().handlers:
            handler.setStream(log_stream)  # type: ignore[attr-defined]
        app = _App(create_app(settings, run_workers=False, tune_gc=True))
        await app.start()
        try:
            service = app.app.state.runtime.service
            bodies = [(r["path"], json.dumps(r["body"]).encode()) for r in requests]
            statuses: list[int] = []

            async def post(path: str, body: bytes) -> None:
                statuses.append(await app.post(path, body))

            def asgi(i: int) -> Callable[[], Awaitable[Any]]:
                return lambda: post(*bodies[i])

            def direct(i: int) -> Callable[[], Awaitable[Any]]:
                result = parse_stk_callback(requests[i]["body"])
                return lambda: service.apply_result(result)

            def select1(_: int) -> Callable[[], Awaitable[Any]]:
                return lambda: apply_sql.connection().execute_query_dict("SELECT 1 AS one")

            await _measure([asgi(i) for i in range(warmup)], concurrency)
            plan = {
                "asgi": [asgi(i) for i in range(warmup, warmup + callbacks)],
                "service": [direct(i) for i in range(warmup + callbacks, total)],
                "select1": [select1(i) for i in range(callbacks)],
            }
            for layer in LAYERS:
                user, system, wall = await _measure(plan[layer], concurrency)
                rows[layer] = {
                    "cpu_us": round(user + system, 1),
                    "user_us": round(user, 1),
                    "system_us": round(system, 1),
                    "per_second_in_process": round(callbacks / wall),
                }
            rows["asgi"]["non_200"] = sum(1 for s in statuses if s != 200)
        finally:
            await app.stop()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=int, default=5000, help="measured, per layer")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    if not asyncio.run(postgres_available()):
        raise SystemExit("bench.callback_cpu needs PostgreSQL on 127.0.0.1:5432")
    import uvloop

    with open(os.devnull, "w") as devnull:  # the log lines are written, then thrown away
        rows = uvloop.run(run(args.callbacks, args.warmup, args.concurrency, devnull))
    print_table(
        f"CPU per callback in the service process ({args.callbacks:,} each, "
        f"{args.concurrency} at once, PostgreSQL, no HTTP)",
        ["layer", "cpu us", "user us", "sys us", "per s (in-process)"],
        [
            [layer, r["cpu_us"], r["user_us"], r["system_us"], r["per_second_in_process"]]
            for layer, r in rows.items()
        ],
    )
    if rows["asgi"]["non_200"]:
        print(f"  warning: {rows['asgi']['non_200']} callbacks were not answered 200")
    write_results(
        "callback_cpu",
        {"callbacks": args.callbacks, "concurrency": args.concurrency, "layers": rows},
    )


if __name__ == "__main__":
    main()
