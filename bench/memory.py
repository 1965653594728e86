"""Start-up time and resident memory of `python -m bot serve`, idle and after 10,000 payments.

Start-up: the time from spawning the process to `/healthz` answering 200, over a few starts
(the database is already migrated, as after the Procfile's `release` step).

Memory: RSS (VmRSS from /proc/<pid>/status) of the one server process when idle, then after
every 1,000 settled payments up to 10,000. A "payment" here is the server's share of one: an STK
callback received over HTTP (from the separate load process), applied to a pending payment, and
the customer's receipt or failure notice sent to (fake) Telegram by the notifier. After each
step the notifier gets a bounded while (`--drain`) to catch up and the process a moment alone
before RSS is read; how many customer messages had gone out by then is reported beside it (the
notifier is slower than the callbacks, so its backlog, kept in the database, may still grow).
The Telegram conversation (PTB's per-user state) is not part of this figure: see bench.e2e.

Goals: /healthz within 3 s of start; no more than 20 MB growth from 5,000 to 10,000 payments.
Run: `.venv/bin/python -m bench.memory`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    HOST,
    copy_logs,
    free_port,
    postgres_available,
    print_table,
    rss_mb,
    stop,
    throwaway_postgres,
    wait_http_ok,
    wait_until,
    write_results,
)
from bench.seed import counts_in_child, seed_in_child
from bench.service import fake_telegram, loadgen, outcome_messages, service_env, start_service


def split_requests(requests_file: Path, step: int) -> list[Path]:
    """Cut the callbacks file into files of `step` requests (one per measuring step)."""
    lines = requests_file.read_text().splitlines(keepends=True)
    parts = []
    for number, start in enumerate(range(0, len(lines), step)):
        part = requests_file.with_name(f"{requests_file.stem}-{number:02d}.jsonl")
        part.write_text("".join(lines[start : start + step]))
        parts.append(part)
    return parts


async def startup_times(database_url: str, telegram_url: str, starts: int, workdir: Path) -> list:
    times = []
    for attempt in range(starts):
        port = free_port()
        env = service_env(database_url, port, telegram_url)
        began = time.monotonic()
        server = start_service(env, workdir / f"start-{attempt}.log")
        try:
            await asyncio.to_thread(
                wait_http_ok, f"http://{HOST}:{port}/healthz", timeout=30, process=server
            )
            times.append(round(time.monotonic() - began, 3))
        finally:
            stop(server)
    return times


async def measure(args: argparse.Namespace, database_url: str, workdir: Path) -> dict[str, Any]:
    requests_file = workdir / "memory-callbacks.jsonl"
    await asyncio.to_thread(seed_in_child, database_url, 0, args.payments, requests_file)
    batches = split_requests(requests_file, args.step)
    samples: list[dict[str, Any]] = []
    async with fake_telegram() as (telegram, telegram_url):
        starts = await startup_times(database_url, telegram_url, args.starts, workdir)
        port = free_port()
        server = start_service(service_env(database_url, port, telegram_url), workdir / "serve.log")
        try:
            await asyncio.to_thread(
                wait_http_ok, f"http://{HOST}:{port}/healthz", timeout=30, process=server
            )
            await asyncio.sleep(args.settle)
            samples.append({"payments": 0, "rss_mb": round(rss_mb(server.pid), 1)})
            done = 0
            for batch in batches:
                report = await loadgen(
                    f"http://{HOST}:{port}",
                    batch,
                    connections=args.connections,
                    count=args.step,
                    seconds=60,
                )
                done += report["ok"]
                caught_up = await wait_until(
                    lambda target=done: outcome_messages(telegram) >= target, within=args.drain
                )
                await asyncio.sleep(args.settle)
                samples.append(
                    {
                        "payments": done,
                        "rss_mb": round(rss_mb(server.pid), 1),
                        "non_2xx": report["requests"] - report["ok"],
                        "customer_messages_sent": outcome_messages(telegram),
                        "notifier_caught_up": caught_up,
                    }
                )
                print(
                    f"  {done:>6,} callbacks applied, {outcome_messages(telegram):>6,} customer "
                    f"messages sent: RSS {samples[-1]['rss_mb']:.1f} MB",
                    flush=True,
                )
        finally:
            stop(server)
    statuses = await asyncio.to_thread(counts_in_child, database_url)
    return {"startup_seconds": starts, "samples": samples, "db_statuses": statuses}


def growth(samples: list[dict[str, Any]], start: int, end: int) -> float | None:
    by_count = {s["payments"]: s["rss_mb"] for s in samples}
    if start in by_count and end in by_count:
        return round(by_count[end] - by_count[start], 1)
    return None


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lipabot-bench-") as tmp:
        workdir = Path(tmp)
        try:
            if args.database == "postgres" and await postgres_available():
                label = "PostgreSQL"
                async with throwaway_postgres() as url:
                    figures = await measure(args, url, workdir)
            else:
                if args.database == "postgres":
                    print("PostgreSQL does not answer: using SQLite", file=sys.stderr)
                label = "SQLite"
                figures = await measure(args, f"sqlite://{workdir / 'bench.sqlite3'}", workdir)
        finally:
            if args.keep_logs:
                copy_logs(workdir, Path(args.keep_logs))
    half, full = args.payments // 2, args.payments
    return {
        "database": label,
        "goal": {"startup_seconds_max": 3.0, "growth_mb_max_5k_to_10k": 20},
        **figures,
        "startup_median_seconds": statistics.median(figures["startup_seconds"]),
        "idle_rss_mb": figures["samples"][0]["rss_mb"],
        "growth_mb_idle_to_half": growth(figures["samples"], 0, half),
        "growth_mb_half_to_full": growth(figures["samples"], half, full),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--step", type=int, default=1_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--starts", type=int, default=3, help="start-up time samples")
    parser.add_argument("--settle", type=float, default=0.5, help="seconds idle before reading")
    parser.add_argument(
        "--drain", type=float, default=2.0, help="seconds per step to let the notifier catch up"
    )
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--keep-logs", default="", help="copy the servers' logs to this folder")
    args = parser.parse_args(argv)
    figures = asyncio.run(main_async(args))
    print_table(
        f"python -m bot serve on {figures['database']}: start-up and resident memory",
        ["figure", "value"],
        [
            ["start to /healthz 200, median (s)", figures["startup_median_seconds"]],
            ["start to /healthz 200, all (s)", ", ".join(map(str, figures["startup_seconds"]))],
            ["RSS idle (MB)", figures["idle_rss_mb"]],
            *[
                [f"RSS after {s['payments']:,} payments (MB)", s["rss_mb"]]
                for s in figures["samples"][1:]
                if s["payments"] in (args.payments // 2, args.payments)
            ],
            ["growth idle -> 5,000 (MB)", figures["growth_mb_idle_to_half"]],
            ["growth 5,000 -> 10,000 (MB)", figures["growth_mb_half_to_full"]],
            [
                "customer messages sent by the end",
                figures["samples"][-1].get("customer_messages_sent", 0),
            ],
        ],
    )
    write_results("memory", figures)


if __name__ == "__main__":
    main()
