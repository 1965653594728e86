"""The one place Daraja's failures become our errors.

Every error carries what Daraja said (`http_status`, `code`, `request_id`, `message`) and whether
the request may have been processed (`maybe_processed`): an STK push is never retried when it may.
"""

from __future__ import annotations


class DarajaError(Exception):
    """Base for everything that went wrong talking to Daraja."""

    #: True when Daraja may have acted on the request (e.g. a timeout after sending).
    maybe_processed: bool = False
    #: True when repeating the same request is safe and may succeed.
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"code={self.code}")
        if self.http_status:
            parts.append(f"http={self.http_status}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)


class AuthError(DarajaError):
    """OAuth failed, the token was refused, or the credentials (password) are wrong."""


class InvalidRequest(DarajaError):
    """Daraja refused a field (`400.002.02 Bad Request - Invalid <Field>`)."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        http_status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, http_status=http_status, code=code, request_id=request_id)
        self.field = field


class SubscriberLocked(DarajaError):
    """Another STK prompt is outstanding on this phone ("Unable to lock subscriber")."""

    retry_after_seconds = 60


class RateLimited(DarajaError):
    """Spike arrest, quota, or "System is busy": nothing was processed, try again later."""

    retryable = True
    retry_after_seconds = 30


class QuotaExceeded(RateLimited):
    """`500.003.03 Quota Violation`: the app's quota is used up; retrying soon will not help."""

    retryable = False


class Unavailable(DarajaError):
    """Daraja could not be reached or did not answer in time, or failed internally."""


class ConnectFailed(Unavailable):
    """The request never left: safe to retry."""

    retryable = True


class TimedOut(Unavailable):
    """The request was sent and no answer came: Daraja may have processed it."""

    maybe_processed = True


class ProductMismatch(DarajaError):
    """`401.003.01 … no apiproduct match found`: the C2B version called (v1 or v2) is not the
    C2B product on the Daraja app (docs/DARAJA.md §11.1); the other version may work."""


class AlreadyRegistered(DarajaError):
    """C2B URLs are already registered for the shortcode ("Urls are already registered.",
    "Duplicate notification info…", or the legacy 200 body saying so; docs/DARAJA.md §11.2)."""


class CallbackError(ValueError):
    """A callback or query body that is not a valid STK result; the message names what is wrong."""
