"""The load generator and the bench helpers count what they claim to count.

Figures from a generator that miscounts are worse than none, so its HTTP reading, its bounds and
its tallies are checked here against a real loopback server (the bare app under uvicorn).
Run: `.venv/bin/python -m pytest bench/tests -q`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest
import uvicorn

from bench import loadgen
from bench.bare_app import ACK, app
from bench.common import (
    checkout_request_id,
    latency_summary_ms,
    percentile,
    receipt_number,
    stk_callback_body,
)
from webhooks.serving import serve_in_loop


@contextlib.asynccontextmanager
async def serve_bare() -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    async with serve_in_loop(config) as port:
        yield f"http://127.0.0.1:{port}"


def _requests(host: str, count: int, *, broken_every: int = 0) -> list[bytes]:
    out = []
    for i in range(count):
        body = b"not json" if broken_every and i % broken_every == 0 else b'{"n": %d}' % i
        out.append(loadgen.encode_request(host, "/payments/callback/t", body))
    return out


def test_parse_head_reads_status_and_headers() -> None:
    status, headers = loadgen.parse_head(
        b"HTTP/1.1 201 Created\r\nContent-Length: 12\r\nConnection: close\r\n\r\n"
    )
    assert status == 201
    assert headers == {"content-length": "12", "connection": "close"}


def test_parse_head_rejects_garbage() -> None:
    with pytest.raises(loadgen.ProtocolError):
        loadgen.parse_head(b"SSH-2.0-OpenSSH\r\n\r\n")


async def test_chunked_and_sized_bodies_are_read_whole() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\nnop"
    )
    assert await loadgen.read_response(reader) == (200, b"hello world", True)
    assert await loadgen.read_response(reader) == (404, b"nop", False)


async def test_run_sends_each_request_once_and_counts_statuses() -> None:
    async with serve_bare() as base:
        host = base.removeprefix("http://")
        requests = _requests(host, 60, broken_every=10)
        report = await loadgen.run(
            base, requests, connections=4, max_requests=50, max_seconds=10, warmup=10
        )
    # The warm-up used requests 0-9 (one broken); the measured 50 are 10-59, five of them broken.
    assert report["requests"] == 50
    assert report["statuses"] == {"200": 45, "400": 5}
    assert report["ok"] == 45
    assert report["errors"] == {}
    assert report["error_samples"][0].startswith("400:")
    assert 0 < report["p50_ms"] <= report["p99_ms"] <= report["max_ms"]


async def test_run_stops_at_the_time_bound() -> None:
    async with serve_bare() as base:
        requests = _requests(base.removeprefix("http://"), 100_000)
        report = await loadgen.run(
            base, requests, connections=2, max_requests=100_000, max_seconds=0.3
        )
    assert 0 < report["requests"] < 100_000
    assert report["seconds"] < 2.0


async def test_run_refuses_a_non_loopback_target() -> None:
    with pytest.raises(ValueError, match="loopback"):
        await loadgen.run("http://10.0.0.1:80", [], connections=1, max_requests=1, max_seconds=1)


async def test_bare_app_answers_the_ack_body() -> None:
    async with serve_bare() as base:
        reader, writer = await asyncio.open_connection("127.0.0.1", int(base.rsplit(":", 1)[1]))
        writer.write(loadgen.encode_request(base, "/payments/callback/x", b"{}"))
        status, body, _ = await loadgen.read_response(reader)
        writer.close()
    assert status == 200
    assert json.loads(body) == ACK


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([3.0], 99) == 3.0
    summary = latency_summary_ms([0.001, 0.002, 0.010])
    assert summary["p50_ms"] == 2.0
    assert summary["max_ms"] == 10.0


def test_callback_bodies_are_distinct_and_daraja_shaped() -> None:
    ids = {checkout_request_id(i, "254700000001") for i in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("ws_CO_") for i in ids)
    receipts = {receipt_number(i) for i in range(1000)}
    assert len(receipts) == 1000
    assert all(len(r) == 10 and r.isalnum() and r.isupper() for r in receipts)
    paid = stk_callback_body(
        merchant_id="m",
        checkout_id="c",
        result_code=0,
        amount=10,
        phone="254700000001",
        receipt="UAS0000001",
    )["Body"]["stkCallback"]
    items = {item["Name"]: item.get("Value") for item in paid["CallbackMetadata"]["Item"]}
    assert items["Amount"] == 10
    assert items["PhoneNumber"] == 254700000001
    cancelled = stk_callback_body(
        merchant_id="m", checkout_id="c", result_code=1032, amount=10, phone="2547", receipt="x"
    )["Body"]["stkCallback"]
    assert "CallbackMetadata" not in cancelled
