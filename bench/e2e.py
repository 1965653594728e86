"""500 customers paying at once, through the whole loop, over real HTTP.

Processes and sockets (all on 127.0.0.1):

- the service, `python -m bot serve`, one uvicorn worker, in a child process (SQLite or a
  throwaway PostgreSQL database), with Telegram and Daraja pointed at this script;
- a fake Telegram (`offline.fake_telegram`) served from this script: customers' updates are
  posted to the service's `/telegram/webhook` as Telegram would, and the bot's replies land here;
- the Daraja emulator (`daraja.emulator`) served from this script: it answers the service's
  OAuth and STK push, then POSTs each STK callback to the service's callback URL.

Each customer sends /pay, an amount, a phone number, and taps Confirm, each step after the bot's
answer to the previous one. Every push succeeds (no magic-number failures), so every customer must
end with exactly one message carrying their M-Pesa receipt number; anything else is reported as
lost or duplicated.

Figures: time from the emulator sending a callback to the fake Telegram receiving the bot's
sendMessage/editMessageText with that receipt (p50/p99; both sides read the same monotonic
clock), and payments per second (customers / time from the first /pay to the last receipt).
Goal: p99 < 100 ms, nothing lost. Run: `.venv/bin/python -m bench.e2e`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bench.common import (
    BENCH_BOT_TOKEN,
    HOST,
    copy_logs,
    free_port,
    latency_summary_ms,
    postgres_available,
    print_table,
    stop,
    throwaway_postgres,
    wait_http_ok,
    wait_until,
    write_results,
)
from bench.service import WEBHOOK_SECRET, service_env, start_service
from webhooks.serving import serve_in_loop

FIRST_USER_ID = 8_000_000
_RECEIPT = re.compile(r"\b[A-Z0-9]{10}\b")


@dataclass
class Sent:
    """One callback the emulator posted, keyed by the payer's phone."""

    checkout_request_id: str
    receipt: str | None
    at: float


class ChatWatcher:
    """Wraps the fake Telegram's ASGI app to wake whoever waits on a chat when the bot writes."""

    def __init__(self, telegram: Any) -> None:
        self.telegram = telegram
        self.inner = telegram.app
        self.seen = 0
        self.events: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        telegram.app = self

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.inner(scope, receive, send)
        calls = self.telegram.calls
        while self.seen < len(calls):
            chat = calls[self.seen].params.get("chat_id")
            self.seen += 1
            if isinstance(chat, int | str) and str(chat).lstrip("-").isdigit():
                self.events[int(chat)].set()

    async def wait(self, chat_id: int, ready: Callable[[], bool], within: float) -> bool:
        deadline = time.monotonic() + within
        while not ready():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            event = self.events[chat_id]
            event.clear()
            if ready():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        return True


