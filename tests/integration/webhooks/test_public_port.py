"""The public port: what a stranger can reach and how much of the process one connection can take.

The server limits (`webhooks.limits`) are tested through real sockets against uvicorn with the
guarded protocol, with short timeouts; the emulator's absence through the app `serve` builds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from tests.support.settings import make_settings
from tests.support.webhooks import ServiceFactory
from webhooks.app import create_app
from webhooks.limits import MAX_HEADER_BYTES, max_connections, server_options
from webhooks.serving import serve_in_loop

pytestmark = pytest.mark.slow

# ---------------------------------------------------------------------------- the emulator


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/daraja/emulator/requests"),
        ("POST", "/daraja/emulator/outcome"),
        ("GET", "/daraja/oauth/v1/generate?grant_type=client_credentials"),
        ("POST", "/daraja/mpesa/stkpush/v1/processrequest"),
    ],
)
async def test_nothing_of_the_emulator_answers_under_serve(
    make_service: ServiceFactory, method: str, path: str
) -> None:
    # The app `serve` builds (webhook mode) in emulator mode: the emulator is in-process only.
    async with make_service(allow_emulator=True) as service:
        assert service.runtime.emulator_app is not None  # emulator mode indeed
        response = await service.client.request(method, path, json={})
        assert response.status_code == 404
        assert "2547" not in response.text


def test_only_run_mounts_the_emulator() -> None:
    # `run` (polling, 127.0.0.1 by default) keeps /daraja to look at the emulator in a browser.
    def mounted(app: Starlette) -> bool:
        return any(isinstance(r, Mount) and r.path == "/daraja" for r in app.routes)

    assert mounted(create_app(make_settings(), telegram_mode="polling"))
    assert not mounted(create_app(make_settings(), telegram_mode="webhook"))


# ---------------------------------------------------------------------------- server limits


async def echo(request: Request) -> PlainTextResponse:
    try:
        body = await request.body()
    except ClientDisconnect:
        request.app.state.disconnects += 1
        raise
    return PlainTextResponse(f"{len(body)} bytes, {len(request.headers)} headers")


def _app() -> Starlette:
    app = Starlette(routes=[Route("/", echo, methods=["GET", "POST"])])
    app.state.disconnects = 0
    return app


@asynccontextmanager
async def guarded(
    app: Starlette, *, header_timeout: float = 5.0, body_timeout: float = 5.0, connections: int = 50
) -> AsyncIterator[int]:
    options = server_options(
        header_timeout=header_timeout, body_timeout=body_timeout, connections=connections
    )
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", **options
    )
    async with serve_in_loop(config) as port:
        yield port


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sends until it closes; fails if it has not closed by then."""
    async with asyncio.timeout(seconds):
        return await reader.read()


def _request(headers_size: int = 0, body: bytes = b"", path: str = "/") -> bytes:
    filler = b"".join(b"x-fill-%d: %s\r\n" % (i, b"a" * 990) for i in range(headers_size // 1000))
    return (
        b"POST "
        + path.encode()
        + b" HTTP/1.1\r\nhost: lipabot.test\r\n"
        + filler
        + b"content-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


async def test_a_header_over_16_kib_gets_431_and_the_connection_closes() -> None:
    app = _app()
    async with guarded(app) as port:
        reader, writer = await _open(port)
        writer.write(_request(headers_size=20_000))
        await writer.drain()
        assert (await _closed_within(reader, 5)).startswith(b"HTTP/1.1 431 ")
        writer.close()


async def test_a_huge_header_is_not_read_into_memory() -> None:
    app = _app()
    async with guarded(app) as port:
        reader, writer = await _open(port)
        writer.write(b"GET / HTTP/1.1\r\nhost: x\r\nx-big: ")
        sent = 0
        with contextlib.suppress(ConnectionError):
            async with asyncio.timeout(10):
                while sent < 256 * 1024 * 1024:  # up to 256 MiB, in 64 KiB pieces
                    writer.write(b"a" * 65536)
                    await writer.drain()
                    sent += 65536
        with contextlib.suppress(ConnectionError):
            answer = await _closed_within(reader, 5)
            assert answer.startswith(b"HTTP/1.1 431 ") or answer == b""
        writer.close()
    # The server stopped reading: what got through is what socket buffers hold, not 256 MiB.
    assert sent < 64 * 1024 * 1024


async def test_headers_under_the_limit_pass_and_count_per_request() -> None:
    app = _app()
    async with guarded(app) as port:
        reader, writer = await _open(port)
        # Two requests of 12 KiB of headers each on one connection: 24 KiB in all is fine.
        for _ in range(2):
            writer.write(_request(headers_size=12_000, body=b"hello"))
            await writer.drain()
            status = await reader.readuntil(b"\r\n\r\n")
            assert status.startswith(b"HTTP/1.1 200 "), status
            assert (await reader.readexactly(len(b"5 bytes, 15 headers"))).startswith(b"5 bytes")
        writer.close()
    assert MAX_HEADER_BYTES == 16 * 1024


async def test_a_connection_that_stops_half_way_through_its_headers_is_closed() -> None:
    app = _app()
    async with guarded(app, header_timeout=0.5) as port:
        reader, writer = await _open(port)
        writer.write(b"GET / HTTP/1.1\r\nhost: x\r\nx-slow: ")
        started = time.monotonic()
        assert await _closed_within(reader, 3) == b""
        assert time.monotonic() - started < 2
        writer.close()
        # A connection that never says anything is closed too.
        reader, writer = await _open(port)
        assert await _closed_within(reader, 3) == b""
        writer.close()


async def test_a_body_that_stops_half_way_is_given_up() -> None:
    app = _app()
    async with guarded(app, body_timeout=0.5) as port:
        reader, writer = await _open(port)
        request = _request(body=b"x" * 100)
        writer.write(request[:-90])  # headers and 10 of the 100 bytes
        await writer.drain()
        assert await _closed_within(reader, 3) == b""
        writer.close()
        await asyncio.sleep(0.1)
    assert app.state.disconnects == 1  # the app saw the client go, it did not wait for ever


async def test_connections_beyond_the_limit_are_refused_and_the_rest_still_served() -> None:
    app = _app()
    async with guarded(app, connections=5, header_timeout=30) as port:
        idle = [await _open(port) for _ in range(5)]
        await asyncio.sleep(0.1)
        reader, writer = await _open(port)
        refused = await _closed_within(reader, 3)
        assert refused.startswith(b"HTTP/1.1 503 ")
        writer.close()
        for _, idle_writer in idle:
            idle_writer.close()
        await asyncio.sleep(0.2)
        reader, writer = await _open(port)
        writer.write(_request(body=b"ok"))
        await writer.drain()
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200 ")
        writer.close()


def test_the_connection_limit_leaves_descriptors_for_the_rest() -> None:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = max_connections()
    assert limit <= soft - 100 or soft == resource.RLIM_INFINITY
    assert limit >= 16
