"""Keeping refused callback bodies for audit.

Valid callbacks are stored by `PaymentService.apply_result` with the payment they concern. A body
that carried the right token but was not a readable STK callback has no payment; it is kept here
as a `PaymentEvent` without one (kind `callback_rejected`), so an operator can still see what
Daraja (or someone holding the token) sent. Bodies that failed the token or IP check are not
stored: anyone on the internet can send those, and they would only fill the table.
"""

from __future__ import annotations

import logging
from typing import Any

from daraja.timestamps import now_utc
from payments.stores import Store

log = logging.getLogger(__name__)

REJECTED_KIND = "callback_rejected"
#: How much of an unparseable body is kept (as text): enough to recognise it.
MAX_TEXT_KEPT = 2048


async def store_rejected_callback(
    store: Store,
    reason: str,
    *,
    parsed: Any = None,
    raw: bytes | None = None,
    size: int | None = None,
) -> None:
    """Record a refused callback; a storage failure is logged, never raised to the route."""
    detail: dict[str, Any] = {"reason": reason}
    if size is not None:
        detail["size"] = size
    if parsed is None and raw:
        detail["text"] = raw[:MAX_TEXT_KEPT].decode("utf-8", errors="replace")
    checkout_id = _checkout_id(parsed)
    try:
        await store.record(
            None,
            REJECTED_KIND,
            at=now_utc(),
            detail=detail,
            raw=parsed if isinstance(parsed, dict | list) else None,
            source="callback",
            checkout_request_id=checkout_id,
        )
    except Exception:  # the answer to Daraja must not depend on the audit write
        log.warning("could not store a rejected callback (%s)", reason, exc_info=True)


def _checkout_id(parsed: Any) -> str | None:
    try:
        value = parsed["Body"]["stkCallback"]["CheckoutRequestID"]
    except (KeyError, TypeError, IndexError):
        return None
    return value[:64] if isinstance(value, str) else None
