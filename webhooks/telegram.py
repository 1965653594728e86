"""`POST /telegram/webhook`: Telegram updates, kept in the inbox, then processed by PTB.

Telegram echoes the secret given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`; without the
right one (or with none configured) the request is refused with 403. The route parses the update
and writes it to the inbox (`bot.inbox`, one INSERT) before answering 200: Telegram never
re-sends an update it got 200 for, so an acknowledged update must survive a crash. The
Application processes it in its own task, so Telegram gets its 200 without waiting for the
handlers. A redelivered update (same update_id) is answered 200 and not processed again; when
the database cannot keep the update the answer is 503, so Telegram sends it again later.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.app import ALLOWED_UPDATES
from bot.context import inbox_of
from webhooks.body import MAX_UPDATE_BYTES, BadBody, read_json
from webhooks.security import secrets_match

if TYPE_CHECKING:
    from webhooks.wiring import Runtime

log = logging.getLogger(__name__)

SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name


def _answer(runtime: Runtime, status: int, outcome: str, detail: str | None = None) -> Response:
    runtime.metrics.telegram_updates.labels(outcome=outcome).inc()
    return JSONResponse({"ok": status == 200, "detail": detail or outcome}, status_code=status)


async def telegram_webhook(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    secret = runtime.settings.telegram_webhook_secret
    expected = secret.get_secret_value() if secret is not None else None
    if not secrets_match(request.headers.get(SECRET_HEADER), expected):
        client = request.client.host if request.client else None
        log.warning("Telegram webhook call from %s without the right secret refused", client)
        return _answer(runtime, 403, "forbidden")
    application = runtime.application
    if application is None:
        return _answer(runtime, 503, "not ready")
    try:
        data = await read_json(request, max_bytes=MAX_UPDATE_BYTES)
    except BadBody as exc:
        return _answer(runtime, exc.status, "bad body", exc.reason)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return _answer(runtime, 400, "bad body", "not a Telegram update")
    if not any(kind in data for kind in ALLOWED_UPDATES):
        # Not a type the bot subscribes to (a business message, an edit…): acknowledged so
        # Telegram does not re-send it, and never queued (bot.app's gate would drop it too).
        return _answer(runtime, 200, "ignored")
    try:
        update = Update.de_json(data, application.bot)
    except Exception as exc:  # whatever PTB's parser chokes on is a bad body
        log.warning("unreadable Telegram update %s: %s", data.get("update_id"), type(exc).__name__)
        return _answer(runtime, 400, "bad body", "not a Telegram update")
    try:
        outcome = await inbox_of(application).accept(data, update)
    except Exception:
        log.exception("Telegram update %s could not be kept; Telegram will retry", update.update_id)
        return _answer(runtime, 503, "not kept")
    return _answer(runtime, 200, "queued" if outcome != "duplicate" else "duplicate")


routes = [Route("/telegram/webhook", telegram_webhook, methods=["POST"])]
