"""Fixtures and helpers for running the Daraja emulator in tests.

Plain functions (import them anywhere):

- `make_emulator_app(*, callback_app=None, callback_http=None, **kwargs)`: the emulator app with
  `callback_delay=0`; callbacks go to `callback_app` (any ASGI app, e.g. the webhooks app or a
  `CallbackReceiver().app`) through an ASGITransport, whatever host the CallBackURL names.
- `emulator_http_client(app, *, base_url=EMULATOR_BASE_URL)`: an `httpx.AsyncClient` routed to
  the emulator in-process. Its transport honours the client's read timeout (plain ASGITransport
  ignores timeouts), so `hang_next_push` makes a client raise `httpx.ReadTimeout`.
- `CallbackReceiver`: a tiny Starlette app that records POSTed callback bodies.
- `serve_in_background(app)`: run any ASGI app under uvicorn on a free 127.0.0.1 port (real socket).

Builders: `push_body(phone, amount, **overrides)`, `query_body(checkout_request_id)` (valid
bodies for the sandbox shortcode/passkey, timestamp now) and `await bearer(client)` (the
Authorization header with a fresh emulator token), `emulator_daraja_config(**overrides)`
(a `DarajaConfig` pointing at http://daraja.test with the sandbox credentials).

Fixtures (stable names): `callback_receiver`, `emulator_app` (callbacks go to
`callback_receiver`), `emulator` (its `Emulator`, delay 0), `daraja_http` (AsyncClient to the
emulator at `http://daraja.test`). Push with `CallBackURL=RECEIVER_URL` to have callbacks recorded.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from daraja.config import EMULATOR_CREDENTIALS, SANDBOX_PASSKEY, SANDBOX_SHORTCODE, DarajaConfig
from daraja.emulator import Emulator, create_emulator_app
from daraja.timestamps import daraja_timestamp, stk_password
from webhooks.serving import serve_in_loop

EMULATOR_BASE_URL = "http://daraja.test"
RECEIVER_URL = "http://receiver.test/callback"


class TimeoutASGITransport(httpx.ASGITransport):
    """ASGITransport that raises `httpx.ReadTimeout` when the app answers after the read timeout."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {}).get("read")
        try:
            async with asyncio.timeout(timeout):
                return await super().handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout("emulated read timeout", request=request) from None


def asgi_client(app: ASGIApp, *, base_url: str = "http://asgi.test") -> httpx.AsyncClient:
    """An AsyncClient whose every request goes to `app` in-process, whatever the URL's host."""
    return httpx.AsyncClient(transport=TimeoutASGITransport(app=app), base_url=base_url)


def emulator_http_client(
    app: ASGIApp, *, base_url: str = EMULATOR_BASE_URL, timeout: float = 5.0
) -> httpx.AsyncClient:
    """An AsyncClient routed to the emulator app via ASGITransport (base_url http://daraja.test)."""
    return httpx.AsyncClient(
        transport=TimeoutASGITransport(app=app), base_url=base_url, timeout=timeout
    )


