"""Reading an untrusted JSON request body: size cap, content type, UTF-8, JSON, nesting depth,
no key twice in one object, no number that is not finite.

Every failure is a `BadBody` with the HTTP status to answer (413 or 400) and a short reason that
is safe to send back and to use as a metrics label. Nothing here raises anything else.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request

#: Daraja callbacks are about 1 KiB; anything near this is not a callback.
MAX_CALLBACK_BYTES = 64 * 1024
#: A Telegram update (4096-character message plus entities) stays far below this.
MAX_UPDATE_BYTES = 256 * 1024
#: A callback nests five levels deep; a few hundred would only be an attack on the parser.
MAX_DEPTH = 32


class BadBody(Exception):
    """A request body we refuse: `status` to answer and a `reason` safe to show."""

    def __init__(self, status: int, reason: str, raw: bytes | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        #: The body as received, when it was read in full (kept for the audit trail).
        self.raw = raw


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`object_pairs_hook`: an object naming one key twice is refused, not "last one wins".

    Parsers disagree about which of two `ResultCode`s counts (first, last, or an error), so a
    proxy and we could read one body two ways; JSON (RFC 8259 §4) leaves it undefined.
    """
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _DuplicateKey
    return value


class _NotFinite(Exception):
    pass


def _no_constant(name: str) -> Any:
    # NaN, Infinity, -Infinity: Python reads them, JSON (and PostgreSQL's jsonb) does not.
    raise ValueError(f"{name} is not JSON")


@functools.cache
def _decoder(parse_float: Callable[[str], Any]) -> json.JSONDecoder:
    # One per number reader: json.loads with hooks would build a decoder per body.
    def finite(literal: str) -> Any:
        value = parse_float(literal)
        if not math.isfinite(value):  # 1e400 reads as inf, which nothing can store
            raise _NotFinite
        return value

    return json.JSONDecoder(
        object_pairs_hook=_unique_keys, parse_float=finite, parse_constant=_no_constant
    )


async def read_json(
    request: Request,
    *,
    max_bytes: int,
    max_depth: int = MAX_DEPTH,
    parse_float: Callable[[str], Any] = float,
) -> Any:
    """The parsed JSON body, or `BadBody`.

    `parse_float` reads numbers with a fraction or an exponent, as `json.loads` takes it (the
    callback route uses it to tell `1e3` from `1000.0`).
    """
    _check_content_type(request.headers.get("content-type"))
    raw = await read_limited(request, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody(400, "body is not valid UTF-8", raw) from exc
    if not text.strip():
        raise BadBody(400, "empty body", raw)
    try:
        value = _decoder(parse_float).decode(text)
    except _DuplicateKey as exc:
        raise BadBody(400, "duplicate key in a JSON object", raw) from exc
    except _NotFinite as exc:
        raise BadBody(400, "JSON number out of range", raw) from exc
    except RecursionError as exc:
        raise BadBody(400, "JSON nested too deeply", raw) from exc
    except ValueError as exc:
        raise BadBody(400, "body is not JSON", raw) from exc
    # Nesting needs an opening bracket per level: with no more brackets than levels allowed
    # (a Daraja callback has about ten) the walk below cannot find too deep a value.
    if text.count("{") + text.count("[") > max_depth and _depth(value) > max_depth:
        raise BadBody(400, "JSON nested too deeply", raw)
    return value


async def read_limited(request: Request, max_bytes: int) -> bytes:
    """The raw body, refusing more than `max_bytes` whatever Content-Length claims."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError as exc:
            raise BadBody(400, "invalid Content-Length") from exc
        if size > max_bytes:
            raise BadBody(413, "body too large")
    # Count while streaming too: chunked bodies have no Content-Length, and a client may lie.
    chunks: list[bytes] = []
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise BadBody(413, "body too large")
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise BadBody(400, "client disconnected") from exc
    return b"".join(chunks)


def _check_content_type(header: str | None) -> None:
    media_type = (header or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise BadBody(400, "content type must be application/json")


def _depth(value: Any) -> int:
    """Nesting depth without recursion (the parser already bounded it; this bounds us)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest
