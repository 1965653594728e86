"""Helpers every benchmark shares: figures, result files, child processes, throwaway databases.

The benchmarks print a short table and write their figures as JSON under `bench/results/`
(`<name>-<UTC timestamp>.json` plus `<name>-latest.json`). Nothing here asserts a speed: the
figures are for people to read against the goals.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
#: Every bench talks to this host only (loopback); nothing leaves the machine.
HOST = "127.0.0.1"
POSTGRES_ADMIN_URL = os.environ.get(
    "LIPABOT_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
#: The bot token the benches give the service and the fake Telegram (fake: nothing real to leak).
BENCH_BOT_TOKEN = "123456:BENCH-bot-token-0123456789abcdefghijklmn"


# ---------------------------------------------------------------- figures


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (`pct` in 0..100) of `values`; NaN for no values."""
    if not values:
        return math.nan
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within 0..100, got {pct}")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max of latencies given in seconds, as milliseconds rounded to 0.01."""
    return {
        name: round(percentile(seconds, pct) * 1000, 2)
        for name, pct in (("p50_ms", 50), ("p90_ms", 90), ("p99_ms", 99), ("max_ms", 100))
    }


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain, aligned text table (no dependency, readable in a CI log)."""
    cells = [[str(h) for h in header]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for index, row in enumerate(cells):
        print("  " + "  ".join(text.rjust(width) for text, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  " + "  ".join("-" * width for width in widths))


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def machine_info() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        # Other work on the machine skews every figure: a load near the core count says so.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def write_results(name: str, figures: dict[str, Any]) -> Path:
    """Write `figures` (with when and where) to `<name>-<stamp>.json` and `<name>-latest.json`."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "bench": name,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        **figures,
    }
    text = json.dumps(document, indent=2, sort_keys=False, default=str) + "\n"
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    path.write_text(text)
    (RESULTS_DIR / f"{name}-latest.json").write_text(text)
    print(f"\nfigures written to {path.relative_to(ROOT)} (and {name}-latest.json)")
    return path


# ---------------------------------------------------------------- Daraja-shaped data


def checkout_request_id(index: int, phone: str, at: datetime | None = None) -> str:
    """A CheckoutRequestID in today's format: `ws_CO_<DDMMYYYYHHmmssSSS><MSISDN>` (EAT)."""
    eat = (at or datetime.now(UTC)) + timedelta(hours=3)
    millis = (eat.microsecond // 1000 + index) % 1000
    return f"ws_CO_{eat:%d%m%Y%H%M%S}{millis:03d}{phone}{index:06d}"


def bench_phone(index: int) -> str:
    """A distinct Safaricom-shaped MSISDN per customer index (2547XXXXXXXX)."""
    return f"2547{index % 100_000_000:08d}"


def merchant_request_id(index: int) -> str:
    return f"{uuid.uuid4().hex[:4]}-{uuid.uuid4().hex[:4]}-bench-{index:08d}"


def receipt_number(index: int) -> str:
    """A 10-character receipt shaped like M-Pesa's (year, month, day letters, then 7 chars)."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    tail, n = [], index
    for _ in range(7):
        n, digit = divmod(n, len(alphabet))
        tail.append(alphabet[digit])
    return "UAS" + "".join(reversed(tail))


def stk_callback_body(
    *,
    merchant_id: str,
    checkout_id: str,
    result_code: int,
    amount: int,
    phone: str,
    receipt: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """An STK callback as Daraja posts it: metadata only on ResultCode 0."""
    descriptions = {
        0: "The service request is processed successfully.",
        1032: "Request Cancelled by user.",
        1037: "DS timeout user cannot be reached.",
        1: "The balance is insufficient for the transaction.",
    }
    callback: dict[str, Any] = {
        "MerchantRequestID": merchant_id,
        "CheckoutRequestID": checkout_id,
        "ResultCode": result_code,
        "ResultDesc": descriptions.get(result_code, "Failed."),
    }
    if result_code == 0:
        eat = (at or datetime.now(UTC)) + timedelta(hours=3)
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": amount},
                {"Name": "MpesaReceiptNumber", "Value": receipt},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": int(f"{eat:%Y%m%d%H%M%S}")},
                {"Name": "PhoneNumber", "Value": int(phone)},
            ]
        }
    return {"Body": {"stkCallback": callback}}


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def bench_env(**overrides: str) -> dict[str, str]:
    """The environment for a child process: ours, minus anything that would leak a real setting."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "MPESA_", "DATABASE_", "PUBLIC_URL"))
    }
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(overrides)
    return env


def run_module(module: str, *args: str, timeout: float) -> str:
    """`python -m module args` in a child with the bench environment: its stdout.

    RuntimeError with the end of the child's stderr when it fails.
    """
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=bench_env(),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args[:2])} failed: {done.stderr.decode()[-3000:]}")
    return done.stdout.decode()


def spawn(args: Sequence[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start a child in its own session with output to `log_path` (read it when things fail)."""
    log = log_path.open("wb")
    return subprocess.Popen(
        list(args),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes], timeout: float = 15.0) -> int | None:
    """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    return process.returncode


def wait_http_ok(
    url: str, *, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> float:
    """Poll `url` until it answers 200; returns the seconds waited. Bounded by `timeout`."""
    started = time.monotonic()
    deadline = started + timeout
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"process exited with {process.returncode} before {url} was up")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(url).status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.02)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s")


async def wait_until(predicate: Callable[[], bool], within: float) -> bool:
    """Poll `predicate` every 50 ms for at most `within` seconds; returns its last answer."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


def copy_logs(source: Path, target: Path) -> None:
    """Keep the child processes' logs of a run (they live in a temporary folder)."""
    target.mkdir(parents=True, exist_ok=True)
    for log in source.glob("*.log"):
        (target / log.name).write_bytes(log.read_bytes())


def rss_mb(pid: int) -> float:
    """Resident set size of `pid` from /proc/<pid>/status (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds `pid` has used so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    # After the command name: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
    return (int(fields[11]) + int(fields[12])) / ticks


def write_requests(path: Path, requests: Iterator[tuple[str, dict[str, Any]]]) -> int:
    """Write (path, JSON body) pairs, one per line, for the load generator; returns the count."""
    count = 0
    with path.open("w") as out:
        for url_path, body in requests:
            out.write(json.dumps({"path": url_path, "body": body}, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count


# ---------------------------------------------------------------- PostgreSQL


@contextlib.asynccontextmanager
async def throwaway_postgres(prefix: str = "lipabot_bench") -> AsyncIterator[str]:
    """Create a fresh database on the local server, yield its URL, and drop it afterwards."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin_dsn = POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://", 1)
    admin = await asyncpg.connect(admin_dsn, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(admin_dsn, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def postgres_available() -> bool:
    """Whether the local PostgreSQL server answers (the benches fall back to SQLite if not)."""
    import asyncpg

    try:
        conn = await asyncpg.connect(
            POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://", 1), timeout=3
        )
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True
