"""Callback throughput and latency of the running service, on SQLite and on PostgreSQL.

For each database the script migrates a fresh one (a temporary SQLite file; a throwaway
PostgreSQL database created on 127.0.0.1:5432 and dropped afterwards), inserts pending payments
with real-looking CheckoutRequestIDs through `payments.models`, starts the service as the
Procfile does (`python -m bot serve`, one uvicorn worker) with a fake Telegram to send receipts
to, and posts one valid, distinct STK callback per payment over real HTTP from a separate load
process (`bench.loadgen`, N keep-alive connections). The same load then goes to a bare Starlette
endpoint (`bench/bare_app.py`) that only parses the JSON and answers the same body: its figure
is what uvicorn and the load generator manage with no lipabot code at all.

After each run the database is read back: every callback answered 200 must have moved exactly
one payment out of `pending` (a throughput figure for callbacks that were not applied would be
meaningless).

Goals (32 connections): >= 2,000 callbacks/s on PostgreSQL, p99 < 25 ms, service/bare >= 0.15
(aim 0.3). Run: `.venv/bin/python -m bench.callbacks` (see bench/README.md for options).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import (
    HOST,
    bench_env,
    copy_logs,
    cpu_seconds,
    free_port,
    postgres_available,
    print_table,
    spawn,
    stop,
    throwaway_postgres,
    wait_http_ok,
    wait_until,
    write_requests,
    write_results,
)
from bench.seed import callback_requests, counts_in_child, seed_in_child
from bench.service import fake_telegram, loadgen, outcome_messages, service_env, start_service


async def run_service(
    label: str, database_url: str, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    total = args.warmup + args.callbacks
    started = time.perf_counter()
    requests_file = workdir / f"callbacks-{label}.jsonl"
    await asyncio.to_thread(seed_in_child, database_url, 0, total, requests_file)
    seeded_in = time.perf_counter() - started
    port = free_port()
    async with fake_telegram() as (telegram, telegram_url):
        server = start_service(
            service_env(database_url, port, telegram_url), workdir / f"serve-{label}.log"
        )
        try:
            await asyncio.to_thread(
                wait_http_ok, f"http://{HOST}:{port}/healthz", timeout=30, process=server
            )
            cpu_before = cpu_seconds(server.pid)
            report = await loadgen(
                f"http://{HOST}:{port}",
                requests_file,
                connections=args.connections,
                count=args.callbacks,
                seconds=args.seconds,
                warmup=args.warmup,
            )
            report["server_cpu_pct"] = round(
                100 * (cpu_seconds(server.pid) - cpu_before) / max(report["seconds"], 1e-9), 1
            )
            # Receipts go out through the outbox; give the notifier a bounded while to finish.
            sent = 0

            def receipts_sent() -> bool:
                nonlocal sent
                sent = outcome_messages(telegram)
                return sent >= report["ok"] + args.warmup

            drained = await wait_until(receipts_sent, within=args.drain)
        finally:
            exit_code = stop(server)
    statuses = await asyncio.to_thread(counts_in_child, database_url)
    settled = total - statuses.get("pending", 0)
    return {
        **report,
        "label": label,
        "seeded_payments": total,
        "seed_seconds": round(seeded_in, 2),
        "db_statuses": statuses,
        "payments_settled": settled,
        "all_ok_callbacks_applied": settled == report["ok"] + args.warmup,
        "telegram_messages": sent,
        "notifier_caught_up": drained,
        "server_exit_code": exit_code,
    }


async def run_bare(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    total = args.warmup + args.callbacks
    requests_file = workdir / "callbacks-bare.jsonl"
    write_requests(requests_file, callback_requests(0, total, datetime.now(UTC)))
    port = free_port()
    server = spawn(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        bench_env(),
        workdir / "bare.log",
    )
    try:
        await asyncio.to_thread(wait_http_ok, f"http://{HOST}:{port}/healthz", process=server)
        cpu_before = cpu_seconds(server.pid)
        report = await loadgen(
            f"http://{HOST}:{port}",
            requests_file,
            connections=args.connections,
            count=args.callbacks,
            seconds=args.seconds,
            warmup=args.warmup,
        )
        report["server_cpu_pct"] = round(
            100 * (cpu_seconds(server.pid) - cpu_before) / max(report["seconds"], 1e-9), 1
        )
    finally:
        stop(server)
    return {**report, "label": "bare Starlette"}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="lipabot-bench-") as tmp:
        workdir = Path(tmp)
        try:
            runs.append(await run_bare(args, workdir))
            if "sqlite" in args.databases:
                url = f"sqlite://{workdir / 'bench.sqlite3'}"
                runs.append(await run_service("SQLite", url, args, workdir))
            if "postgres" in args.databases:
                if not await postgres_available():
                    print("PostgreSQL does not answer: skipping it", file=sys.stderr)
                else:
                    async with throwaway_postgres() as url:
                        runs.append(await run_service("PostgreSQL", url, args, workdir))
        finally:
            if args.keep_logs:
                copy_logs(workdir, Path(args.keep_logs))
    bare = runs[0]["rps"] or float("nan")
    for run in runs:
        run["ratio_to_bare"] = round(run["rps"] / bare, 3)
    return {
        "connections": args.connections,
        "callbacks_per_run": args.callbacks,
        "warmup": args.warmup,
        "goal": {"postgres_rps_min": 2000, "p99_ms_max": 25, "ratio_min": 0.15},
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--callbacks", type=int, default=10_000, help="measured, per database")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=15.0, help="time bound per run")
    parser.add_argument(
        "--drain", type=float, default=10.0, help="seconds to let the notifier catch up"
    )
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--keep-logs", default="", help="copy the servers' logs to this folder")
    args = parser.parse_args(argv)
    figures = asyncio.run(main_async(args))
    print_table(
        f"Callbacks over HTTP, {args.connections} connections, one uvicorn worker",
        ["server", "ok", "non-2xx", "req/s", "p50 ms", "p99 ms", "x bare", "srv cpu%", "gen cpu%"],
        [
            [
                run["label"],
                run["ok"],
                run["requests"] - run["ok"],
                run["rps"],
                run["p50_ms"],
                run["p99_ms"],
                run["ratio_to_bare"],
                run["server_cpu_pct"],
                run["generator_cpu_pct"],
            ]
            for run in figures["runs"]
        ],
    )
    for run in figures["runs"][1:]:
        print(
            f"  {run['label']}: {run['payments_settled']:,} of {run['seeded_payments']:,} payments "
            f"settled (all 200s applied: {run['all_ok_callbacks_applied']}); "
            f"{run['telegram_messages']:,} Telegram messages sent"
        )
    write_results("callbacks", figures)


if __name__ == "__main__":
    main()
