"""A small HTTP/1.1 load generator, run in its own process: `python -m bench.loadgen ...`.

It keeps N keep-alive connections to one loopback server and sends pre-built POST requests, each
one distinct (read from a JSON-lines file of `{"path": ..., "body": {...}}`), one at a time per
connection (closed loop). It reports throughput, status counts and latency percentiles as JSON on
stdout.

Why raw asyncio streams and not httpx: on a 2-core machine the generator shares the CPU with the
server under test, and httpx costs several times more CPU per request than writing pre-encoded
bytes and parsing a status line. The bare-app figures (bench/bare_app.py) show this generator's
ceiling; its own CPU use is reported too (`generator_cpu_pct` near 100 means it was the limit).

Bounded: it stops after `--max-requests` requests or `--max-seconds`, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import HOST, latency_summary_ms

#: A response head larger than this is not something our servers send; give up on it.
MAX_HEAD_BYTES = 64 * 1024


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.1 we can read."""


@dataclass
class Tally:
    """What one phase (warm-up or measured) observed."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)


def encode_request(host: str, path: str, body: bytes) -> bytes:
    """One keep-alive HTTP/1.1 POST with a JSON body, ready to write."""
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "User-Agent: lipabot-bench\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """Status code and lower-cased headers of a response head ending in CRLFCRLF."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError(f"bad header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Read one response; returns (status, body, keep_alive)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise ProtocolError("response head too large") from exc
    status, headers = parse_head(head)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        raise ProtocolError("response without a length: cannot keep the connection alive")
    keep_alive = headers.get("connection", "").lower() != "close"
    return status, body, keep_alive


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers from our servers
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


class LoadRun:
    """Hands out the pre-encoded requests to the connections until a bound is reached."""

    def __init__(self, host: str, port: int, requests: list[bytes]) -> None:
        self.host = host
        self.port = port
        self.requests = requests
        self._next = 0

    def take(self, limit: int) -> bytes | None:
        if self._next >= limit:
            return None
        request = self.requests[self._next]
        self._next += 1
        return request

    async def phase(self, connections: int, count: int, deadline: float) -> tuple[Tally, float]:
        """Send up to `count` more requests over `connections`; returns the tally and seconds."""
        tally = Tally()
        limit = min(len(self.requests), self._next + count)
        started = time.perf_counter()
        await asyncio.gather(
            *(self._connection(tally, limit, deadline) for _ in range(connections))
        )
        return tally, time.perf_counter() - started

    async def _connection(self, tally: Tally, limit: int, deadline: float) -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        try:
            while time.perf_counter() < deadline:
                request = self.take(limit)
                if request is None:
                    return
                if writer is None:
                    reader, writer = await asyncio.open_connection(
                        self.host, self.port, limit=MAX_HEAD_BYTES
                    )
                assert reader is not None
                sent_at = time.perf_counter()
                try:
                    writer.write(request)
                    status, body, keep_alive = await read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ProtocolError) as exc:
                    tally.errors[type(exc).__name__] += 1
                    writer.close()
                    reader = writer = None
                    continue
                tally.latencies.append(time.perf_counter() - sent_at)
                tally.statuses[status] += 1
                if not 200 <= status < 300 and len(tally.samples) < 5:
                    tally.samples.append(f"{status}: {body[:200].decode('utf-8', 'replace')}")
                if not keep_alive:
                    writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()


def load_requests(path: Path, host: str) -> list[bytes]:
    """Pre-encode every request in the JSON-lines file (so sending costs no JSON work)."""
    encoded = []
    with path.open() as lines:
        for line in lines:
            if not line.strip():
                continue
            item = json.loads(line)
            body = json.dumps(item["body"], separators=(",", ":")).encode()
            encoded.append(encode_request(host, item["path"], body))
    return encoded


async def run(
    base: str,
    requests: list[bytes],
    *,
    connections: int,
    max_requests: int,
    max_seconds: float,
    warmup: int = 0,
) -> dict[str, Any]:
    """Warm up, then measure; returns the report of the measured phase."""
    target = urlsplit(base)
    host, port = target.hostname or HOST, target.port or 80
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"load only goes to loopback addresses, not {host!r}")
    runner = LoadRun(host, port, requests)
    if warmup:
        await runner.phase(connections, warmup, time.perf_counter() + max_seconds)
    cpu_before = _cpu_seconds()
    tally, seconds = await runner.phase(
        connections, max_requests, time.perf_counter() + max_seconds
    )
    cpu = _cpu_seconds() - cpu_before
    return {
        "connections": connections,
        "requests": tally.sent,
        "ok": tally.ok,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "errors": dict(tally.errors),
        "error_samples": tally.samples,
        "seconds": round(seconds, 3),
        "rps": round(tally.ok / seconds, 1) if seconds > 0 else 0.0,
        **latency_summary_ms(tally.latencies),
        "generator_cpu_pct": round(100 * cpu / seconds, 1) if seconds > 0 else 0.0,
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--requests", required=True, type=Path, help="JSON-lines request file")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=0, help="requests sent before measuring")
    args = parser.parse_args(argv)
    host = urlsplit(args.base).netloc
    requests = load_requests(args.requests, host)
    if len(requests) < args.warmup + 1:
        print("not enough requests for the warm-up", file=sys.stderr)
        return 2
    report = asyncio.run(
        run(
            args.base,
            requests,
            connections=args.connections,
            max_requests=args.max_requests,
            max_seconds=args.max_seconds,
            warmup=args.warmup,
        )
    )
    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
