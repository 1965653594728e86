"""A rush: hundreds of customers paying in the same seconds, through the whole loop, over HTTP.

Processes and sockets (all on 127.0.0.1):

- the service, `python -m bot serve`, one uvicorn worker, in a child process (PostgreSQL by
  default, or SQLite), with Telegram and Daraja pointed at this script;
- a fake Telegram (`offline.fake_telegram`) served from this script, **enforcing Telegram's
  flood limits** (429 `retry_after` beyond 30 messages/s overall or 1/s in a chat after a burst
  of 3): customers' updates are posted to the service's `/telegram/webhook` as Telegram would,
  and the bot's replies land here;
- the Daraja emulator (`daraja.emulator`) served from this script, slowed down as Daraja is at a
  peak: each STK push is answered after a random 0.5–20 s, each callback comes 2–30 s later.

Each customer starts at a random moment within the first 10 s and sends /pay, an amount, a phone
number, and taps Confirm, each step after the bot's answer to the previous one. Every push
succeeds, so every customer must end with exactly one message carrying their M-Pesa receipt.

Figures: 429 answers from the fake Telegram (goal 0); reply latency, from a customer's message to
the bot's answer they wait for (p50/p99; goal p99 < 2 s plus the wait Telegram's limits impose,
which this script computes by running the same demand through an ideal limiter with the bot's
pace and prints beside it); callback → receipt (p50/p99/max); receipts lost or duplicated
(goal 0); payments per second; the service process's CPU seconds per payment.

`--scenario hang`: one customer's push hangs 25 s while 50 others pay; their reply latency must
not move (compare `--scenario hang --no-hang`). `--scale` multiplies every timing (arrivals,
Daraja's delays, the hang) to keep a run short. Run: `.venv/bin/python -m bench.e2e`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
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
    percentile,
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
_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
#: The bot's own pace (TELEGRAM_SEND_RATE, bot.limiter's chat pace): the ideal limiter's too.
BOT_RATE, BOT_BURST, CHAT_RATE, CHAT_BURST = 25.0, 25, 1.0, 2


@dataclass
class Sent:
    """One callback the emulator posted, keyed by the payer's phone."""

    checkout_request_id: str
    receipt: str | None
    at: float


@dataclass
class Step:
    """One customer message and the wait for the bot's answer to it."""

    chat: int
    name: str
    messages: int  # bot messages the answer takes (for the ideal limiter)
    posted: float
    answered: float | None = None


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


class SlowDaraja:
    """The emulator behind Daraja's peak-hour slowness: late push answers, late callbacks."""

    def __init__(self, app: Any, args: argparse.Namespace, rng: random.Random) -> None:
        self.app = app
        self.rng = rng
        self.push = tuple(s * args.scale for s in args.push_delay)
        self.callback = tuple(s * args.scale for s in args.callback_delay)
        self.hang = args.hang_seconds * args.scale if args.scenario == "hang" and args.hang else 0
        self.pushes = 0
        emulator = app.state.emulator
        accept = emulator.accept

        def accept_late(push: Any) -> Any:
            request = accept(push)
            request.delay = self.rng.uniform(*self.callback)  # before its task first runs
            return request

        emulator.accept = accept_late

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith(_PUSH_PATH):
            self.pushes += 1
            first_hangs = self.hang and self.pushes == 1
            await asyncio.sleep(self.hang if first_hangs else self.rng.uniform(*self.push))
        await self.app(scope, receive, send)


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


