"""The one place where Daraja's answers and HTTP failures become `daraja.errors` exceptions.

Daraja reports failures as `{"requestId", "errorCode", "errorMessage"}` with an HTTP status
that does not always match (Daraja 3.0 error tables and captured answers). We decide by
`errorCode` and, only for `500.001.1001` (which carries several unrelated meanings), by the
documented message prefixes.
Transport failures are split by whether the request can have reached Daraja: before sending
→ `ConnectFailed` (safe to repeat); after sending → `TimedOut` (`maybe_processed`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from daraja.errors import (
    AlreadyRegistered,
    AuthError,
    ConnectFailed,
    DarajaError,
    InvalidRequest,
    ProductMismatch,
    QuotaExceeded,
    RateLimited,
    SubscriberLocked,
    TimedOut,
    Unavailable,
)

#: "The access token is not (or no longer) valid": drop it, fetch a new one, retry once.
#: 404.001.03 (Express), 400.003.01 / 404.001.04 (C2B, Transaction Status pages), 401.003.01
#: (third-party lists).
TOKEN_REJECTED_CODES = frozenset({"404.001.03", "400.003.01", "404.001.04", "401.003.01"})
#: errorCode of several unrelated push/query failures, told apart by message (see module doc).
MULTI_MEANING_CODE = "500.001.1001"
#: The query's "still pending" answer (HTTP 500, requestId = CheckoutRequestID).
STILL_PROCESSING_PREFIX = "the transaction is being processed"

_INVALID_FIELD = re.compile(r"^bad request\s*-\s*invalid\s+(?P<field>\S+)", re.IGNORECASE)
# Old messages carry a component prefix: "[MerchantValidate] - Wrong credentials".
_COMPONENT_PREFIX = re.compile(r"^\[[^\]]*\]\s*-?\s*")
# Daraja calls TransactionDesc "Remarks" in its errors; report the field name we send.
_FIELD_ALIASES = {"Remarks": "TransactionDesc"}


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """Daraja's error envelope, as far as it was present."""

    code: str
    message: str
    request_id: str | None


def read_error_body(body: Any) -> ErrorBody | None:
    """The error envelope from a decoded JSON body, or None when it is not one."""
    if not isinstance(body, dict):
        return None
    code = body.get("errorCode")
    if not isinstance(code, str | int) or isinstance(code, bool) or not str(code).strip():
        return None
    message = body.get("errorMessage")
    request_id = body.get("requestId")
    return ErrorBody(
        code=str(code).strip(),
        message=message.strip() if isinstance(message, str) else "",
        request_id=str(request_id) if isinstance(request_id, str | int) else None,
    )


def is_still_processing(body: Any) -> bool:
    """True for the query's `500.001.1001 "The transaction is being processed"` answer."""
    err = read_error_body(body)
    return (
        err is not None
        and err.code == MULTI_MEANING_CODE
        and _normalised(err.message).startswith(STILL_PROCESSING_PREFIX)
    )


def is_already_registered(message: str) -> bool:
    """Daraja's ways of saying C2B URLs are registered already (docs/DARAJA.md §11.2)."""
    text = _normalised(message)
    return "already registered" in text or text.startswith("duplicate notification info")


def is_token_rejected(error: DarajaError) -> bool:
    """True when Daraja refused the bearer token itself (refresh and retry once)."""
    return isinstance(error, AuthError) and error.code in TOKEN_REJECTED_CODES


def decode_json(response: httpx.Response) -> Any:
    """The JSON body, or None when the body is empty or not JSON."""
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def error_from_response(response: httpx.Response) -> DarajaError:
    """Map a non-success answer from an API call (push or query) to our error."""
    status = response.status_code
    envelope = read_error_body(decode_json(response))
    if envelope is None:
        return _error_without_envelope(status)
    return _error_from_envelope(envelope, status)


def error_from_oauth_response(response: httpx.Response) -> DarajaError:
    """Map a failed OAuth answer: rate limits and outages stay what they are, the rest is auth."""
    error = error_from_response(response)
    if isinstance(error, RateLimited | Unavailable | AuthError):
        # A token request that failed server-side processed nothing.
        error.maybe_processed = False
        return error
    return AuthError(
        f"OAuth token request refused: {error.message}",
        http_status=error.http_status,
        code=error.code,
        request_id=error.request_id,
    )


