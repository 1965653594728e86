"""`GET /healthz` (is this instance able to work?) and `GET /metrics` (Prometheus text).

Health answers 503 when the database does not answer, which is what a load balancer or uptime
check should act on; Daraja and Telegram being slow are reported by metrics, not by health,
because restarting this instance would not fix them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise.functions import Count

from payments import db
from payments.models import Payment
from payments.service import WAITING_STATES

if TYPE_CHECKING:
    from webhooks.wiring import Runtime

log = logging.getLogger(__name__)


async def _payment_counts() -> dict[str, int]:
    rows = await Payment.all().group_by("status").annotate(n=Count("id")).values_list("status", "n")
    return {str(status): int(n) for status, n in rows}


async def healthz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    body: dict[str, object] = {
        "status": "ok",
        "database": "ok",
        "daraja_env": str(runtime.settings.daraja_env),
        "telegram": runtime.telegram_mode,
    }
    healthy = await db.ping()
    if healthy:
        try:
            counts = await _payment_counts()
            body["pending_payments"] = sum(counts.get(str(s), 0) for s in WAITING_STATES)
            body["outbox_backlog"] = await runtime.outbox.backlog() if runtime.outbox else None
            # Telegram updates acknowledged and not processed yet (by any instance).
            body["inbox_backlog"] = (
                await runtime.inbox.inbox.backlog() if runtime.application else None
            )
        except Exception:
            log.warning("health: database query failed", exc_info=True)
            healthy = False
    if not healthy:
        body.update(status="unavailable", database="unreachable")
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        runtime.metrics.set_payment_counts(await _payment_counts())
        if runtime.outbox is not None:
            runtime.metrics.outbox_backlog.set(await runtime.outbox.backlog())
    except Exception:
        # A scrape must still show the counters when the database is away.
        log.warning("metrics: database gauges not refreshed", exc_info=True)
    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
