"""Where the callback path spends its CPU: the service under pyinstrument, fed callbacks.

The service (`python -m bot serve`) runs under pyinstrument (`bench/profiled_serve.py`) on a
throwaway PostgreSQL database (SQLite when PostgreSQL does not answer) and takes the same
callback load as `bench.callbacks`; on SIGTERM uvicorn shuts down cleanly and the wrapper saves
the session. The samples are wall-clock ones of the event-loop thread, so time spent idle in
epoll (reported apart) and time the OS gave to other processes count too. The script prints
the share of samples per package (our code, tortoise, asyncpg, uvicorn/h11, starlette, logging,
python-telegram-bot, ...) and the functions with the most own time, and writes the full call
tree to `bench/results/profile-<timestamp>.txt`.

pyinstrument is a bench-only tool (`pip install -e '.[bench]'`). Sampling costs CPU, so the
throughput printed here is lower than `bench.callbacks` reports; only the proportions matter.
Run: `.venv/bin/python -m bench.profile_callbacks`.
"""

from __future__ import annotations

import argparse
import asyncio
import pstats
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import (
    HOST,
    RESULTS_DIR,
    ROOT,
    copy_logs,
    free_port,
    postgres_available,
    print_table,
    spawn,
    stop,
    throwaway_postgres,
    wait_http_ok,
    write_results,
)
from bench.seed import counts_in_child, seed_in_child
from bench.service import fake_telegram, loadgen, serve_command, service_env

#: Path fragments that name a package in a profile (first match wins; order matters).
PACKAGES = (
    ("/payments/", "lipabot payments/"),
    ("/webhooks/", "lipabot webhooks/"),
    ("/daraja/", "lipabot daraja/"),
    ("/bot/", "lipabot bot/"),
    ("/config/", "lipabot config/"),
    ("/tortoise/", "tortoise-orm"),
    ("/pypika", "pypika (tortoise's SQL builder)"),
    ("/asyncpg/", "asyncpg"),
    ("/aiosqlite/", "aiosqlite"),
    ("/sqlite3/", "sqlite3"),
    ("/uvicorn/", "uvicorn"),
    ("/h11/", "h11 (HTTP parsing)"),
    ("/starlette/", "starlette"),
    ("/telegram/", "python-telegram-bot"),
    ("/httpx/", "httpx"),
    ("/httpcore/", "httpcore"),
    ("/prometheus_client/", "prometheus-client"),
    ("/pydantic", "pydantic"),
    ("/logging/", "logging"),
    ("/json/", "json"),
    ("/asyncio/", "asyncio"),
)


def package_of(filename: str) -> str:
    for fragment, name in PACKAGES:
        if fragment in filename:
            return name
    if filename.startswith("<") or filename == "~":
        return "builtins / C"
    return "other"


def shares(stats: pstats.Stats) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Own time per package (percent of all), and the top functions by own time."""
    own: Counter[str] = Counter()
    functions = []
    for (filename, line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        tottime = row[2]
        idle = "poll" in name and (filename.startswith("<") or "selectors" in filename)
        own["idle: waiting for I/O (epoll)" if idle else package_of(filename)] += tottime
        functions.append((tottime, filename, line, name))
    total = sum(own.values()) or 1.0
    by_package = {name: round(100 * t / total, 1) for name, t in own.most_common()}
    top = [
        {
            "own_pct": round(100 * t / total, 1),
            "function": f"{name} ({_short(filename)}:{line})",
        }
        for t, filename, line, name in sorted(functions, reverse=True)[:20]
    ]
    return by_package, top


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def render(session: Path, renderer: str, out: Path, *options: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pyinstrument",
            "--load",
            str(session),
            "-r",
            renderer,
            "-o",
            str(out),
            *options,
        ],
        cwd=ROOT,
        check=True,
        timeout=300,
    )


async def profile(args: argparse.Namespace, database_url: str, workdir: Path) -> dict[str, Any]:
    total = args.warmup + args.callbacks
    requests_file = workdir / "profile-callbacks.jsonl"
    await asyncio.to_thread(seed_in_child, database_url, 0, total, requests_file)
    session = workdir / "serve.pyisession"
    port = free_port()
    async with fake_telegram() as (_telegram, telegram_url):
        server = spawn(
            [
                sys.executable,
                "-m",
                "bench.profiled_serve",
                str(session),
                # The serve command without its interpreter: `-m bot serve` by default.
                *serve_command()[1:],
            ],
            service_env(database_url, port, telegram_url),
            workdir / "serve-profiled.log",
        )
        try:
            await asyncio.to_thread(
                wait_http_ok, f"http://{HOST}:{port}/healthz", timeout=60, process=server
            )
            report = await loadgen(
                f"http://{HOST}:{port}",
                requests_file,
                connections=args.connections,
                count=args.callbacks,
                seconds=args.seconds,
                warmup=args.warmup,
            )
        finally:
            stop(server, timeout=60)
    statuses = await asyncio.to_thread(counts_in_child, database_url)
    if not session.exists():
        raise RuntimeError("pyinstrument wrote no session: see the server log (--keep-logs)")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    tree = RESULTS_DIR / f"profile-{stamp}.txt"
    render(session, "text", tree, "-p", "show_all=false", "--no-color")
    prof = workdir / "serve.pstats"
    render(session, "pstats", prof)
    by_package, top = shares(pstats.Stats(str(prof)))
    return {
        "load": report,
        "db_statuses": statuses,
        "own_time_by_package_pct": by_package,
        "top_functions_by_own_time": top,
        "call_tree": str(tree.relative_to(ROOT)),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lipabot-bench-") as tmp:
        workdir = Path(tmp)
        try:
            if args.database == "postgres" and await postgres_available():
                async with throwaway_postgres() as url:
                    figures = await profile(args, url, workdir)
                figures["database"] = "PostgreSQL"
            else:
                url = f"sqlite://{workdir / 'bench.sqlite3'}"
                figures = await profile(args, url, workdir)
                figures["database"] = "SQLite"
        finally:
            if args.keep_logs:
                copy_logs(workdir, Path(args.keep_logs))
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--keep-logs", default="", help="copy the server's log to this folder")
    args = parser.parse_args(argv)
    figures = asyncio.run(main_async(args))
    load = figures["load"]
    print(
        f"\nprofiled run ({figures['database']}): {load['ok']:,} callbacks at {load['rps']:,.0f}/s "
        f"(slowed by sampling), p99 {load['p99_ms']} ms"
    )
    print_table(
        "Own CPU time by package (share of all samples in the server process)",
        ["package", "%"],
        list(figures["own_time_by_package_pct"].items())[:14],
    )
    print_table(
        "Functions with the most own time",
        ["%", "function"],
        [[row["own_pct"], row["function"]] for row in figures["top_functions_by_own_time"][:12]],
    )
    print(f"\nfull call tree: {figures['call_tree']}")
    write_results("profile", figures)


if __name__ == "__main__":
    main()