@dataclass
class Customer:
    """One Telegram user going through /pay → amount → phone → Confirm."""

    index: int
    telegram: Any
    watcher: ChatWatcher
    post: Any
    step: str = "waiting"
    steps: list[Step] = field(default_factory=list)

    def __post_init__(self) -> None:
        from offline.fake_telegram import FakeUser

        self.user = FakeUser(FIRST_USER_ID + self.index, first_name=f"Mteja{self.index}")
        self.local_phone = f"07{10_000_000 + self.index:08d}"
        self.msisdn = "254" + self.local_phone[1:]

    def _count(self) -> int:
        return len(self.telegram.messages[self.user.id])

    def _confirm_data(self) -> str | None:
        for message in reversed(self.telegram.chat_messages(self.user.id)):
            for row in (message.reply_markup or {}).get("inline_keyboard", []):
                for button in row:
                    if str(button.get("callback_data", "")).startswith("pay:"):
                        return str(button["callback_data"])
        return None

    def _edited(self) -> bool:
        return any(m.edits for m in self.telegram.chat_messages(self.user.id))

    async def _say(
        self,
        name: str,
        update: dict[str, Any],
        messages: int,
        ready: Callable[[], bool],
        within: float,
    ) -> None:
        self.step = name
        step = Step(self.user.id, name, messages, time.monotonic())
        self.steps.append(step)
        await self.post(update)
        if not await self.watcher.wait(self.user.id, ready, within):
            raise TimeoutError(f"no answer at step {name}")
        step.answered = time.monotonic()

    async def pay(self, amount: int, start_after: float, within: float) -> None:
        await asyncio.sleep(start_after)
        tg = self.telegram
        await self._say("/pay", tg.command(self.user, "pay"), 1, lambda: self._count() >= 1, within)
        await self._say(
            "amount", tg.text(self.user, str(amount)), 1, lambda: self._count() >= 2, within
        )
        await self._say(
            "phone", tg.text(self.user, self.local_phone), 2,
            lambda: self._confirm_data() is not None, within,
        )  # fmt: skip
        data = self._confirm_data()
        assert data is not None
        # The answer to a tap: the confirmation turned into "check your phone" (an edit).
        await self._say("confirm", tg.press(self.user, data), 1, self._edited, within)
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


def imposed_waits(steps: list[Step], receipts_due: list[tuple[float, int]]) -> list[float]:
    """Each step's wait if the bot answered in no time, only held back by its pace.

    The same demand (each step's messages from the moment it was posted, each receipt from the
    moment its callback left) through an ideal limiter: each chat one message a second after a
    burst, the bot `BOT_RATE` a second after a burst, receipts first, then first ready first
    served. An estimate of what Telegram's limits (and receipts going first) cost, to read the
    measured latencies against.
    """
    demand: dict[int, list[tuple[float, int | None, int]]] = defaultdict(list)
    for i, step in enumerate(steps):
        demand[step.chat].append((step.posted, i, step.messages))
    for at, chat in receipts_due:
        demand[chat].append((at, None, 1))
    ready: list[tuple[float, int | None]] = []
    for events in demand.values():
        tokens, last = float(CHAT_BURST), None
        for at, index, count in sorted(events, key=lambda e: e[0]):
            for _ in range(count):
                now = at if last is None else max(at, last)
                if last is not None:
                    tokens = min(CHAT_BURST, tokens + (now - last) * CHAT_RATE)
                if tokens < 1:
                    now += (1 - tokens) / CHAT_RATE
                    tokens = 1.0
                tokens -= 1
                last = now
                ready.append((now, index))
    done = _overall(ready)
    return [done[i] - step.posted for i, step in enumerate(steps) if i in done]


def _overall(ready: list[tuple[float, int | None]]) -> dict[int, float]:
    """The bot's tokens, `BOT_RATE` a second after a burst, to whatever is ready: receipts first
    (as the bot's limiter does), else the earliest. Returns each step's last message's time."""
    import heapq

    pending = sorted(ready, key=lambda r: r[0])
    receipts: list[float] = []
    replies: list[tuple[float, int]] = []
    done: dict[int, float] = {}
    tokens, now, i = float(BOT_BURST), pending[0][0] if pending else 0.0, 0
    while i < len(pending) or receipts or replies:
        if not receipts and not replies:
            gap = max(0.0, pending[i][0] - now)
            tokens, now = min(BOT_BURST, tokens + gap * BOT_RATE), now + gap
        if tokens < 1:
            now += (1 - tokens) / BOT_RATE
            tokens = 1.0
        while i < len(pending) and pending[i][0] <= now:
            at, index = pending[i]
            if index is None:
                heapq.heappush(receipts, at)
            else:
                heapq.heappush(replies, (at, index))
            i += 1
        tokens -= 1
        if receipts:
            heapq.heappop(receipts)
        else:
            _, index = heapq.heappop(replies)
            done[index] = max(done.get(index, now), now)
    return done


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(args: argparse.Namespace, database_url: str, workdir: Path) -> dict[str, Any]:
    from daraja.emulator import create_emulator_app
    from offline.fake_telegram import FakeTelegram

    rng = random.Random(args.seed)
    telegram = FakeTelegram(BENCH_BOT_TOKEN, enforce_limits=not args.no_enforce)
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
    emulator_app = create_emulator_app(callback_delay=2.0, http=emulator_http, scenarios={})
    daraja = SlowDaraja(emulator_app, args, rng)
    port = free_port()
    async with (
        emulator_http,
        telegram.serve(HOST, 0) as telegram_url,
        serve_app(daraja) as emulator_url,
    ):
        env = service_env(
            database_url,
            port,
            telegram_url,
            MPESA_BASE_URL=emulator_url,
            PUSH_LIMIT_PER_HOUR="100",
            TELEGRAM_SEND_RATE=str(BOT_RATE),
        )
        server = start_service(env, workdir / "serve.log")
        try:
            await asyncio.to_thread(
                wait_http_ok, f"http://{HOST}:{port}/healthz", timeout=30, process=server
            )
            cpu_before = _cpu_seconds(server.pid)
            figures = await drive(args, rng, telegram, watcher, sent, f"http://{HOST}:{port}")
            figures["service_cpu_seconds"] = round(_cpu_seconds(server.pid) - cpu_before, 2)
        finally:
            stop(server)
    paid = figures["receipts"]
    figures["cpu_seconds_per_payment"] = (
        round(figures["service_cpu_seconds"] / paid, 4) if paid else None
    )
    return figures


