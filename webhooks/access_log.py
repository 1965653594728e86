"""One log line per HTTP request, with the secret part of callback paths masked.

uvicorn's own access log is switched off (`serve`, `run`): it would print
`/payments/callback/<token>` in full. This middleware logs method, path (token masked), status,
the client address as resolved from trusted proxy headers, and the time taken.
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
            client = scope.get("client")
            level = logging.WARNING if status >= 500 else logging.INFO
            log.log(
                level,
                "%s %s %d from %s in %.1f ms",
                scope.get("method"),
                loggable_path(scope.get("path", "")),
                status,
                client[0] if client else "-",
                (time.perf_counter() - started) * 1000,
            )
