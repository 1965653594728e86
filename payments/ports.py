"""What the payments service needs from the outside world, as small protocols and its own errors.

A gateway sends STK prompts and answers status queries. When it fails it raises one of the
errors below, which speak the payments domain, not any provider's: `PushRefused` (nothing
reached M-Pesa; the payment failed with `code`), `PushUncertain` (the request may have reached
M-Pesa; never repeat it) and `QueryFailed` (ask again later). `payments.daraja_gateway` is the one
place that translates Daraja's failures into these; any other exception from a push is treated
as `PushUncertain`.
"""

from __future__ import annotations

from typing import Any, Protocol

from daraja.types import PushAccepted, StkResult


class GatewayError(Exception):
    """Base for what a gateway reports; `detail` goes to the payment's audit trail."""

    def __init__(self, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.detail: dict[str, Any] = {"error": type(self).__name__, "message": message[:500]}
        self.detail.update(detail or {})


class PushRefused(GatewayError):
    """The provider refused the prompt; nothing reached the customer's phone.

    `code` is stable and the bot picks the customer's words from it: `push:invalid_phone`,
    `push:invalid_amount`, `push:rejected`, `push:subscriber_locked`, `push:rate_limited`,
    `push:unavailable`.
    """

    def __init__(self, code: str, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message, detail=detail)
        self.code = code
        self.detail["code"] = code


class PushUncertain(GatewayError):
    """The prompt may have been sent (a timeout after sending): wait for M-Pesa's word."""


class QueryFailed(GatewayError):
    """A status query got no usable answer; the payment is asked about again later."""


class Gateway(Protocol):
    async def stk_push(
        self,
        *,
        phone: str,
        amount: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> PushAccepted:
        """Daraja's acceptance; raises `PushRefused` or `PushUncertain`."""
        ...

    async def stk_query(self, checkout_request_id: str) -> StkResult | None:
        """The final result, or None while M-Pesa is still processing; raises `QueryFailed`."""
        ...