@contextlib.asynccontextmanager
async def serve_app(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app on a loopback port from this event loop; yields its base URL."""
    config = uvicorn.Config(
        app, host=HOST, port=0, log_level="warning", access_log=False, lifespan="on"
    )
    async with serve_in_loop(config) as port:
        yield f"http://{HOST}:{port}"


def emulator_recorder(sent: dict[str, Sent]) -> Callable[[httpx.Request], Awaitable[None]]:
    """An httpx request hook for the emulator's client: note when each callback leaves."""

    async def record(request: httpx.Request) -> None:
        callback = json.loads(request.content)["Body"]["stkCallback"]
        items = {
            item.get("Name"): item.get("Value")
            for item in callback.get("CallbackMetadata", {}).get("Item", [])
        }
        phone = str(items.get("PhoneNumber", ""))
        sent[phone] = Sent(callback["CheckoutRequestID"], items.get("MpesaReceiptNumber"), 0.0)
        # Stamped last, as close to the write as a hook gets.
        sent[phone].at = time.monotonic()

    return record


class Customer:
    """One Telegram user going through /pay → amount → phone → Confirm."""

    def __init__(self, index: int, telegram: Any, watcher: ChatWatcher, post: Any) -> None:
        from offline.fake_telegram import FakeUser

        self.user = FakeUser(FIRST_USER_ID + index, first_name=f"Mteja{index}")
        self.local_phone = f"07{10_000_000 + index:08d}"
        self.msisdn = "254" + self.local_phone[1:]
        self.telegram = telegram
        self.watcher = watcher
        self.post = post
        self.step = "start"

    def _count(self) -> int:
        return len(self.telegram.messages[self.user.id])

    def _confirm_data(self) -> str | None:
        for message in reversed(self.telegram.chat_messages(self.user.id)):
            rows = (message.reply_markup or {}).get("inline_keyboard", [])
            for row in rows:
                for button in row:
                    if str(button.get("callback_data", "")).startswith("pay:"):
                        return str(button["callback_data"])
        return None

    async def _say(self, update: dict[str, Any], ready: Callable[[], bool], within: float) -> None:
        await self.post(update)
        if not await self.watcher.wait(self.user.id, ready, within):
            raise TimeoutError(f"no answer at step {self.step}")

    async def pay(self, amount: int, within: float) -> None:
        tg = self.telegram
        self.step = "/pay"
        await self._say(tg.command(self.user, "pay"), lambda: self._count() >= 1, within)
        self.step = "amount"
        await self._say(tg.text(self.user, str(amount)), lambda: self._count() >= 2, within)
        self.step = "phone"
        await self._say(
            tg.text(self.user, self.local_phone), lambda: self._confirm_data() is not None, within
        )
        self.step = "confirm"
        data = self._confirm_data()
        assert data is not None
        await self.post(tg.press(self.user, data))
        self.step = "pushed"


def receipt_calls(telegram: Any) -> dict[int, list[tuple[float, str]]]:
    """(time, receipt) of every sendMessage/editMessageText whose text carries a receipt."""
    found: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for call in telegram.calls:
        if call.method not in ("sendMessage", "editMessageText"):
            continue
        text = str(call.params.get("text", ""))
        if "Receipt" not in text and "Risiti" not in text:
            continue
        for receipt in _RECEIPT.findall(text):
            found[int(call.params["chat_id"])].append((call.at, receipt))
    return found


async def run(args: argparse.Namespace, database_url: str, workdir: Path) -> dict[str, Any]:
    from daraja.emulator import create_emulator_app
    from offline.fake_telegram import FakeTelegram

    telegram = FakeTelegram(BENCH_BOT_TOKEN)
    watcher = ChatWatcher(telegram)
    sent: dict[str, Sent] = {}
    # A fresh connection per callback, as Daraja's callbacks come: reusing an idle keep-alive
    # connection races uvicorn closing it (a ReadError, and the emulator, like Daraja, never
    # retries), which would count as a lost payment that lipabot had no chance to see.
    emulator_http = httpx.AsyncClient(
        timeout=10.0,
        limits=httpx.Limits(max_keepalive_connections=0),
        event_hooks={"request": [emulator_recorder(sent)]},
    )
    emulator_app = create_emulator_app(callback_delay=args.delay, http=emulator_http, scenarios={})
    port = free_port()
    async with (
        emulator_http,
        telegram.serve(HOST, 0) as telegram_url,
        serve_app(emulator_app) as emulator_url,
    ):
        env = service_env(
            database_url,
            port,
            telegram_url,
            MPESA_BASE_URL=emulator_url,
            PUSH_LIMIT_PER_HOUR="100",
            TELEGRAM_SEND_RATE=str(args.send_rate),
        )
        server = start_service(env, workdir / "serve.log")
        try:
            await asyncio.to_thread(
                wait_http_ok, f"http://{HOST}:{port}/healthz", timeout=30, process=server
            )
            figures = await drive(args, telegram, watcher, sent, f"http://{HOST}:{port}")
        finally:
            stop(server)
    return figures


async def drive(
    args: argparse.Namespace,
    telegram: Any,
    watcher: ChatWatcher,
    sent: dict[str, Sent],
    service_url: str,
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=service_url, limits=limits, timeout=30.0) as http:

        async def post(update: dict[str, Any]) -> None:
            response = await http.post(
                "/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            )
            response.raise_for_status()

        customers = [Customer(i, telegram, watcher, post) for i in range(args.customers)]
        started = time.monotonic()
        outcomes = await asyncio.gather(
            *(c.pay(100 + i, args.step_timeout) for i, c in enumerate(customers)),
            return_exceptions=True,
        )
        pushed_at = time.monotonic()

        waiting = {c.user.id for c in customers}
        scanned = 0

        def all_receipts_in() -> bool:
            # Incremental, so polling does not steal the CPU the fake Telegram needs to stamp
            # its calls on time.
            nonlocal scanned
            calls = telegram.calls
            for call in calls[scanned:]:
                if call.method in ("sendMessage", "editMessageText") and _RECEIPT.search(
                    str(call.params.get("text", ""))
                ):
                    waiting.discard(int(call.params["chat_id"]))
            scanned = len(calls)
            return not waiting

        await wait_until(all_receipts_in, within=args.receipt_timeout)
        # Late duplicates would show up in this extra second.
        await asyncio.sleep(1.0)
    return summarise(customers, outcomes, telegram, sent, started, pushed_at)


def summarise(
    customers: list[Customer],
    outcomes: list[Any],
    telegram: Any,
    sent: dict[str, Sent],
    started: float,
    pushed_at: float,
) -> dict[str, Any]:
    calls = receipt_calls(telegram)
    latencies: list[float] = []
    lost, duplicated, wrong, stuck = [], [], [], []
    last_receipt = started
    for customer, outcome in zip(customers, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            stuck.append(f"{customer.user.id} at {customer.step}: {outcome!r}"[:200])
        callback = sent.get(customer.msisdn)
        mine = calls.get(customer.user.id, [])
        if not mine:
            lost.append(customer.user.id)
            continue
        if len(mine) > 1:
            duplicated.append(customer.user.id)
        at, receipt = mine[0]
        last_receipt = max(last_receipt, at)
        if callback is None or callback.receipt != receipt:
            wrong.append(customer.user.id)
            continue
        latencies.append(at - callback.at)
    elapsed = last_receipt - started
    return {
        "customers": len(customers),
        "receipts": len(customers) - len(lost),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "wrong_receipt": len(wrong),
        "stuck_in_conversation": len(stuck),
        "stuck_samples": stuck[:5],
        "callbacks_sent": len(sent),
        "seconds_to_all_pushed": round(pushed_at - started, 2),
        "seconds_first_pay_to_last_receipt": round(elapsed, 2),
        "payments_per_second": round((len(customers) - len(lost)) / elapsed, 1) if elapsed else 0,
        "callback_to_telegram": latency_summary_ms(latencies),
        "telegram_calls": len(telegram.calls),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lipabot-bench-") as tmp:
        workdir = Path(tmp)
        try:
            if args.database == "postgres" and await postgres_available():
                label = "PostgreSQL"
                async with throwaway_postgres() as url:
                    await asyncio.to_thread(_migrate, url)
                    figures = await run(args, url, workdir)
            else:
                if args.database == "postgres":
                    print("PostgreSQL does not answer: using SQLite", file=sys.stderr)
                label = "SQLite"
                url = f"sqlite://{workdir / 'bench.sqlite3'}"
                await asyncio.to_thread(_migrate, url)
                figures = await run(args, url, workdir)
        finally:
            if args.keep_logs:
                copy_logs(workdir, Path(args.keep_logs))
    return {
        "database": label,
        "emulator_callback_delay_seconds": args.delay,
        "telegram_send_rate": args.send_rate,
        "goal": {"callback_to_telegram_p99_ms_max": 100, "lost_max": 0},
        **figures,
    }


def _migrate(database_url: str) -> None:
    """The Procfile's release step, before the service starts."""
    import subprocess

    from bench.common import ROOT, bench_env

    subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=ROOT,
        env=bench_env(DATABASE_URL=database_url),
        check=True,
        capture_output=True,
        timeout=120,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--delay", type=float, default=1.0, help="emulator's callback delay (s)")
    parser.add_argument("--connections", type=int, default=100, help="to the webhook route")
    parser.add_argument("--step-timeout", type=float, default=60.0)
    parser.add_argument("--receipt-timeout", type=float, default=60.0)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument(
        "--send-rate",
        type=float,
        default=25.0,
        help="the service's TELEGRAM_SEND_RATE (messages/s; 0 = no limit of its own)",
    )
    parser.add_argument("--keep-logs", default="", help="copy the server's log to this folder")
    args = parser.parse_args(argv)
    figures = asyncio.run(main_async(args))
    latency = figures["callback_to_telegram"]
    print_table(
        f"{args.customers} customers paying at once ({figures['database']}, whole loop over HTTP)",
        ["figure", "value"],
        [
            ["receipts / customers", f"{figures['receipts']} / {figures['customers']}"],
            [
                "lost / duplicated / wrong",
                f"{figures['lost']} / {figures['duplicated']} / {figures['wrong_receipt']}",
            ],
            ["stuck in the conversation", figures["stuck_in_conversation"]],
            ["callback -> Telegram p50 (ms)", latency["p50_ms"]],
            ["callback -> Telegram p99 (ms)", latency["p99_ms"]],
            ["callback -> Telegram max (ms)", latency["max_ms"]],
            ["all confirmed after (s)", figures["seconds_to_all_pushed"]],
            ["first /pay to last receipt (s)", figures["seconds_first_pay_to_last_receipt"]],
            ["payments per second", figures["payments_per_second"]],
        ],
    )
    write_results("e2e", figures)


if __name__ == "__main__":
    main()
