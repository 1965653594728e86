"""What one log line costs `python -m bot serve`: µs per line for the two lines of every callback.

At INFO each STK callback produces two lines: the access line (`lipabot.access`, from
`webhooks.access_log`) and the service's decision line (`payments.service`, `_log_apply`:
`payment #%d: %s %s (code %s) -> %s [%s]` with the CheckoutRequestID masked by
`daraja.masking.mask_checkout_id`). Logging is set up exactly as `serve` sets it up
(`config.logging.configure_logging`: root handler on stderr, LOG_FORMAT, the redacting filter
with every secret configured) with file descriptor 2 pointed at /dev/null or at a temporary file
while the lines are logged, so the real `sys.stderr` object (line-buffered) does the writing.

Rows: the whole `logger.info(...)` call per line shape and target, then its parts, each timed
alone: making the LogRecord (findCaller not included), the handler's filters (the redacting
filter), the handler's formatter, and `mask_checkout_id` (which the service calls before logging
the decision line, so it is part of that line's figure). Each figure is the best of `--repeat`
runs of `--lines` items, with GC off during a run as timeit does, in CPU time of the process
(user + system: what the CPU-bound server pays; other work on the machine inflates it less than
wall time). The lines are logged from one loop per shape, so the per-second date cache of
`config.logging.LineFormatter` hits as it does under load.
In-process, single-threaded, a few seconds; nothing is asserted.
Run: `.venv/bin/python -m bench.logging_cost`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import SecretStr

from bench.common import print_table, write_results
from config import Settings
from config.logging import configure_logging
from daraja.masking import mask_checkout_id
from payments.results import ApplyKind
from payments.states import PaymentStatus
from webhooks.access_log import loggable_path

CALLBACK_TOKEN = "cb-token-3f9a1c7e5b2d4a6f8e0c1b3d5f7a9c2e"
CHECKOUT_ID = "ws_CO_29112026171000123254712345678"


def serve_settings() -> Settings:
    """Settings with every secret `serve` would have in production (so the filter checks six)."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=SecretStr("7312945501:AAH3kz9Qx-Lm4Rt7Yp1Wn6Zc3Hd8Kf5Jg0"),
        telegram_webhook_secret=SecretStr("tg-webhook-secret-9d4a7e3b6f0c"),
        telegram_api_url="https://telegram.test/bot",
        admin_ids=[1000],
        merchant_name="Duka la Mama",
        mpesa_consumer_key=SecretStr("ck-Vb9sQ2xLm4Rt7Yp1Wn6Zc3Hd8Kf5Jg0A"),
        mpesa_consumer_secret=SecretStr("cs-Qm3Tz8Lp1Xv6Bn4Rw9Kd2Hs7Gf5Jc0Ye"),
        mpesa_passkey=SecretStr(
            "pk-5b2e8f1c9d4a7e3b6f0c2d8a1e9b4f7c3d6a0e2b5f8c1d4a7e0b3f6c9d2a5e8b"
        ),
        mpesa_callback_token=SecretStr(CALLBACK_TOKEN),
        public_url="https://lipabot.test",
        database_url="sqlite://:memory:",
        log_level="INFO",
    )


@contextlib.contextmanager
def stderr_to(path: str) -> Iterator[None]:
    """Point file descriptor 2 (under `sys.stderr`) at `path` for the duration."""
    sys.stderr.flush()
    saved = os.dup(2)
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(target, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)


access = logging.getLogger("lipabot.access")
service = logging.getLogger("payments.service")
PATH = loggable_path(f"/payments/callback/{CALLBACK_TOKEN}")


def access_line(i: int) -> None:
    access.log(
        logging.INFO, "%s %s %d from %s in %.1f ms", "POST", PATH, 200, "127.0.0.1", 1.234 + i % 7
    )


def decision_line(i: int) -> None:
    service.info(
        "payment #%d: %s %s (code %s) -> %s [%s]",
        i,
        "callback",
        mask_checkout_id(CHECKOUT_ID),
        0,
        PaymentStatus.PAID,
        ApplyKind.APPLIED,
    )


SHAPES: dict[str, Callable[[int], None]] = {"access": access_line, "decision": decision_line}


