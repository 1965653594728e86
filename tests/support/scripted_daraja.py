"""A scripted Daraja behind `httpx.MockTransport`, and loading of the captured Daraja fixtures.

The fake records every request so tests can count what reached "Daraja" and read what was
sent. Each API path takes a queue of scripted answers (a response, an exception to raise, or a
callable); when the queue is empty it answers like Daraja's sandbox does on success.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from daraja.client import STK_PUSH_PATH, STK_QUERY_PATH
from daraja.config import DarajaConfig
from daraja.token import OAUTH_PATH

DATA = Path(__file__).resolve().parents[1] / "data" / "daraja"

KEY = "test-consumer-key-9f3a"
SECRET = "test-consumer-secret-c81d"
PASSKEY = "test-passkey-5b7e2d"
BASE_URL = "https://daraja.test"

Script = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def fixture_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def fixture_response(name: str, status: int) -> httpx.Response:
    """A response whose body is the fixture's exact bytes."""
    return httpx.Response(status, content=fixture_bytes(name))


def make_config(**overrides: Any) -> DarajaConfig:
    values: dict[str, Any] = {
        "base_url": BASE_URL,
        "consumer_key": KEY,
        "consumer_secret": SECRET,
        "shortcode": "174379",
        "passkey": PASSKEY,
        "timeout": 5.0,
    }
    values.update(overrides)
    return DarajaConfig(**values)


@dataclass
class Seen:
    method: str
    path: str
    headers: httpx.Headers
    body: Any
    params: dict[str, str]


@dataclass
class FakeDaraja:
    """Scripted Daraja; `transport` goes into an `httpx.AsyncClient`."""

    expires_in: Any = "3599"
    oauth_delay: float = 0.0
    seen: list[Seen] = field(default_factory=list)
    scripts: dict[str, deque[Script]] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport)

    def script(self, path: str, *answers: Script) -> None:
        self.scripts.setdefault(path, deque()).extend(answers)

    def count(self, path: str) -> int:
        return sum(1 for s in self.seen if s.path == path)

    def sent(self, path: str) -> list[Any]:
        return [s.body for s in self.seen if s.path == path]

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.seen.append(
            Seen(request.method, request.url.path, request.headers, body, dict(request.url.params))
        )
        queue = self.scripts.get(request.url.path)
        if queue:
            answer = queue.popleft()
            if isinstance(answer, Exception):
                raise answer
            if isinstance(answer, httpx.Response):
                return answer
            return answer(request)
        if request.url.path == OAUTH_PATH:
            return await self._oauth(request)
        if not self._token_ok(request):
            return fixture_response("stkpush_error_08.json", 404)
        if request.url.path == STK_PUSH_PATH:
            return fixture_response("stkpush_success_02.json", 200)
        if request.url.path == STK_QUERY_PATH:
            return fixture_response("stkquery_1032_01.json", 200)
        return httpx.Response(404, json={"errorCode": "404.001.01", "errorMessage": "Not found"})

    async def _oauth(self, request: httpx.Request) -> httpx.Response:
        expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(400, json={"errorCode": "400.008.01"})
        if self.oauth_delay:
            await asyncio.sleep(self.oauth_delay)
        token = f"token-{len(self.issued) + 1}"
        self.issued.append(token)
        return httpx.Response(200, json={"access_token": token, "expires_in": self.expires_in})

    def _token_ok(self, request: httpx.Request) -> bool:
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        return auth.startswith("Bearer ") and token in self.issued and token not in self.revoked


def timeout_error(kind: type[httpx.TimeoutException] = httpx.ReadTimeout) -> Callable[..., Any]:
    def raise_it(request: httpx.Request) -> httpx.Response:
        raise kind("timed out", request=request)

    return raise_it


def connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)
