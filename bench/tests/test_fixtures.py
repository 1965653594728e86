"""The benches' data and counters are right: seeded payments match their callbacks, the upstream
counts are what reached the emulator, and the profile's package buckets are the intended ones.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import upstream
from bench.profile_callbacks import package_of
from bench.seed import CALLBACK_TOKEN, counts, seed
from daraja.callbacks import parse_stk_callback


async def test_every_seeded_payment_has_one_valid_distinct_callback(tmp_path: Path) -> None:
    from payments.db import close_db, init_db
    from payments.models import Payment

    url = f"sqlite://{tmp_path / 'seed.sqlite3'}"
    requests_file = tmp_path / "callbacks.jsonl"
    await seed(url, 100, 8, requests_file)

    lines = [json.loads(line) for line in requests_file.read_text().splitlines()]
    results = [parse_stk_callback(line["body"]) for line in lines]
    assert {line["path"] for line in lines} == {f"/payments/callback/{CALLBACK_TOKEN}"}
    assert len({r.checkout_request_id for r in results}) == 8
    assert [r.result_code for r in results[:4]] == ["0", "1032", "0", "1037"]
    paid = results[0]
    assert paid.receipt and paid.amount == 10 + 100 % 490

    await init_db(url)
    try:
        stored = {
            p.checkout_request_id: p
            for p in await Payment.filter(
                checkout_request_id__in=[r.checkout_request_id for r in results]
            )
        }
    finally:
        await close_db()
    assert len(stored) == 8
    for result in results:
        payment = stored[result.checkout_request_id]
        assert payment.status == "pending"
        if result.amount is not None:
            assert payment.amount == result.amount
            assert payment.phone == result.phone
    assert await counts(url) == {"pending": 8}


async def test_upstream_counts_what_reached_the_emulator() -> None:
    naive = await upstream.scenario("t", 5, 1, naive=True, step=0)
    cached = await upstream.scenario("t", 5, 5, naive=False, step=0)
    assert naive["requests"] == {"oauth": 10, "push": 5, "query": 5}
    assert cached["requests"] == {"oauth": 1, "push": 5, "query": 5}
    # The client's own counters agree with the transport's.
    assert cached["client_stats"] == cached["requests"]


async def test_upstream_refreshes_the_token_as_the_clock_passes_an_hour() -> None:
    # 3 payments 30 minutes apart: the hourly token (refreshed a minute early) is fetched twice.
    spread = await upstream.scenario("t", 3, 1, naive=False, step=1800.0)
    assert spread["requests"]["oauth"] == 2


def test_profile_buckets() -> None:
    site = "/work/main/.venv/lib/python3.11/site-packages"
    assert package_of(f"{site}/tortoise/queryset.py") == "tortoise-orm"
    assert package_of(f"{site}/pypika_tortoise/terms.py") == "pypika (tortoise's SQL builder)"
    assert package_of("/work/main/payments/service.py") == "lipabot payments/"
    assert package_of(f"{site}/telegram/ext/_application.py") == "python-telegram-bot"
    assert package_of("<built-in>") == "builtins / C"


async def test_in_process_app_runs_the_lifespan_and_returns_the_status() -> None:
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from bench.callback_cpu import _App

    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        events.append("started")
        yield
        events.append("stopped")

    async def echo(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse(body, status_code=201 if body.get("ok") else 400)

    app = _App(Starlette(routes=[Route("/echo", echo, methods=["POST"])], lifespan=lifespan))
    await app.start()
    assert events == ["started"]
    assert await app.post("/echo", b'{"ok": true}') == 201
    assert await app.post("/echo", b'{"ok": false}') == 400
    assert await app.post("/nowhere", b"{}") == 404
    await app.stop()
    assert events == ["started", "stopped"]
