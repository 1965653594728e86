"""`DarajaClient` as the payments service's `Gateway`: the one translation of Daraja's failures.

The client raises `daraja.errors` classes that say what Daraja answered; the service only needs
to know whether the prompt surely did not go out (`PushRefused`, with a stable code the bot turns
into words), may have gone out (`PushUncertain`: never pushed again), or whether a query failed.
"""

from __future__ import annotations

from typing import Any, Protocol

from daraja.errors import DarajaError, InvalidRequest, RateLimited, SubscriberLocked
from daraja.types import PushAccepted, StkResult
from payments.ports import PushRefused, PushUncertain, QueryFailed


class StkApi(Protocol):
    """What `daraja.client.DarajaClient` offers (and test doubles of it)."""

    async def stk_push(
        self,
        *,
        phone: str,
        amount: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> PushAccepted: ...

    async def stk_query(self, checkout_request_id: str) -> StkResult | None: ...


class DarajaGateway:
    """Implements `payments.ports.Gateway` over a Daraja client."""

    def __init__(self, client: StkApi) -> None:
        self.client = client

    async def stk_push(
        self,
        *,
        phone: str,
        amount: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> PushAccepted:
        try:
            return await self.client.stk_push(
                phone=phone,
                amount=amount,
                account_reference=account_reference,
                description=description,
                callback_url=callback_url,
            )
        except DarajaError as exc:
            if exc.maybe_processed:
                raise PushUncertain(exc.message, detail=error_detail(exc)) from exc
            raise PushRefused(
                push_failure_code(exc), exc.message, detail=error_detail(exc)
            ) from exc
        except ValueError as exc:
            # The client refused to send (a field it could not fit): nothing reached Daraja.
            raise PushRefused("push:rejected", str(exc), detail=error_detail(exc)) from exc

    async def stk_query(self, checkout_request_id: str) -> StkResult | None:
        try:
            return await self.client.stk_query(checkout_request_id)
        except (DarajaError, ValueError) as exc:
            raise QueryFailed(str(exc), detail=error_detail(exc)) from exc


def error_detail(exc: BaseException) -> dict[str, Any]:
    """What the audit trail keeps of a Daraja failure (no secrets: Daraja's own words)."""
    detail: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)[:500]}
    for name in ("code", "http_status", "request_id", "field"):
        value = getattr(exc, name, None)
        if value is not None:
            detail[name] = value
    return detail


def push_failure_code(exc: DarajaError) -> str:
    """A stable code for a refused push; the bot picks the customer's words from it."""
    if isinstance(exc, InvalidRequest):
        if exc.field in {"PartyA", "PhoneNumber"}:
            return "push:invalid_phone"
        if exc.field == "Amount":
            return "push:invalid_amount"
        return "push:rejected"
    if isinstance(exc, SubscriberLocked):
        return "push:subscriber_locked"
    if isinstance(exc, RateLimited):
        return "push:rate_limited"
    return "push:unavailable"
