"""The Daraja M-Pesa Express client: STK push and STK query over one shared httpx client.

Policy lives here (token, retries, validation); I/O is httpx's; error translation is
`daraja.http_errors`. The retry rule is the one that matters for money: an STK push is only
repeated when it certainly did not reach Daraja (could not connect, or throttled by spike
arrest / "system busy"). Anything that may have been processed is raised at once, flagged
`maybe_processed`, and left to the query/callback to settle.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from daraja.callbacks import parse_stk_query
from daraja.config import DarajaConfig
from daraja.errors import (
    AlreadyRegistered,
    AuthError,
    CallbackError,
    DarajaError,
    ProductMismatch,
    Unavailable,
)
from daraja.http_errors import (
    decode_json,
    error_from_response,
    error_from_transport,
    is_already_registered,
    is_still_processing,
    is_token_rejected,
    read_error_body,
)
from daraja.masking import mask_checkout_id, mask_msisdn, redact
from daraja.timestamps import daraja_timestamp, now_utc, stk_password
from daraja.token import TokenCache
from daraja.types import PushAccepted, StkResult

logger = logging.getLogger(__name__)

STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
#: Documented limits; longer values make the customer's prompt fail (ResultCode 1025).
#: C2B (docs/DARAJA.md §11.1): the version must match the C2B product on the Daraja app.
C2B_VERSIONS = ("v1", "v2")
C2B_REGISTER_PATH = "/mpesa/c2b/{version}/registerurl"
C2B_SIMULATE_PATH = "/mpesa/c2b/{version}/simulate"
C2B_RESPONSE_TYPES = ("Completed", "Cancelled")
ACCOUNT_REFERENCE_MAX = 12
TRANSACTION_DESC_MAX = 13
_MSISDN = re.compile(r"^254\d{9}$")


@dataclass(frozen=True, slots=True)
class C2BRegistered:
    """Daraja's answer to a successful C2B Register URL call.

    `version` is the one that worked; `fallback_from` the one tried first when it answered
    "no apiproduct match" (None when the first try worked).
    """

    version: str
    description: str
    originator_conversation_id: str = ""
    response_code: str | None = None
    fallback_from: str | None = None


@dataclass(slots=True)
class ClientStats:
    """Requests sent to Daraja (each attempt counts) and failed attempts."""

    oauth_requests: int = 0
    push_requests: int = 0
    query_requests: int = 0
    other_requests: int = 0
    errors: int = 0


class DarajaClient:
    """M-Pesa Express for one merchant; satisfies `payments.ports.Gateway`."""

    def __init__(
        self,
        config: DarajaConfig,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], datetime] = now_utc,
        retry_attempts: int = 3,
        backoff_base: float = 0.2,
        backoff_cap: float = 2.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if retry_attempts < 1:
            raise ValueError("retry_attempts counts the first try: it must be at least 1")
        self.config = config
        self.stats = ClientStats()
        self._http = http
        self._clock = clock
        self._retry_attempts = retry_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._tokens = TokenCache(config, http, clock=clock, on_request=self._count_oauth)

    async def stk_push(
        self,
        *,
        phone: str,
        amount: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> PushAccepted:
        """Prompt `phone` to pay `amount` shillings; raises a `DarajaError` when refused."""
        _check_amount(amount)
        _check_msisdn(phone)
        reference = _fit(account_reference, ACCOUNT_REFERENCE_MAX, "account_reference")
        desc = _fit(description, TRANSACTION_DESC_MAX, "description")
        _check_callback_url(callback_url)

        def payload() -> dict[str, Any]:
            timestamp = daraja_timestamp(self._clock())
            return {
                **self._credentials(timestamp),
                "TransactionType": self.config.transaction_type,
                "Amount": amount,
                "PartyA": _as_number(phone),
                "PartyB": _as_number(self.config.receiver),
                "PhoneNumber": _as_number(phone),
                "CallBackURL": callback_url,
                "AccountReference": reference,
                "TransactionDesc": desc,
            }

        masked = mask_msisdn(phone)
        try:
            body = await self._call("STK push", STK_PUSH_PATH, payload, self._count_push)
            accepted = _push_accepted(body)
        except DarajaError as exc:
            logger.warning("STK push of KES %d to %s failed: %s", amount, masked, redact(str(exc)))
            raise
        logger.info(
            "STK push of KES %d to %s accepted: %s",
            amount,
            masked,
            mask_checkout_id(accepted.checkout_request_id),
        )
        return accepted

    async def stk_query(self, checkout_request_id: str) -> StkResult | None:
        """The final result of a push, or None while Daraja is still processing it."""
        if not isinstance(checkout_request_id, str) or not checkout_request_id.strip():
            raise ValueError("checkout_request_id must be a non-empty string")
        checkout_id = checkout_request_id.strip()
        logged_id = mask_checkout_id(checkout_id)

        def payload() -> dict[str, Any]:
            timestamp = daraja_timestamp(self._clock())
            return {**self._credentials(timestamp), "CheckoutRequestID": checkout_id}

        try:
            body = await self._call(
                "STK query", STK_QUERY_PATH, payload, self._count_query, pending_ok=True
            )
            result = parse_stk_query(body)
        except CallbackError as exc:
            self.stats.errors += 1
            logger.warning("STK query for %s: unreadable answer: %s", logged_id, redact(str(exc)))
            raise Unavailable(f"unreadable STK query answer: {exc}", http_status=200) from exc
        except DarajaError as exc:
            logger.warning("STK query for %s failed: %s", logged_id, redact(str(exc)))
            raise
        if result is None:
            logger.info("STK query for %s: still being processed", logged_id)
        else:
            logger.info("STK query for %s: ResultCode %s", logged_id, result.result_code)
        return result

    async def register_c2b_urls(
        self,
        *,
        version: str,
        confirmation_url: str,
        validation_url: str,
        response_type: str = "Completed",
        shortcode: str | None = None,
    ) -> C2BRegistered:
        """One C2B Register URL call; raises `AlreadyRegistered`, `ProductMismatch`, …"""
        if version not in C2B_VERSIONS:
            raise ValueError(f"C2B version must be one of {C2B_VERSIONS}, got {version!r}")
        if response_type not in C2B_RESPONSE_TYPES:
            raise ValueError(f"ResponseType must be one of {C2B_RESPONSE_TYPES}")
        _check_callback_url(confirmation_url)
        _check_callback_url(validation_url)
        body = {
            # A string, as in the docs' sample (docs/DARAJA.md §11.2).
            "ShortCode": str(shortcode or self.config.shortcode),
            "ResponseType": response_type,
            "ConfirmationURL": confirmation_url,
            "ValidationURL": validation_url,
        }
        path = C2B_REGISTER_PATH.format(version=version)
        answer = await self._call("C2B register", path, lambda: body, self._count_other)
        description = str(answer.get("ResponseDescription") or "")
        if is_already_registered(description):
            # The 2019 shape: HTTP 200, no ResponseCode, the words in ResponseDescription.
            raise AlreadyRegistered(f"C2B URLs already registered: {description}", http_status=200)
        code = answer.get("ResponseCode")
        if code is not None and str(code).strip() != "0":
            raise DarajaError(f"C2B register not accepted: ResponseCode {code!r}", http_status=200)
        logger.info("C2B URLs registered (%s): %s", version, description or "no description")
        return C2BRegistered(
            version=version,
            description=description,
            originator_conversation_id=str(answer.get("OriginatorCoversationID") or ""),
            response_code=None if code is None else str(code).strip(),
        )

    async def register_c2b(
        self,
        *,
        version: str,
        confirmation_url: str,
        validation_url: str,
        response_type: str = "Completed",
    ) -> C2BRegistered:
        """Register with `version`, and with the other one when Daraja answers that the app
        has no such product ("no apiproduct match"; docs/DARAJA.md §11.1)."""
        kwargs = {
            "confirmation_url": confirmation_url,
            "validation_url": validation_url,
            "response_type": response_type,
        }
        try:
            return await self.register_c2b_urls(version=version, **kwargs)
        except ProductMismatch:
            other = C2B_VERSIONS[1 - C2B_VERSIONS.index(version)]
            logger.warning("C2B %s: no such product on the Daraja app; trying %s", version, other)
        registered = await self.register_c2b_urls(version=other, **kwargs)
        return C2BRegistered(
            version=registered.version,
            description=registered.description,
            originator_conversation_id=registered.originator_conversation_id,
            response_code=registered.response_code,
            fallback_from=version,
        )

    async def c2b_simulate(
        self,
        *,
        version: str,
        amount: int,
        msisdn: str,
        bill_ref: str,
        command_id: str = "CustomerPayBillOnline",
        shortcode: str | None = None,
    ) -> dict[str, Any]:
        """The sandbox's C2B simulate (not available in production); Daraja's answer."""
        if version not in C2B_VERSIONS:
            raise ValueError(f"C2B version must be one of {C2B_VERSIONS}, got {version!r}")
        _check_amount(amount)
        _check_msisdn(msisdn)
        body = {
            "ShortCode": _as_number(str(shortcode or self.config.shortcode)),
            "CommandID": command_id,
            "Amount": amount,
            "Msisdn": _as_number(msisdn),
            "BillRefNumber": bill_ref,
        }
        path = C2B_SIMULATE_PATH.format(version=version)
        answer: dict[str, Any] = await self._call(
            "C2B simulate", path, lambda: body, self._count_other
        )
        return answer

    def _credentials(self, timestamp: str) -> dict[str, Any]:
        shortcode = self.config.shortcode
        return {
            "BusinessShortCode": _as_number(shortcode),
            "Password": stk_password(shortcode, self.config.passkey, timestamp),
            "Timestamp": timestamp,
        }

    async def _call(
        self,
        what: str,
        path: str,
        payload: Callable[[], dict[str, Any]],
        count: Callable[[], None],
        *,
        pending_ok: bool = False,
    ) -> Any:
        """POST with the retry policy; returns the decoded JSON body of a usable answer."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._send(what, path, payload(), count, pending_ok)
            except DarajaError as exc:
                self.stats.errors += 1
                if not _safe_to_repeat(exc) or attempt >= self._retry_attempts:
                    raise
                delay = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
                logger.info(
                    "%s attempt %d/%d not processed (%s); retrying in %.2f s",
                    what,
                    attempt,
                    self._retry_attempts,
                    type(exc).__name__,
                    delay,
                )
                await self._sleep(delay)

    async def _send(
        self,
        what: str,
        path: str,
        payload: dict[str, Any],
        count: Callable[[], None],
        pending_ok: bool,
    ) -> Any:
        """One attempt; a refused token is replaced and the request sent once more."""
        token = await self._tokens.get()
        try:
            return await self._post(what, path, payload, token, count, pending_ok)
        except AuthError as exc:
            if not is_token_rejected(exc):
                raise
            self.stats.errors += 1
            logger.warning("%s: Daraja refused the access token (%s); refreshing", what, exc.code)
            self._tokens.invalidate(token)
            token = await self._tokens.get()
            return await self._post(what, path, payload, token, count, pending_ok)

    async def _post(
        self,
        what: str,
        path: str,
        payload: dict[str, Any],
        token: str,
        count: Callable[[], None],
        pending_ok: bool,
    ) -> Any:
        count()
        try:
            response = await self._http.post(
                self.config.base_url + path,
                json=payload,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.config.timeout,
            )
        except httpx.HTTPError as exc:
            raise error_from_transport(exc, what=what) from exc
        body = decode_json(response)
        if response.is_success and isinstance(body, dict):
            if read_error_body(body) is None:
                return body
        if pending_ok and is_still_processing(body):
            return body
        raise error_from_response(response)

    def _count_oauth(self) -> None:
        self.stats.oauth_requests += 1

    def _count_push(self) -> None:
        self.stats.push_requests += 1

    def _count_query(self) -> None:
        self.stats.query_requests += 1

    def _count_other(self) -> None:
        self.stats.other_requests += 1


