"""What delivering one customer message costs the server process: the outbox, then the notifier.

The notifier claims due outbox rows in rounds (`Outbox.claim`, a batch of 20), sends each through
PTB and marks it sent (`Outbox.mark_sent`). This script seeds `--payments` paid payments, each
with its pending customer message, and drains them the way the notifier does, measuring the CPU
this process spends (`time.process_time`, so the database server's own work is not in it) and
the wall time, per message:

- `outbox`: `claim` + `mark_sent` only (the database half of a delivery);
- `notifier`: `Notifier.deliver_due()` rounds with the real PTB bot built by
  `bot.app.build_application`, sending to the fake Telegram (`offline.fake_telegram`), which runs in
  a child process so its CPU does not count. No send-rate limit (the token bucket only waits).

Each database runs in its own child process (tortoise keeps per-model state for the first
database a process opens); PostgreSQL is a throwaway database on the local server, SQLite a
temporary file. Every repeat resets the same rows to pending and drains them again; the best
repeat is reported (the least disturbed by other work on the machine). `--orm` makes the
outbox take its ORM path on PostgreSQL too (the way it did before the one-statement path).
Run: `.venv/bin/python -m bench.outbox_cost` (`--db postgres|sqlite|both`,
`--mode outbox|notifier|both`, `--payments N`, `--repeats N`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    BENCH_BOT_TOKEN,
    HOST,
    ROOT,
    bench_env,
    bench_phone,
    postgres_available,
    print_table,
    receipt_number,
    run_module,
    throwaway_postgres,
    write_results,
)
from bench.seed import amount_for, user_id_for

OWNER = "bench-notifier"
BATCH = 20


# ---------------------------------------------------------------- child: one database


async def _seed(count: int) -> None:
    from payments.models import Notification, NotificationKind, Payment
    from payments.states import PaymentStatus

    now = datetime.now(UTC)
    payments = [
        Payment(
            user_id=user_id_for(index),
            chat_id=user_id_for(index),
            language="en",
            amount=amount_for(index),
            phone=bench_phone(index),
            account_reference="lipabot",
            merchant_request_id=f"bench-{index:08d}",
            checkout_request_id=f"ws_CO_bench_{index:08d}",
            status=PaymentStatus.PAID,
            result_code="0",
            result_desc="The service request is processed successfully.",
            receipt=receipt_number(index),
            transaction_time=now,
            paid_amount=amount_for(index),
            created_at=now,
            updated_at=now,
            pushed_at=now,
            completed_at=now,
        )
        for index in range(count)
    ]
    for start in range(0, count, 2000):
        await Payment.bulk_create(payments[start : start + 2000])
    ids = await Payment.all().order_by("id").values_list("id", "chat_id", "user_id")
    notes = [
        Notification(
            payment_id=payment_id,
            chat_id=chat_id,
            user_id=user_id,
            language="en",
            kind=NotificationKind.PAID,
            next_attempt_at=now - timedelta(seconds=1),
            created_at=now,
        )
        for payment_id, chat_id, user_id in ids
    ]
    for start in range(0, count, 2000):
        await Notification.bulk_create(notes[start : start + 2000])


async def _reset() -> None:
    """Every message pending again, as before the first drain."""
    from payments.models import Notification, NotificationStatus, PaymentEvent

    await PaymentEvent.filter(kind="notified").delete()
    await Notification.all().update(
        status=NotificationStatus.PENDING,
        attempts=0,
        sent_at=None,
        claimed_by=None,
        claimed_until=None,
        next_attempt_at=datetime.now(UTC) - timedelta(seconds=1),
    )


async def _measure(drain: Callable[[], Awaitable[int]], count: int) -> dict[str, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    sent = await drain()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if sent != count:
        raise RuntimeError(f"drained {sent} messages, expected {count}")
    return {
        "cpu_ms_per_message": round(cpu / count * 1000, 3),
        "wall_ms_per_message": round(wall / count * 1000, 3),
        "messages_per_cpu_second": round(count / cpu) if cpu else 0,
    }


def _outbox(orm: bool) -> Any:
    from payments.outbox import Outbox

    return Outbox(one_statement=False if orm else None)


async def _outbox_drain(orm: bool) -> int:
    outbox = _outbox(orm)
    sent = 0
    while rows := await outbox.claim(owner=OWNER, limit=BATCH, lease_seconds=30):
        for row in rows:
            sent += await outbox.mark_sent(row.id, owner=OWNER)
    return sent


@contextlib.asynccontextmanager
async def _notifier(telegram_url: str, orm: bool) -> AsyncIterator[Any]:
    from pydantic import SecretStr

    from bot.app import build_application
    from bot.context import BotServices, notifier_of
    from config import Settings
    from payments.rules import PaymentRules
    from payments.service import PaymentService

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(BENCH_BOT_TOKEN),
        telegram_api_url=telegram_url,
        telegram_send_rate=0,  # the notifier's own cost, not Telegram's pace
        telegram_chat_rate=0,
        merchant_name="Duka la Mama",
    )
    service = PaymentService(
        None,  # type: ignore[arg-type]  (the notifier never pushes)
        rules=PaymentRules(),
        callback_url="https://lipabot.bench.invalid/payments/callback/x",
        account_reference="lipabot",
        description="Payment",
    )
    services = BotServices(payments=service, outbox=_outbox(orm), owner=OWNER)
    application = build_application(settings, services, persistence=False)
    await application.initialize()
    try:
        yield notifier_of(application)
    finally:
        await application.shutdown()


async def _notifier_drain(notifier: Any) -> int:
    sent = 0
    while delivered := await notifier.deliver_due():
        sent += delivered
    return sent


async def child(
    kind: str,
    url: str,
    count: int,
    repeats: int,
    modes: list[str],
    telegram_url: str,
    orm: bool = False,
) -> dict[str, Any]:
    from payments.db import close_db, init_db

    await init_db(url, run_migrations=True)
    figures: dict[str, Any] = {}
    try:
        await _seed(count)
        if "outbox" in modes:
            runs = []
            for _ in range(repeats):
                await _reset()
                runs.append(await _measure(lambda: _outbox_drain(orm), count))
            figures["outbox"] = min(runs, key=lambda r: r["cpu_ms_per_message"])
        if "notifier" in modes:
            async with _notifier(telegram_url, orm) as notifier:
                runs = []
                for _ in range(repeats):
                    await _reset()
                    runs.append(await _measure(lambda: _notifier_drain(notifier), count))
            figures["notifier"] = min(runs, key=lambda r: r["cpu_ms_per_message"])
    finally:
        await close_db()
    return figures


# ---------------------------------------------------------------- child: fake Telegram


async def serve_fake_telegram() -> None:
    """Serve the fake Telegram on a free loopback port; print its URL; run until killed."""
    from offline.fake_telegram import FakeTelegram

    fake = FakeTelegram(BENCH_BOT_TOKEN)
    async with fake.serve(HOST, 0) as url:
        print(url, flush=True)
        await asyncio.Event().wait()  # until the parent terminates this process


# ---------------------------------------------------------------- parent


def _run_child(kind: str, url: str, args: argparse.Namespace, telegram_url: str) -> dict[str, Any]:
    out = run_module(
        "bench.outbox_cost",
        "--child",
        kind,
        url,
        "--payments",
        str(args.payments),
        "--repeats",
        str(args.repeats),
        "--mode",
        args.mode,
        "--telegram-url",
        telegram_url,
        *(["--orm"] if args.orm else []),
        timeout=900,
    )
    return json.loads(out.strip().splitlines()[-1])


@contextlib.contextmanager
def _fake_telegram_process() -> Any:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.outbox_cost", "--serve-fake-telegram"],
        cwd=ROOT,
        env=bench_env(),
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().decode().strip()
        if not url.startswith("http"):
            raise RuntimeError("the fake Telegram did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


async def parent(args: argparse.Namespace) -> None:
    kinds = ["postgres", "sqlite"] if args.db == "both" else [args.db]
    if "postgres" in kinds and not await postgres_available():
        print("PostgreSQL does not answer: SQLite only")
        kinds.remove("postgres")
    results: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        telegram_url = ""
        if args.mode in ("notifier", "both"):
            telegram_url = stack.enter_context(_fake_telegram_process())
        for kind in kinds:
            if kind == "postgres":
                async with throwaway_postgres("lipabot_outbox") as url:
                    results[kind] = _run_child(kind, url, args, telegram_url)
            else:
                directory = Path(tempfile.mkdtemp(prefix="lipabot-outbox-"))
                try:
                    url = f"sqlite://{directory / 'bench.sqlite3'}"
                    results[kind] = _run_child(kind, url, args, telegram_url)
                finally:
                    shutil.rmtree(directory, ignore_errors=True)
    rows = [
        (
            kind,
            mode,
            figures["cpu_ms_per_message"],
            figures["wall_ms_per_message"],
            figures["messages_per_cpu_second"],
        )
        for kind, by_mode in results.items()
        for mode, figures in by_mode.items()
    ]
    print_table(
        f"Per customer message, {args.payments:,} messages in rounds of {BATCH}, "
        f"best of {args.repeats}{', ORM outbox' if args.orm else ''} "
        f"(load {os.getloadavg()[0]:.2f})",
        ("database", "path", "CPU ms", "wall ms", "msgs/CPU-s"),
        rows,
    )
    write_results(
        "outbox_cost",
        {
            "payments": args.payments,
            "batch": BATCH,
            "repeats": args.repeats,
            "orm_outbox": args.orm,
            "results": results,
        },
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgres", "sqlite", "both"), default="both")
    parser.add_argument("--mode", choices=("outbox", "notifier", "both"), default="both")
    parser.add_argument("--payments", type=int, default=2000, help="messages per drain")
    parser.add_argument("--repeats", type=int, default=3, help="drains per path (best is shown)")
    parser.add_argument(
        "--orm", action="store_true", help="the outbox's ORM path on PostgreSQL too (as before)"
    )
    parser.add_argument("--child", nargs=2, metavar=("KIND", "URL"), help=argparse.SUPPRESS)
    parser.add_argument("--telegram-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--serve-fake-telegram", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_fake_telegram:
        asyncio.run(serve_fake_telegram())
    elif args.child:
        kind, url = args.child
        modes = ["outbox", "notifier"] if args.mode == "both" else [args.mode]
        figures = asyncio.run(
            child(kind, url, args.payments, args.repeats, modes, args.telegram_url, args.orm)
        )
        print(json.dumps(figures))
    else:
        asyncio.run(parent(args))


if __name__ == "__main__":
    main()