def _best(loop: Callable[[], None], count: int, repeat: int) -> float:
    """Best µs per item of `repeat` runs of `loop` (which does `count` items), GC off as timeit."""
    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            started = time.process_time()
            loop()
            best = min(best, time.process_time() - started)
    finally:
        if enabled:
            gc.enable()
    return best / count * 1e6


def per_line_us(fn: Callable[[int], None], lines: int, repeat: int) -> float:
    def loop() -> None:
        for i in range(lines):
            fn(i)

    return _best(loop, lines, repeat)


def part_us(fn: Callable[[], Any], loops: int, repeat: int) -> float:
    def loop() -> None:
        for _ in range(loops):
            fn()

    return _best(loop, loops, repeat)


def parts(loops: int, repeat: int) -> dict[str, dict[str, float]]:
    """Each stage alone, on records shaped like the two lines (filter and format on one record,
    as often as the LogRecord is made: the work is the same each time)."""
    handler = logging.getLogger().handlers[0]
    shapes = {
        "access": (
            access,
            "%s %s %d from %s in %.1f ms",
            ("POST", PATH, 200, "127.0.0.1", 1.234),
        ),
        "decision": (
            service,
            "payment #%d: %s %s (code %s) -> %s [%s]",
            (
                41234,
                "callback",
                mask_checkout_id(CHECKOUT_ID),
                0,
                PaymentStatus.PAID,
                ApplyKind.APPLIED,
            ),
        ),
    }
    figures: dict[str, dict[str, float]] = {}
    for name, (logger, msg, args) in shapes.items():

        def make(logger: logging.Logger = logger, msg: str = msg, args: tuple = args) -> Any:
            return logger.makeRecord(logger.name, logging.INFO, __file__, 1, msg, args, None)

        record = make()
        handler.filter(record)
        figures[name] = {
            "record_us": round(part_us(make, loops, repeat), 2),
            # Handler.filter: the redacting filter, as the handler calls it.
            "filter_us": round(part_us(lambda r=record: handler.filter(r), loops, repeat), 2),
            "format_us": round(part_us(lambda r=record: handler.format(r), loops, repeat), 2),
        }
    figures["decision"]["mask_checkout_id_us"] = round(
        part_us(lambda: mask_checkout_id(CHECKOUT_ID), loops, repeat), 2
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=20_000, help="lines per run (default 20,000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per row; the best counts")
    parser.add_argument("--no-results", action="store_true", help="do not write bench/results")
    args = parser.parse_args(argv)
    lines = max(1, min(args.lines, 1_000_000))
    repeat = max(1, min(args.repeat, 20))

    configure_logging(serve_settings())
    sample: list[str] = []
    rows: list[list[object]] = []
    figures: dict[str, Any] = {"lines": lines, "repeat": repeat, "per_line_us": {}}
    with tempfile.TemporaryDirectory(prefix="lipabot-logcost-") as workdir:
        log_file = os.path.join(workdir, "serve.log")
        for target_name, target in (("/dev/null", os.devnull), ("file", log_file)):
            for shape, fn in SHAPES.items():
                with stderr_to(target):
                    us = per_line_us(fn, lines, repeat)
                rows.append([shape, target_name, round(us, 2)])
                figures["per_line_us"][f"{shape} {target_name}"] = round(us, 2)
        with open(log_file) as written:
            sample = [written.readline().rstrip("\n")]
            for line in written:
                if "payment #" in line:
                    sample.append(line.rstrip("\n"))
                    break
        with stderr_to(os.devnull):
            breakdown = parts(lines, repeat)
    figures["parts_us"] = breakdown
    figures["sample_lines"] = sample

    print_table(
        f"one log line at INFO, as `serve` logs it ({lines:,} lines, best of {repeat})",
        ["line", "stderr to", "µs/line"],
        rows,
    )
    print_table(
        "its parts, per record (µs)",
        ["line", "LogRecord", "filter", "format", "mask_checkout_id"],
        [
            [
                name,
                part["record_us"],
                part["filter_us"],
                part["format_us"],
                part.get("mask_checkout_id_us", "-"),
            ]
            for name, part in breakdown.items()
        ],
    )
    print("\nas written:")
    for line in sample:
        print("  " + line)
    if not args.no_results:
        write_results("logging_cost", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