class CallbackReceiver:
    """Records the JSON bodies POSTed to it; answers `status_code` (200 by default)."""

    def __init__(self, status_code: int = 200) -> None:
        self.status_code = status_code
        self.bodies: list[Any] = []
        self.paths: list[str] = []
        self._arrived = asyncio.Condition()
        self.app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])

    async def _receive(self, request: Request) -> Response:
        body = await request.json()
        async with self._arrived:
            self.bodies.append(body)
            self.paths.append(request.url.path)
            self._arrived.notify_all()
        return JSONResponse({"ResultCode": 0, "ResultDesc": "Accepted"}, self.status_code)

    @property
    def callbacks(self) -> list[dict[str, Any]]:
        """The `stkCallback` objects received, in order."""
        return [body["Body"]["stkCallback"] for body in self.bodies]

    async def wait_for(self, count: int = 1, within: float = 5.0) -> list[Any]:
        """Wait until at least `count` bodies arrived (raises TimeoutError otherwise)."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.bodies) >= count)
        return self.bodies

    def client(self) -> httpx.AsyncClient:
        """An AsyncClient that delivers to this receiver in-process (pass it as `http=`)."""
        return asgi_client(self.app, base_url="http://receiver.test")


def make_emulator_app(
    *,
    callback_app: ASGIApp | None = None,
    callback_http: httpx.AsyncClient | None = None,
    **kwargs: Any,
) -> Starlette:
    """The emulator with callback_delay 0; callbacks go to `callback_app` or `callback_http`."""
    if callback_http is None and callback_app is not None:
        callback_http = asgi_client(callback_app, base_url="http://receiver.test")
    kwargs.setdefault("callback_delay", 0.0)
    return create_emulator_app(http=callback_http, **kwargs)


def push_body(
    phone: str = "254708374149",
    amount: int | str = 10,
    *,
    callback_url: str = RECEIVER_URL,
    at: datetime | None = None,
    shortcode: str = SANDBOX_SHORTCODE,
    passkey: str = SANDBOX_PASSKEY,
    **overrides: Any,
) -> dict[str, Any]:
    """A valid `processrequest` body for the sandbox shortcode; `overrides` replace fields."""
    timestamp = daraja_timestamp(at)
    body: dict[str, Any] = {
        "BusinessShortCode": shortcode,
        "Password": stk_password(shortcode, passkey, timestamp),
        "Timestamp": timestamp,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": amount,
        "PartyA": phone,
        "PartyB": shortcode,
        "PhoneNumber": phone,
        "CallBackURL": callback_url,
        "AccountReference": "lipabot",
        "TransactionDesc": "Payment",
    }
    body.update(overrides)
    return body


def query_body(checkout_request_id: str, *, at: datetime | None = None) -> dict[str, Any]:
    """A valid `stkpushquery` body for the sandbox shortcode."""
    timestamp = daraja_timestamp(at)
    return {
        "BusinessShortCode": SANDBOX_SHORTCODE,
        "Password": stk_password(SANDBOX_SHORTCODE, SANDBOX_PASSKEY, timestamp),
        "Timestamp": timestamp,
        "CheckoutRequestID": checkout_request_id,
    }


async def bearer(
    client: httpx.AsyncClient,
    key: str = "key",
    secret: str = "not-a-secret",  # noqa: S107
) -> dict[str, str]:
    """Fetch a token from the emulator; returns the Authorization header to send."""
    response = await client.get(
        "/oauth/v1/generate", params={"grant_type": "client_credentials"}, auth=(key, secret)
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def emulator_daraja_config(base_url: str = EMULATOR_BASE_URL, **overrides: Any) -> DarajaConfig:
    """A `DarajaConfig` for the emulator (sandbox shortcode and passkey, short timeout)."""
    values: dict[str, Any] = {
        "base_url": base_url,
        "consumer_key": EMULATOR_CREDENTIALS[0],
        "consumer_secret": EMULATOR_CREDENTIALS[1],
        "shortcode": SANDBOX_SHORTCODE,
        "passkey": SANDBOX_PASSKEY,
        "timeout": 5.0,
    }
    values.update(overrides)
    return DarajaConfig(**values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def serve_in_background(app: ASGIApp, *, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 (a real socket); yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on"
    )
    async with serve_in_loop(config):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def callback_receiver() -> CallbackReceiver:
    return CallbackReceiver()


@pytest.fixture
async def emulator_app(callback_receiver: CallbackReceiver) -> AsyncIterator[Starlette]:
    callback_http = callback_receiver.client()
    app = make_emulator_app(callback_http=callback_http)
    yield app
    await app.state.emulator.aclose()
    await callback_http.aclose()


@pytest.fixture
def emulator(emulator_app: Starlette) -> Emulator:
    return emulator_app.state.emulator


@pytest.fixture
async def daraja_http(emulator_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with emulator_http_client(emulator_app) as client:
        yield client
