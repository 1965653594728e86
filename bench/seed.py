"""Pending payments for the benchmarks, and the callbacks that settle them.

`seed` migrates a database, inserts payments in `pending` (as if their STK push had been
accepted) through `payments.models`, and writes one valid, distinct STK callback per payment to
a JSON-lines file for `bench.loadgen`. `counts` reads back how many payments are in each status.

Both run in a child process (`python -m bench.seed ...`; helpers below): tortoise keeps per-model
SQL state for the first database a process opens, so one process must not open SQLite and
then PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    bench_phone,
    checkout_request_id,
    receipt_number,
    run_module,
    stk_callback_body,
    write_requests,
)

CALLBACK_TOKEN = "bench-callback-token-0123456789abcdef"
#: Result codes of the posted callbacks, in turn: half paid, the rest the commonest failures.
RESULT_CODES = (0, 1032, 0, 1037)
#: User (and private chat) ids of bench customers start here.
FIRST_USER_ID = 7_000_000


def amount_for(index: int) -> int:
    return 10 + index % 490


def user_id_for(index: int) -> int:
    return FIRST_USER_ID + index


def callback_requests(start: int, count: int, at: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, body) for payment indexes start..start+count-1, as Daraja would post them."""
    for index in range(start, start + count):
        phone = bench_phone(index)
        yield (
            f"/payments/callback/{CALLBACK_TOKEN}",
            stk_callback_body(
                merchant_id=f"bench-{index:08d}",
                checkout_id=checkout_request_id(index, phone, at),
                result_code=RESULT_CODES[index % len(RESULT_CODES)],
                amount=amount_for(index),
                phone=phone,
                receipt=receipt_number(index),
            ),
        )


async def seed(database_url: str, start: int, count: int, requests_file: Path) -> None:
    """Insert payments start..start+count-1 as pending and write their callbacks."""
    from payments.db import close_db, init_db
    from payments.models import Payment
    from payments.states import PaymentStatus

    now = datetime.now(UTC)
    await init_db(database_url, run_migrations=True)
    try:
        batch: list[Payment] = []
        for index in range(start, start + count):
            phone = bench_phone(index)
            batch.append(
                Payment(
                    user_id=user_id_for(index),
                    chat_id=user_id_for(index),
                    language="en",
                    amount=amount_for(index),
                    phone=phone,
                    account_reference="lipabot",
                    merchant_request_id=f"bench-{index:08d}",
                    checkout_request_id=checkout_request_id(index, phone, now),
                    status=PaymentStatus.PENDING,
                    created_at=now,
                    updated_at=now,
                    pushed_at=now,
                    # Keep the reconciler from querying Daraja about these during the run.
                    next_check_at=now + timedelta(hours=1),
                )
            )
            if len(batch) == 2000:
                await Payment.bulk_create(batch)
                batch = []
        if batch:
            await Payment.bulk_create(batch)
    finally:
        await close_db()
    write_requests(requests_file, callback_requests(start, count, now))


async def counts(database_url: str) -> dict[str, int]:
    from tortoise.functions import Count

    from payments.db import close_db, init_db
    from payments.models import Payment

    await init_db(database_url)
    try:
        rows = await Payment.all().group_by("status").annotate(n=Count("id")).values("status", "n")
    finally:
        await close_db()
    return {str(row["status"]): int(row["n"]) for row in rows}


# ---------------------------------------------------------------- parent-side helpers


def seed_in_child(database_url: str, start: int, count: int, requests_file: Path) -> None:
    _child("seed", database_url, str(start), str(count), str(requests_file))


def counts_in_child(database_url: str) -> dict[str, int]:
    return json.loads(_child("counts", database_url))


def _child(*args: str) -> str:
    return run_module("bench.seed", *args, timeout=300)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    seeding = sub.add_parser("seed")
    seeding.add_argument("database_url")
    seeding.add_argument("start", type=int)
    seeding.add_argument("count", type=int)
    seeding.add_argument("requests_file", type=Path)
    counting = sub.add_parser("counts")
    counting.add_argument("database_url")
    args = parser.parse_args(argv)
    if args.command == "seed":
        asyncio.run(seed(args.database_url, args.start, args.count, args.requests_file))
    else:
        print(json.dumps(asyncio.run(counts(args.database_url))))


if __name__ == "__main__":
    main()
