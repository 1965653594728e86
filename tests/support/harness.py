"""The reliability harness: whole lipabot instances wired to fakes at every transport seam.

An `Instance` is one running lipabot: the real Starlette app from `webhooks.app.create_app`
(callback and Telegram routes, proxy and access-log middleware), the real Daraja client, payments
service, outbox, PTB Application (database persistence, real handlers), notifier and reconciler.
Only the transports are fakes:

* Daraja: the project's emulator, reached through `DarajaSeam` (which also notices two instances
  querying one payment at the same moment, and can make Daraja unreachable);
* Telegram: the project's `FakeTelegram`, reached through `TelegramSeam`, which records every
  outcome message Telegram *accepted* (so "delivered once" means once, whatever was retried) and
  can make Telegram unreachable (connection refused);
* callbacks: the emulator POSTs into `CallbackFanOut`, which hands every callback to every
  instance's callback route, from a Safaricom address.

Several instances may share one database (the test's tortoise context); each has its own owner
id for leases. Time is a `Clock` (tests/support/clock.py) the service, outbox and reconciler
read; nothing sleeps for real.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from telegram import Update
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.context import BotApplication, BotServices, notifier_of
from bot.notifier import Notifier
from bot.texts import en
from config import Settings
from daraja.client import DarajaClient
from daraja.config import DarajaConfig
from daraja.emulator import Emulator
from offline.fake_telegram import FakeTelegram, FakeUser
from payments.daraja_gateway import DarajaGateway
from payments.models import Payment
from payments.outbox import Outbox
from payments.reconciler import Reconciler
from payments.rules import PaymentRules
from payments.service import PaymentService
from tests.support.clock import Clock
from tests.support.daraja import EMULATOR_BASE_URL, TimeoutASGITransport
from tests.support.settings import TEST_CALLBACK_TOKEN, make_settings
from webhooks.app import create_app
from webhooks.wiring import Runtime

#: Safaricom's callback senders (community lists, docs/DARAJA.md §7); the fan-out posts from one.
SAFARICOM_RANGES = ["196.201.214.0/24", "196.201.213.0/24"]
SAFARICOM_PEER = "196.201.214.200"
PUBLIC_URL = "https://lipabot.test"
CALLBACK_PATH = f"/payments/callback/{TEST_CALLBACK_TOKEN}"

#: The fixed opening of each outcome message the notifier sends (English catalogue).
OUTCOME_OPENINGS = tuple(
    en.TEXTS[key].split("{", 1)[0]
    for key in ("paid", "late_paid", "failed", "push_failed", "expired")
)


def reliability_settings(**overrides: Any) -> Settings:
    """Settings for a harness instance: emulator credentials, allowlist on, short timeouts."""
    values: dict[str, Any] = {
        "mpesa_base_url": EMULATOR_BASE_URL,
        "mpesa_timeout_seconds": 0.5,
        "mpesa_allowed_ips": SAFARICOM_RANGES,
        "public_url": PUBLIC_URL,
        "reconcile_after_seconds": 30.0,
        "payment_timeout_seconds": 180.0,
        "push_limit_per_hour": 5,
        "bot_conversation_timeout_seconds": 600.0,
    }
    values.update(overrides)
    return make_settings(**values)


# ---------------------------------------------------------------------------- Telegram seam


def _params(request: httpx.Request) -> dict[str, Any]:
    body = request.content
    content_type = request.headers.get("content-type", "")
    if "json" in content_type and body:
        return dict(json.loads(body))
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


@dataclass
class Delivered:
    method: str
    chat_id: int
    text: str
    by: str = ""  # the instance whose bot sent it


class TelegramSeam(httpx.AsyncBaseTransport):
    """The transport under PTB: forwards to the fake Telegram, or refuses to connect.

    `delivered` holds every sendMessage/editMessageText Telegram answered with 200, so a test
    can count what the customer really got, apart from attempts that failed.
    """

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self._inner = httpx.ASGITransport(app=fake.app)
        self.down = False
        self.refused = 0
        #: How many of the next answers to lose after Telegram acted on the request.
        self.lose_answers = 0
        self.delivered: list[Delivered] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.handle(request, by="")

    async def handle(self, request: httpx.Request, *, by: str) -> httpx.Response:
        if self.down:
            self.refused += 1
            raise httpx.ConnectError("telegram unreachable (test)", request=request)
        await request.aread()
        response = await self._inner.handle_async_request(request)
        method = request.url.path.rsplit("/", 1)[-1]
        if response.status_code == 200 and method in ("sendMessage", "editMessageText"):
            params = _params(request)
            self.delivered.append(
                Delivered(method, int(params.get("chat_id", 0)), str(params.get("text", "")), by)
            )
        if self.lose_answers and method in ("sendMessage", "editMessageText"):
            # Telegram did it, but the answer never reaches us: the ambiguous timeout.
            self.lose_answers -= 1
            raise httpx.ReadTimeout("answer lost (test)", request=request)
        return response

    def request(self, by: str = "") -> HTTPXRequest:
        """A PTB request for one instance (`by` labels what it delivers)."""
        return HTTPXRequest(read_timeout=5.0, httpx_kwargs={"transport": _Sender(self, by)})

    def outcomes(self, chat_id: int) -> list[str]:
        """Outcome messages (paid, failed, expired, …) Telegram accepted for `chat_id`."""
        return [
            d.text
            for d in self.delivered
            if d.chat_id == chat_id and d.text.startswith(OUTCOME_OPENINGS)
        ]

    def outcome_counts(self) -> Counter[int]:
        counts: Counter[int] = Counter()
        for d in self.delivered:
            if d.text.startswith(OUTCOME_OPENINGS):
                counts[d.chat_id] += 1
        return counts

    def texts_to(self, chat_id: int) -> list[str]:
        return [d.text for d in self.delivered if d.chat_id == chat_id]


class _Sender(httpx.AsyncBaseTransport):
    """One instance's way into the shared Telegram seam."""

    def __init__(self, seam: TelegramSeam, by: str) -> None:
        self.seam = seam
        self.by = by

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.seam.handle(request, by=self.by)


