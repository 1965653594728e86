"""One log line per HTTP request, with the secret part of callback paths masked.

uvicorn's own access log is switched off (`serve`, `run`): it would print
`/payments/callback/<token>` in full. This middleware logs method, path (token masked), status,
the client address as resolved from trusted proxy headers, and the time taken.

An accepted Daraja callback (status below 400) is logged at DEBUG: at INFO the payment service
already writes one line per callback with what it decided (`payment #12: callback ... -> paid
[applied]`), and a second line per callback cost ~10 % of the route's throughput. Refused
callbacks keep their INFO/WARNING access line beside the route's warning.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webhooks.wiring import CALLBACK_PATH

log = logging.getLogger("lipabot.access")


def loggable_path(path: str) -> str:
    if path.startswith(CALLBACK_PATH):
        return CALLBACK_PATH + "***"
    return path[:200]


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            _log_request(scope, status, started)


def _log_request(scope: Scope, status: int, started: float) -> None:
    path = scope.get("path", "")
    if status >= 500:
        level = logging.WARNING
    elif status < 400 and path.startswith(CALLBACK_PATH):
        level = logging.DEBUG
    else:
        level = logging.INFO
    if not log.isEnabledFor(level):
        return
    client = scope.get("client")
    log.log(
        level,
        "%s %s %d from %s in %.1f ms",
        scope.get("method"),
        loggable_path(path),
        status,
        client[0] if client else "-",
        (time.perf_counter() - started) * 1000,
    )
