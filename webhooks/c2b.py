"""`POST /payments/c2b/confirmation/{token}` and `/payments/c2b/validation/{token}`: Daraja C2B.

Guarded like the STK callback (`webhooks.callbacks`): the secret token in the path (wrong → 404,
as if the route did not exist), the sender's address against `MPESA_ALLOWED_IPS` (→ 403), the body
(size → 413; content type, UTF-8, JSON, depth → 400) and its shape (`daraja.c2b.parse_c2b` → 400
with the reason; the body is kept, a plain phone number in it masked). A confirmation is applied
through `PaymentService.apply_c2b` (once per TransID; the body is stored with the C2B row) and
answered `{"ResultCode": 0, "ResultDesc": "Success"}` at once, whether it matched a payment or not:
the money has moved, Daraja can do nothing with a refusal. A validation request is answered per
`C2B_VALIDATION` (docs/DARAJA.md §11.3): `off` accepts without looking, `accept` records and
accepts, `strict` refuses account numbers that are none of ours and wrong amounts with the
C2B0001x code. When storage fails, a confirmation gets 503 and a validation is accepted (a shop
whose database hiccups must not turn customers away).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from daraja.c2b import CONFIRMATION_ACK, C2BPayment, parse_c2b, read_msisdn, validation_response
from daraja.errors import CallbackError
from webhooks.audit import store_rejected_callback
from webhooks.body import MAX_CALLBACK_BYTES, BadBody, read_json
from webhooks.security import IpAllowlist, secrets_match
from webhooks.wiring import C2B_CONFIRMATION_PATH as CONFIRMATION_PATH
from webhooks.wiring import C2B_VALIDATION_PATH as VALIDATION_PATH

if TYPE_CHECKING:
    from webhooks.wiring import Runtime

log = logging.getLogger(__name__)

_ACK_BODY = JSONResponse(CONFIRMATION_ACK).body


async def confirmation(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    body = await _checked_body(request, runtime, "confirmation")
    if isinstance(body, Response):
        return body
    assert runtime.service is not None
    try:
        applied = await runtime.service.apply_c2b(body)
    except Exception:
        log.exception("C2B confirmation %s could not be applied", body.trans_id)
        return _refuse(runtime, 503, "temporarily unavailable")
    runtime.metrics.callbacks_received.labels(result=f"c2b_{applied.kind}").inc()
    if runtime.application is not None:
        runtime.notifier.notify_soon()
    return Response(_ACK_BODY, media_type="application/json")


async def validation(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    body = await _checked_body(request, runtime, "validation")
    if isinstance(body, Response):
        return body
    mode = runtime.settings.c2b_validation
    if mode == "off":
        return JSONResponse(validation_response())
    assert runtime.service is not None
    try:
        rejection = await runtime.service.validate_c2b(body, mode)
    except Exception:
        log.exception("C2B validation %s: could not check; accepted", body.trans_id)
        rejection = None
    runtime.metrics.callbacks_received.labels(
        result=f"c2b_validation_{rejection or 'accepted'}"
    ).inc()
    if rejection is not None:
        log.info("C2B validation %s refused: %s", body.trans_id, rejection)
    return JSONResponse(validation_response(rejection))


async def _checked_body(request: Request, runtime: Runtime, what: str) -> C2BPayment | Response:
    """The parsed body, or the response that refuses it."""
    client = request.client.host if request.client else None
    if not secrets_match(request.path_params.get("token"), runtime.callback_token):
        log.warning("C2B %s with a wrong token from %s refused", what, client)
        runtime.metrics.callbacks_rejected.labels(reason="wrong token").inc()
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    allowlist: IpAllowlist = request.app.state.callback_allowlist
    if not allowlist.allows(client):
        log.warning("C2B %s from %s refused: not in MPESA_ALLOWED_IPS", what, client)
        return _refuse(runtime, 403, "address not allowed")
    store = runtime.service.store if runtime.service is not None else None
    try:
        raw = await read_json(request, max_bytes=MAX_CALLBACK_BYTES)
    except BadBody as exc:
        log.warning("C2B %s from %s refused: %s", what, client, exc.reason)
        if store is not None:
            await store_rejected_callback(store, f"c2b {what}: {exc.reason}", raw=exc.raw)
        return _refuse(runtime, exc.status, exc.reason)
    try:
        return parse_c2b(raw)
    except CallbackError as exc:
        reason = f"malformed C2B {what}: {exc}"
        log.warning("C2B %s from %s refused: %s", what, client, reason)
        if store is not None:
            await store_rejected_callback(store, reason, parsed=_without_phone(raw))
        runtime.metrics.callbacks_rejected.labels(reason=f"malformed c2b {what}").inc()
        return JSONResponse({"ResultCode": 1, "ResultDesc": reason}, status_code=400)


def _without_phone(raw: Any) -> Any:
    """A refused body as kept: a plain MSISDN masked, as for accepted ones."""
    if not isinstance(raw, dict) or "MSISDN" not in raw:
        return raw
    try:
        masked = read_msisdn(raw["MSISDN"]).masked
    except CallbackError:
        masked = "(unreadable)"
    return {**raw, "MSISDN": masked or raw["MSISDN"]}


def _refuse(runtime: Runtime, status: int, reason: str) -> JSONResponse:
    runtime.metrics.callbacks_rejected.labels(reason=reason).inc()
    return JSONResponse({"ResultCode": 1, "ResultDesc": reason}, status_code=status)


routes = [
    Route(CONFIRMATION_PATH + "{token}", confirmation, methods=["POST"]),
    Route(VALIDATION_PATH + "{token}", validation, methods=["POST"]),
]