# ---------------------------------------------------------------------------- Daraja seam


@dataclass
class DarajaSeam(httpx.AsyncBaseTransport):
    """The transport under one instance's Daraja client, shared bookkeeping across instances."""

    inner: httpx.AsyncBaseTransport
    owner: str
    watch: QueryWatch

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.watch.down:
            self.watch.refused += 1
            raise httpx.ConnectError("daraja unreachable (test)", request=request)
        path = request.url.path
        if not path.endswith("/stkpushquery/v1/query"):
            if path.endswith("/processrequest"):
                self.watch.pushes[self.owner] += 1
            return await self.inner.handle_async_request(request)
        checkout = json.loads(await request.aread()).get("CheckoutRequestID", "")
        self.watch.queries[(self.owner, checkout)] += 1
        if checkout in self.watch.in_flight:
            self.watch.overlaps.append(checkout)
        self.watch.in_flight.add(checkout)
        try:
            # Give the other instance every chance to ask about the same payment meanwhile.
            await asyncio.sleep(0)
            return await self.inner.handle_async_request(request)
        finally:
            self.watch.in_flight.discard(checkout)


@dataclass
class QueryWatch:
    """What every instance asked Daraja: pushes per owner, queries per (owner, checkout)."""

    pushes: Counter[str] = field(default_factory=Counter)
    queries: Counter[tuple[str, str]] = field(default_factory=Counter)
    in_flight: set[str] = field(default_factory=set)
    overlaps: list[str] = field(default_factory=list)
    down: bool = False
    refused: int = 0

    def queried_by(self, checkout: str) -> set[str]:
        return {owner for (owner, c), n in self.queries.items() if c == checkout and n}


# ---------------------------------------------------------------------------- callbacks


class CallbackFanOut(httpx.AsyncBaseTransport):
    """Where the emulator POSTs callbacks: every instance's app gets every callback."""

    def __init__(self, peer: str = SAFARICOM_PEER) -> None:
        self.peer = peer
        self.targets: list[httpx.ASGITransport] = []
        self.statuses: Counter[int] = Counter()

    def add(self, app: Starlette) -> None:
        self.targets.append(httpx.ASGITransport(app=app, client=(self.peer, 443)))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        copies = [
            httpx.Request(request.method, request.url, headers=request.headers, content=body)
            for _ in self.targets
        ]
        responses = await asyncio.gather(
            *(t.handle_async_request(r) for t, r in zip(self.targets, copies, strict=True))
        )
        for response in responses:
            await response.aread()
            self.statuses[response.status_code] += 1
        if not responses:
            raise httpx.ConnectError("no instance listening (test)", request=request)
        return responses[0]


# ---------------------------------------------------------------------------- one instance


