"""`create_emulator_app`: a Starlette app that behaves like Daraja's STK push API, offline."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from daraja.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE
from daraja.emulator.control import control_routes
from daraja.emulator.ids import merchant_request_id
from daraja.emulator.routes import daraja_routes
from daraja.emulator.scenarios import SCENARIOS, Scenario
from daraja.emulator.state import Clock, Emulator
from daraja.timestamps import now_utc

_HTTP_FAULTS = {
    404: ("404.001.01", "Resource not found"),
    405: ("405.001", "Method Not Allowed"),
}


async def _http_fault(request: Request, exc: Exception) -> Response:
    # Daraja answers unknown paths and wrong methods with its own error body (docs/DARAJA.md §3.5).
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code, message = _HTTP_FAULTS.get(status, ("500.003.1001", "Internal Server Error"))
    body = {"requestId": merchant_request_id(), "errorCode": code, "errorMessage": message}
    return JSONResponse(body, status_code=status)


def create_emulator_app(
    *,
    shortcode: str = SANDBOX_SHORTCODE,
    passkey: str = SANDBOX_PASSKEY,
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    callback_delay: float = 2.0,
    http: httpx.AsyncClient | None = None,
    clock: Clock = now_utc,
    scenarios: Mapping[str, Scenario] = SCENARIOS,
    timestamp_tolerance: float = 600.0,
) -> Starlette:
    """A Daraja look-alike; `app.state.emulator` is its `Emulator` (state and control API).

    `http` posts the callbacks (tests route it to a receiver with an ASGITransport); without it
    the emulator creates its own client on first use and closes it in the lifespan, or in
    `await emulator.aclose()` when mounted where its lifespan does not run.
    """
    emulator = Emulator(
        shortcode=shortcode,
        passkey=passkey,
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        callback_delay=callback_delay,
        http=http,
        clock=clock,
        scenarios=scenarios,
        timestamp_tolerance=timestamp_tolerance,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await emulator.aclose()

    app = Starlette(
        routes=[*daraja_routes, *control_routes],
        lifespan=lifespan,
        exception_handlers={404: _http_fault, 405: _http_fault},
    )
    app.state.emulator = emulator
    return app
