"""`POST /payments/callback/{token}`: Daraja's STK callback.

Checks, in order: the token (wrong → 404, as if the route did not exist), the sender's address
against `MPESA_ALLOWED_IPS` (→ 403), the body (size → 413; content type, UTF-8, JSON, depth,
duplicate keys → 400), the callback's shape and values (`daraja.callbacks.parse_stk_callback` →
400 with the reason: over-long ids and codes, receipts not as M-Pesa writes them, amounts in
odd digits or exponent form). A refused body with the right token is kept as a rejected
callback (`webhooks.audit`). A valid callback is applied through `PaymentService.apply_result`
(idempotent, stores the raw body) and answered at once; unknown CheckoutRequestIDs are stored
by the service and answered 200 too, as Daraja has nothing better to do with an error. 503
means only that a valid callback could not be stored. The notifier is woken so the customer
hears now.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from daraja.callbacks import parse_json_float, parse_stk_callback
from daraja.errors import CallbackError
from daraja.masking import mask_checkout_id
from daraja.types import StkResult
from payments.rules import mask_phone
from payments.stores import Store
from webhooks.audit import store_rejected_callback
from webhooks.body import MAX_CALLBACK_BYTES, BadBody, read_json
from webhooks.security import IpAllowlist, secrets_match

if TYPE_CHECKING:
    from webhooks.wiring import Runtime

log = logging.getLogger(__name__)

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
# Encoded once, as JSONResponse would encode it: the answer to every valid callback.
_ACCEPTED_BODY = JSONResponse(ACCEPTED).body


def _store(runtime: Runtime) -> Store:
    assert runtime.service is not None
    return runtime.service.store


def _refuse(runtime: Runtime, status: int, reason: str) -> JSONResponse:
    runtime.metrics.callbacks_rejected.labels(reason=reason).inc()
    return JSONResponse({"ResultCode": 1, "ResultDesc": reason}, status_code=status)


async def stk_callback(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    client = request.client.host if request.client else None
    if not secrets_match(request.path_params.get("token"), runtime.callback_token):
        log.warning("callback with a wrong token from %s refused", client)
        runtime.metrics.callbacks_rejected.labels(reason="wrong token").inc()
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    allowlist: IpAllowlist = request.app.state.callback_allowlist
    if not allowlist.allows(client):
        log.warning("callback from %s refused: not in MPESA_ALLOWED_IPS", client)
        return _refuse(runtime, 403, "address not allowed")
    try:
        body = await read_json(request, max_bytes=MAX_CALLBACK_BYTES, parse_float=parse_json_float)
    except BadBody as exc:
        log.warning("callback from %s refused: %s", client, exc.reason)
        await store_rejected_callback(_store(runtime), exc.reason, raw=exc.raw)
        return _refuse(runtime, exc.status, exc.reason)
    try:
        result = parse_stk_callback(body)
    except CallbackError as exc:
        reason = f"malformed callback: {exc}"
        log.warning("callback from %s refused: %s", client, reason)
        await store_rejected_callback(_store(runtime), reason, parsed=body)
        runtime.metrics.callbacks_rejected.labels(reason="malformed callback").inc()
        return JSONResponse({"ResultCode": 1, "ResultDesc": reason}, status_code=400)
    return await _apply(runtime, result, client)


async def _apply(runtime: Runtime, result: StkResult, client: str | None) -> Response:
    assert runtime.service is not None
    checkout = mask_checkout_id(result.checkout_request_id)
    started = time.perf_counter()
    try:
        applied = await runtime.service.apply_result(result)
    except Exception:
        # Storage trouble, not bad input: say so (503) and let the reconciler's query settle it.
        log.exception("callback %s (code %s) could not be applied", checkout, result.result_code)
        return _refuse(runtime, 503, "temporarily unavailable")
    runtime.metrics.callbacks_received.labels(result=str(applied.kind)).inc()
    # At INFO the service already logs the decision and the access log the request; a third
    # line per callback cost ~3 % of the route's CPU (the redacting filter runs on each).
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "callback from %s: %s code %s phone %s -> %s (%.1f ms)",
            client,
            checkout,
            result.result_code,
            mask_phone(result.phone) if result.phone else "-",
            applied.kind,
            (time.perf_counter() - started) * 1000,
        )
    if runtime.application is not None:
        runtime.notifier.notify_soon()
    return Response(_ACCEPTED_BODY, media_type="application/json")


routes = [Route("/payments/callback/{token}", stk_callback, methods=["POST"])]