def _safe_to_repeat(exc: DarajaError) -> bool:
    return exc.retryable and not exc.maybe_processed


def _push_accepted(body: Any) -> PushAccepted:
    """Daraja's synchronous acceptance; anything else after a 200 may still be a live push."""
    code = body.get("ResponseCode")
    merchant_id = body.get("MerchantRequestID")
    checkout_id = body.get("CheckoutRequestID")
    if str(code).strip() != "0":
        raise DarajaError(f"STK push not accepted: ResponseCode {code!r}", http_status=200)
    if not isinstance(checkout_id, str) or not checkout_id.strip():
        error = Unavailable("STK push accepted without a CheckoutRequestID", http_status=200)
        error.maybe_processed = True
        raise error
    return PushAccepted(
        merchant_request_id=str(merchant_id or "").strip(),
        checkout_request_id=checkout_id.strip(),
        response_code="0",
        response_description=str(body.get("ResponseDescription") or ""),
        customer_message=str(body.get("CustomerMessage") or ""),
    )


def _check_amount(amount: object) -> None:
    # bool is an int subclass; True shillings is a bug, not a payment.
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError(f"amount must be whole shillings (int), got {type(amount).__name__}")
    if amount <= 0:
        raise ValueError(f"amount must be positive, got {amount}")


def _check_msisdn(phone: object) -> None:
    if not isinstance(phone, str) or not _MSISDN.match(phone):
        raise ValueError("phone must be a normalised MSISDN like 2547XXXXXXXX")


def _fit(value: object, limit: int, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    return value.strip()[:limit].strip()


def _check_callback_url(url: object) -> None:
    # Stray whitespace is a known cause of "Bad Request - Invalid CallBackURL".
    if (
        not isinstance(url, str)
        or not url.startswith(("https://", "http://"))
        or any(ch.isspace() for ch in url)
    ):
        raise ValueError("callback_url must be an http(s) URL without spaces")


def _as_number(value: str) -> int | str:
    """Shortcodes and MSISDNs go out as JSON numbers, as in the Daraja docs sample."""
    return int(value) if value.isdigit() and not value.startswith("0") else value