def error_from_transport(exc: httpx.HTTPError, *, what: str) -> DarajaError:
    """Map an httpx failure; `what` names the request for the message ("STK push")."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return ConnectFailed(f"{what}: could not connect to Daraja ({type(exc).__name__})")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.ProxyError | httpx.LocalProtocolError):
        return ConnectFailed(f"{what}: request not sent ({type(exc).__name__})")
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
        return TimedOut(f"{what}: no answer from Daraja in time ({type(exc).__name__})")
    # ReadError, WriteError, RemoteProtocolError, ...: bytes may have reached Daraja.
    return TimedOut(f"{what}: connection lost after sending ({type(exc).__name__})")


def _error_from_envelope(err: ErrorBody, status: int) -> DarajaError:
    kwargs: dict[str, Any] = {"http_status": status, "code": err.code, "request_id": err.request_id}
    code, message = err.code, err.message or "(no errorMessage)"
    if "apiproduct" in message.lower():
        # Shares 401.003.01 with a refused token, but a new token will not help (C2B v1/v2).
        return ProductMismatch(f"the Daraja app has no product for this API: {message}", **kwargs)
    if is_already_registered(message):
        return AlreadyRegistered(f"C2B URLs already registered: {message}", **kwargs)
    if code in TOKEN_REJECTED_CODES:
        return AuthError(f"access token refused: {message}", **kwargs)
    if code.startswith("400.008."):
        return AuthError(f"OAuth request refused: {message}", **kwargs)
    if code.startswith("400.002."):
        return InvalidRequest(message, field=_invalid_field(message), **kwargs)
    if code == MULTI_MEANING_CODE:
        return _multi_meaning_error(message, kwargs)
    if code == "500.003.02":
        return RateLimited(f"Daraja is throttling: {message}", **kwargs)
    if code == "500.003.03":
        return QuotaExceeded(f"Daraja quota used up: {message}", **kwargs)
    if code.startswith("500.003."):
        return Unavailable(f"Daraja failed: {message}", **kwargs)
    if status >= 500:
        return Unavailable(f"Daraja error {code}: {message}", **kwargs)
    return DarajaError(f"Daraja error {code}: {message}", **kwargs)


def _multi_meaning_error(message: str, kwargs: dict[str, Any]) -> DarajaError:
    text = _normalised(message)
    if text.startswith("wrong credentials"):
        return AuthError(f"Daraja refused the password (shortcode/passkey): {message}", **kwargs)
    if text.startswith("merchant does not exist"):
        return AuthError(f"Daraja does not know the shortcode: {message}", **kwargs)
    if text.startswith("unable to lock subscriber"):
        return SubscriberLocked(f"another prompt is open on this phone: {message}", **kwargs)
    if text.startswith(STILL_PROCESSING_PREFIX):
        return Unavailable(f"Daraja is still processing: {message}", **kwargs)
    return DarajaError(f"Daraja error {MULTI_MEANING_CODE}: {message}", **kwargs)


def _error_without_envelope(status: int) -> DarajaError:
    if status < 300:
        # "OK" with a body we cannot read: the request may well have been accepted.
        error = Unavailable(f"unreadable HTTP {status} answer from Daraja", http_status=status)
        error.maybe_processed = True
        return error
    if status in (401, 403):
        return AuthError("Daraja refused the request without details", http_status=status)
    if status == 429:
        return RateLimited("Daraja is throttling (HTTP 429)", http_status=status)
    if status >= 500:
        # A gateway error without Daraja's envelope says nothing about what happened behind it.
        error = Unavailable(f"Daraja answered HTTP {status} without details", http_status=status)
        error.maybe_processed = True
        return error
    if status == 400:
        return InvalidRequest("Daraja answered HTTP 400 without details", http_status=status)
    return DarajaError(f"unexpected HTTP {status} from Daraja", http_status=status)


def _invalid_field(message: str) -> str | None:
    match = _INVALID_FIELD.match(message.strip())
    if not match:
        return None
    field = match.group("field").rstrip(".,;:")
    return _FIELD_ALIASES.get(field, field)


def _normalised(message: str) -> str:
    return _COMPONENT_PREFIX.sub("", message.strip()).lower()