def _plan(args: argparse.Namespace, rng: random.Random) -> list[float]:
    """When each customer starts (seconds from the start)."""
    if args.scenario == "hang":
        # Customer 0 (whose push hangs) first; the others while it hangs.
        others = sorted(rng.uniform(1.0, 1.0 + args.arrival) * args.scale for _ in range(50))
        return [0.0, *others] if args.hang else others
    return sorted(rng.uniform(0.0, args.arrival) * args.scale for _ in range(args.customers))


async def drive(
    args: argparse.Namespace,
    rng: random.Random,
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

        starts = _plan(args, rng)
        customers = [Customer(i, telegram, watcher, post) for i in range(len(starts))]
        started = time.monotonic()
        tasks = [
            asyncio.create_task(c.pay(100 + i, at, args.step_timeout))
            for i, (c, at) in enumerate(zip(customers, starts, strict=True))
        ]
        # Bounded: a customer still in the conversation at the deadline counts as stuck.
        _, late = await asyncio.wait(tasks, timeout=args.deadline)
        for task in late:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        pushed_at = time.monotonic()
        waiting = {c.user.id for c, o in zip(customers, outcomes, strict=True) if o is None}
        scanned = 0

        def all_receipts_in() -> bool:
            # Incremental, so polling does not steal the CPU the fake Telegram needs.
            nonlocal scanned
            calls = telegram.calls
            for call in calls[scanned:]:
                if call.method in ("sendMessage", "editMessageText") and _RECEIPT.search(
                    str(call.params.get("text", ""))
                ):
                    waiting.discard(int(call.params["chat_id"]))
            scanned = len(calls)
            return not waiting

        with contextlib.suppress(TimeoutError):
            await wait_until(all_receipts_in, within=args.receipt_timeout)
        # Late duplicates would show up in this extra second.
        await asyncio.sleep(1.0)
    return summarise(args, customers, outcomes, telegram, sent, started, pushed_at)


def summarise(
    args: argparse.Namespace,
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
    # The hanging customer's own steps are not "the others'" latency.
    observed = customers[1:] if args.scenario == "hang" and args.hang else customers
    steps = [s for c in customers for s in c.steps]
    replies = [s.answered - s.posted for c in observed for s in c.steps if s.answered]
    unanswered = sum(1 for c in observed for s in c.steps if s.answered is None)
    observed_steps = {id(s) for c in observed for s in c.steps}
    imposed_all = imposed_waits(steps, [(s.at, _chat_of(customers, p)) for p, s in sent.items()])
    imposed = [w for s, w in zip(steps, imposed_all, strict=False) if id(s) in observed_steps]
    elapsed = last_receipt - started
    paid = len(customers) - len(lost)
    reply = latency_summary_ms(replies) if replies else {}
    imposed_p99 = round(percentile(imposed, 99) * 1000, 2) if imposed else 0.0
    by_step: dict[str, list[float]] = defaultdict(list)
    for customer in observed:
        for s in customer.steps:
            if s.answered:
                by_step[s.name].append(s.answered - s.posted)
    return {
        "reply_by_step_ms": {name: latency_summary_ms(v) for name, v in by_step.items()},
        "scenario": args.scenario + ("" if args.hang or args.scenario != "hang" else "-no-hang"),
        "scale": args.scale,
        "customers": len(customers),
        "receipts": paid,
        "telegram_429": telegram.too_many_requests,
        "reply_p50_ms": reply.get("p50_ms"),
        "reply_p99_ms": reply.get("p99_ms"),
        "reply_max_ms": reply.get("max_ms"),
        "replies_unanswered": unanswered,
        "rate_limit_wait_p50_ms": round(percentile(imposed, 50) * 1000, 2) if imposed else 0.0,
        "rate_limit_wait_p99_ms": imposed_p99,
        "reply_p99_goal_ms": round(2000 + imposed_p99, 2),
        "receipt_p50_ms": latency_summary_ms(latencies)["p50_ms"] if latencies else None,
        "receipt_p99_ms": latency_summary_ms(latencies)["p99_ms"] if latencies else None,
        "receipt_max_ms": latency_summary_ms(latencies)["max_ms"] if latencies else None,
        "lost": len(lost),
        "duplicated": len(duplicated),
        "wrong_receipt": len(wrong),
        "stuck_in_conversation": len(stuck),
        "stuck_samples": stuck[:5],
        "callbacks_sent": len(sent),
        "seconds_to_all_confirmed": round(pushed_at - started, 2),
        "seconds_first_pay_to_last_receipt": round(elapsed, 2),
        "payments_per_s": round(paid / elapsed, 2) if elapsed > 0 else 0,
        "telegram_calls": len(telegram.calls),
    }


def _chat_of(customers: list[Customer], msisdn: str) -> int:
    for customer in customers:
        if customer.msisdn == msisdn:
            return customer.user.id
    return 0


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
        "telegram_limits_enforced": not args.no_enforce,
        "push_delay_seconds": [s * args.scale for s in args.push_delay],
        "callback_delay_seconds": [s * args.scale for s in args.callback_delay],
        "goal": {"telegram_429": 0, "reply_p99_ms": "< 2000 + rate_limit_wait_p99_ms", "lost": 0},
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


def _pair(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    return float(low), float(high or low)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["rush", "hang"], default="rush")
    parser.add_argument("--customers", type=int, default=500, help="rush: how many")
    parser.add_argument("--arrival", type=float, default=10.0, help="customers start within (s)")
    parser.add_argument("--push-delay", type=_pair, default=(0.5, 20.0), help="min,max (s)")
    parser.add_argument("--callback-delay", type=_pair, default=(2.0, 30.0), help="min,max (s)")
    parser.add_argument("--hang-seconds", type=float, default=25.0)
    parser.add_argument("--no-hang", dest="hang", action="store_false", help="hang: control run")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every timing")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--no-enforce", action="store_true", help="fake Telegram without limits")
    parser.add_argument("--connections", type=int, default=100, help="to the webhook route")
    parser.add_argument("--step-timeout", type=float, default=180.0)
    parser.add_argument("--receipt-timeout", type=float, default=90.0)
    parser.add_argument(
        "--deadline", type=float, default=300.0, help="customers still paying then are stuck"
    )
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--keep-logs", default="", help="copy the server's log to this folder")
    args = parser.parse_args(argv)
    figures = asyncio.run(main_async(args))
    print_table(
        f"{figures['customers']} customers, {figures['scenario']} "
        f"({figures['database']}, whole loop over HTTP, Telegram limits enforced: "
        f"{figures['telegram_limits_enforced']}, scale {args.scale})",
        ["figure", "value"],
        [
            ["receipts / customers", f"{figures['receipts']} / {figures['customers']}"],
            ["lost / duplicated / wrong",
             f"{figures['lost']} / {figures['duplicated']} / {figures['wrong_receipt']}"],
            ["stuck in the conversation", figures["stuck_in_conversation"]],
            ["telegram 429 answers", figures["telegram_429"]],
            ["reply p50 / p99 (ms)", f"{figures['reply_p50_ms']} / {figures['reply_p99_ms']}"],
            ["  rate-limit wait p50 / p99 (ms)",
             f"{figures['rate_limit_wait_p50_ms']} / {figures['rate_limit_wait_p99_ms']}"],
            ["  goal: reply p99 under (ms)", figures["reply_p99_goal_ms"]],
            ["replies never answered", figures["replies_unanswered"]],
            ["callback -> receipt p50 / p99 / max (ms)",
             f"{figures['receipt_p50_ms']} / {figures['receipt_p99_ms']} / "
             f"{figures['receipt_max_ms']}"],
            ["first /pay to last receipt (s)", figures["seconds_first_pay_to_last_receipt"]],
            ["payments per second", figures["payments_per_s"]],
            ["service CPU s per payment", figures["cpu_seconds_per_payment"]],
        ],
    )  # fmt: skip
    name = "e2e" if figures["scenario"] == "rush" else f"e2e-{figures['scenario']}"
    write_results(name, figures)


if __name__ == "__main__":
    main()
