"""What one process accepts from the internet: header size, read time, open connections.

uvicorn's httptools protocol (the fast one, and the one `serve` uses) has none of these bounds:
httptools gathers a header of any length in memory (one connection sending a 600 MB header took
the process from 75 MB to 1.1 GB), a connection that stops half-way through its headers or body
is kept for ever, and every accepted connection holds a file descriptor until the process runs
out of them, after which neither `/healthz` nor Daraja's callbacks can be answered (nor the
database reached). `guarded_protocol(...)` is the same protocol with those bounds:

- the request line and headers of one request may take `max_header_bytes` (16 KiB, as nginx's
  default `large_client_header_buffers` of 4 x 8k would roughly allow); more gets 431 and the
  connection is closed, counted on the raw bytes before httptools buffers them;
- a connection has `header_timeout` seconds from its first byte (or from being opened) to finish
  its headers, and `body_timeout` seconds from there to finish its body; then it is closed (the
  app sees the client disconnect);
- at most `max_connections` connections are open at once; one more is answered 503 and closed
  at once, so the process keeps descriptors for its database and its own outgoing requests.

Between requests, uvicorn's keep-alive timeout (`timeout_keep_alive`) closes idle connections.
"""

from __future__ import annotations

import asyncio
import resource
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 16 * 1024
HEADER_TIMEOUT_SECONDS = 10.0
BODY_TIMEOUT_SECONDS = 30.0
KEEP_ALIVE_SECONDS = 5
#: How long a refused connection stays open for its client to read the 431.
REFUSAL_LINGER_SECONDS = 1.0
#: Open connections at most; fewer when the descriptor limit is low (see `max_connections`).
MAX_CONNECTIONS = 2000
#: Descriptors kept for everything but inbound connections: database pool, Daraja, Telegram.
RESERVED_DESCRIPTORS = 100

_END_OF_HEADERS = b"\r\n\r\n"


def _response(status: bytes, text: bytes) -> bytes:
    head = b"content-type: text/plain\r\nconnection: close\r\ncontent-length: %d\r\n\r\n"
    return b"HTTP/1.1 " + status + b"\r\n" + head % len(text) + text


_TOO_LARGE = _response(b"431 Request Header Fields Too Large", b"request headers too large")
_BUSY = _response(b"503 Service Unavailable", b"busy")


def max_connections(limit: int = MAX_CONNECTIONS) -> int:
    """`limit`, lowered to what the process's descriptor limit leaves for inbound connections."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limit
    return max(16, min(limit, soft - RESERVED_DESCRIPTORS))


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the bounds above (class attributes, see
    `guarded_protocol`)."""

    max_header_bytes = MAX_HEADER_BYTES
    header_timeout = HEADER_TIMEOUT_SECONDS
    body_timeout = BODY_TIMEOUT_SECONDS
    max_connections = MAX_CONNECTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_headers = True
        self._header_bytes = 0
        self._tail = b""
        self._deadline: asyncio.TimerHandle | None = None
        self._refused = False

    # ---------------------------------------------------------------- connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.server_state.connections) >= self.max_connections:
            # Not added to the connections: refused before it costs anything but this write.
            transport.write(_BUSY)
            transport.close()
            self.transport = transport
            self._refused = True
            return
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._refused:
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._header_bytes < 0:
            return  # refused already: the rest is dropped unread
        if self._reading_headers and self._over_header_limit(data):
            self._refuse_headers()
            return
        super().data_received(data)

    def _over_header_limit(self, data: bytes) -> bool:
        """Count the bytes of this chunk that belong to the headers; True past the limit."""
        seen = self._tail + data
        end = seen.find(_END_OF_HEADERS)
        if end >= 0:
            self._header_bytes += max(0, end + len(_END_OF_HEADERS) - len(self._tail))
        else:
            self._header_bytes += len(data)
        self._tail = seen[-3:]
        return self._header_bytes > self.max_header_bytes

    def _refuse_headers(self) -> None:
        """431, read no more, and close a moment later (closing at once with unread input
        would reset the connection and the client could lose the answer)."""
        self._header_bytes = -1
        self.transport.write(_TOO_LARGE)
        self.transport.pause_reading()
        self._arm(REFUSAL_LINGER_SECONDS)

    # ---------------------------------------------------------------- parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm(self.header_timeout)

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._arm(self.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()
        # The next bytes on this connection are the next request's headers.
        self._reading_headers = True
        self._header_bytes = 0
        self._tail = b""

    # ---------------------------------------------------------------- deadlines

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(
    *,
    max_header_bytes: int = MAX_HEADER_BYTES,
    header_timeout: float = HEADER_TIMEOUT_SECONDS,
    body_timeout: float = BODY_TIMEOUT_SECONDS,
    connections: int | None = None,
) -> type[GuardedHttpToolsProtocol]:
    """The protocol class with these bounds (uvicorn takes a class for `http=`)."""
    return type(
        "GuardedHttpToolsProtocol",
        (GuardedHttpToolsProtocol,),
        {
            "max_header_bytes": max_header_bytes,
            "header_timeout": header_timeout,
            "body_timeout": body_timeout,
            "max_connections": connections or max_connections(),
        },
    )


def server_options(**bounds: Any) -> dict[str, Any]:
    """uvicorn keyword arguments for a public port: the guarded protocol and keep-alive."""
    return {"http": guarded_protocol(**bounds), "timeout_keep_alive": KEEP_ALIVE_SECONDS}
