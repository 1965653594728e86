"""Keeping refused callback bodies for audit.

Valid callbacks are stored by `PaymentService.apply_result` with the payment they concern. A body
that carried the right token but was not a readable STK callback has no payment; it is kept here
as a `PaymentEvent` without one (kind `callback_rejected`), so an operator can still see what
Daraja (or someone holding the token) sent. Bodies that failed the token or IP check are not
stored: anyone on the internet can send those, and they would only fill the table.

A body is kept as JSON when it was JSON; when it holds text the database cannot store (a NUL
character, an unpaired surrogate: PostgreSQL refuses both) it is kept as escaped JSON text
instead, so that the audit row is written whatever the body says.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from daraja.callbacks import MAX_ID_LENGTH, unstorable_text_at
from daraja.timestamps import now_utc
from payments.stores import Store

log = logging.getLogger(__name__)

REJECTED_KIND = "callback_rejected"
#: How much of an unparseable body is kept (as text): enough to recognise it.
MAX_TEXT_KEPT = 2048
#: A parsed body kept as text (it held unstorable characters): all of a callback-sized body.
MAX_JSON_TEXT_KEPT = 64 * 1024


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
    kept = parsed if isinstance(parsed, dict | list) else None
    if kept is not None and unstorable_text_at(kept) is not None:
        # ensure_ascii escapes NUL and lone surrogates as \u0000 and \ud800: storable text.
        detail["text"] = json.dumps(kept)[:MAX_JSON_TEXT_KEPT]
        kept = None
    elif parsed is None and raw:
        text = raw[:MAX_TEXT_KEPT].decode("utf-8", errors="replace")
        detail["text"] = text.replace("\x00", "\ufffd")
    checkout_id = _checkout_id(parsed)
    try:
        await store.record(
            None,
            REJECTED_KIND,
            at=now_utc(),
            detail=detail,
            raw=kept,
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
    # Only an id that could be real: a cut one would point at the wrong payment, and one with
    # characters the column cannot hold would lose the whole row. The body keeps it anyway.
    if not isinstance(value, str) or len(value) > MAX_ID_LENGTH or not value.isascii():
        return None
    return value if value.isprintable() else None