@dataclass
class Instance:
    """One lipabot process: app, service, bot, notifier, reconciler, on the shared database."""

    name: str
    settings: Settings
    app: Starlette
    service: PaymentService
    outbox: Outbox
    application: BotApplication
    reconciler: Reconciler
    daraja_http: httpx.AsyncClient
    fake: FakeTelegram
    _client: httpx.AsyncClient | None = None
    # Updates fed here are handled one at a time per instance (stricter than the app's
    # per-chat-and-user processor, and deterministic).
    _updates: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def runtime(self) -> Runtime:
        return self.app.state.runtime  # type: ignore[no-any-return]

    @property
    def notifier(self) -> Notifier:
        return notifier_of(self.application)

    @property
    def owner(self) -> str:
        return self.reconciler.owner

    def client(self, peer: str = SAFARICOM_PEER) -> httpx.AsyncClient:
        """An HTTP client into this instance's app from `peer` (a Safaricom address by default)."""
        transport = httpx.ASGITransport(app=self.app, client=(peer, 40000))
        return httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL)

    # -- Telegram side ---------------------------------------------------------------

    async def feed(self, update: dict[str, Any]) -> None:
        """Handle one update as the running app would: in order with this instance's others.

        Then wait for the STK pushes running in the background (`bot.push_sender`), so the
        test sees the payment as Daraja's answer left it.
        """
        async with self._updates:
            await self.application.process_update(Update.de_json(update, self.application.bot))
        await self.application.bot_data.pushes.idle()

    async def say(self, user: FakeUser, text: str) -> None:
        await self.feed(self.fake.text(user, text))

    async def start_payment(self, user: FakeUser, amount: str, phone: str) -> Payment:
        """/pay, amount, phone: up to the confirmation; returns the draft payment."""
        await self.say(user, "/pay")
        await self.say(user, amount)
        await self.say(user, phone)
        drafts = await self.service.recent_for_user(user.id, limit=1)
        assert drafts, f"no draft for user {user.id}: {self.fake.texts(user.id)[-2:]}"
        return drafts[0]

    def confirm_update(self, user: FakeUser, payment_id: int) -> dict[str, Any]:
        return self.fake.press(user, f"pay:{payment_id}")

    async def confirm(self, user: FakeUser, payment_id: int) -> Payment:
        await self.feed(self.confirm_update(user, payment_id))
        return await self.service.get(payment_id)

    # -- workers ---------------------------------------------------------------------

    async def deliver(self) -> int:
        return await self.notifier.deliver_due()

    async def reconcile(self) -> int:
        return await self.reconciler.run_once()

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        await self.application.stop()
        await self.application.shutdown()
        await self.daraja_http.aclose()


async def start_instance(
    name: str,
    *,
    settings: Settings,
    emulator_app: Starlette,
    telegram: TelegramSeam,
    watch: QueryWatch,
    clock: Clock,
    fanout: CallbackFanOut | None = None,
) -> Instance:
    """Build and start one instance on the database current in this task."""
    app = create_app(settings, run_workers=False)
    runtime: Runtime = app.state.runtime
    assert runtime.emulator_app is None, "harness instances use the shared emulator"
    seam = DarajaSeam(TimeoutASGITransport(app=emulator_app), owner=name, watch=watch)
    http = httpx.AsyncClient(transport=seam, timeout=settings.mpesa_timeout_seconds)
    config = DarajaConfig.from_settings(settings)
    daraja = DarajaClient(config, http)
    service = PaymentService(
        DarajaGateway(daraja),
        rules=PaymentRules.from_settings(settings),
        callback_url=f"{PUBLIC_URL}{CALLBACK_PATH}",
        account_reference=settings.mpesa_account_reference,
        description=settings.mpesa_transaction_desc,
        admin_chat_ids=settings.admin_ids,
        clock=clock,
    )
    outbox = Outbox(clock=clock)
    application = build_application(
        settings,
        BotServices(payments=service, outbox=outbox, owner=name),
        request=telegram.request(by=name),
    )
    await application.initialize()
    await application.start()
    runtime.http, runtime.daraja, runtime.service = http, daraja, service
    runtime.outbox, runtime.application = outbox, application
    reconciler = Reconciler(service, owner=name, interval=0.01)
    runtime.reconciler = reconciler
    if fanout is not None:
        fanout.add(app)
    return Instance(
        name=name,
        settings=settings,
        app=app,
        service=service,
        outbox=outbox,
        application=application,
        reconciler=reconciler,
        daraja_http=http,
        fake=telegram.fake,
    )


#: The `launch` fixture (tests/reliability/conftest.py): start one more instance.
Launch = Callable[..., Awaitable[Instance]]


def emulator_of(app: Starlette) -> Emulator:
    return app.state.emulator  # type: ignore[no-any-return]


def phone_for(index: int) -> str:
    """Distinct Safaricom numbers ending 5000-5999: no emulator magic-number scenario."""
    return f"25471{index + 105000:07d}"


def local_phone(msisdn: str) -> str:
    """How a customer types it: 07…"""
    return "0" + msisdn.removeprefix("254")


def per_chat(values: dict[int, int] | Counter[int]) -> dict[int, int]:
    out: dict[int, int] = defaultdict(int)
    for chat, n in values.items():
        out[chat] += n
    return dict(out)


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    """Poll `check` until it holds (the workers under test run in their own tasks)."""
    for _ in range(int(within / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"condition not reached within {within}s")
