"""The emulator's memory and its control switches: tokens, STK requests, scheduled callbacks.

`Emulator` is what `app.state.emulator` holds. The HTTP routes (`routes.py`, `control.py`) call
it, and tests call the same methods directly. Callbacks run as asyncio tasks on the loop that
served the push; `await emulator.drain()` waits until each has been attempted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx

from daraja.emulator.c2b import C2BDesk
from daraja.emulator.ids import checkout_request_id, merchant_request_id, receipt_number
from daraja.emulator.scenarios import (
    MAX_PROMPT_CHARS,
    SCENARIOS,
    Scenario,
    prompt_text,
    scenario_for_code,
    scenario_for_phone,
)
from daraja.emulator.validation import SERVER_FAULT, DarajaFault, PushRequest
from daraja.timestamps import daraja_timestamp, now_utc

log = logging.getLogger("daraja.emulator")

TOKEN_LIFETIME = timedelta(seconds=3600)
Clock = Callable[[], datetime]
AmountStyle = Literal["integer", "decimal"]
BalanceStyle = Literal["valueless", "absent", "zero"]
# Stands in for a two-decimal amount literal (`10.00`) that json.dumps cannot write itself.
_DECIMAL_MARK = "__emulator_decimal_amount__"


def encode_callback(body: dict[str, Any]) -> bytes:
    """JSON bytes of a callback; a marked amount becomes a two-decimal number literal."""
    text = json.dumps(body)
    text = re.sub(rf'"{_DECIMAL_MARK}(\d+)"', r"\1.00", text)
    return text.encode()


def mask_phone(phone: str) -> str:
    """Phones are personal data even in an emulator's log."""
    return f"{phone[:4]}*****{phone[-3:]}" if len(phone) > 7 else "***"


@dataclass(slots=True)
class Switches:
    """Delivery switches for one push: copies, drop, and a late second callback."""

    copies: int = 1
    drop: bool = False
    late: Scenario | None = None
    late_after: float | None = None

    def merged(self, other: Switches | None) -> Switches:
        if other is None:
            return self
        return Switches(
            copies=max(self.copies, other.copies),
            drop=self.drop or other.drop,
            late=other.late or self.late,
            late_after=other.late_after if other.late else self.late_after,
        )


@dataclass(slots=True)
class Delivery:
    """One attempt to POST a callback: what was sent and what the receiver answered."""

    url: str
    result_code: str
    merchant_request_id: str
    status_code: int | None
    error: str | None
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "result_code": self.result_code,
            "merchant_request_id": self.merchant_request_id,
            "status_code": self.status_code,
            "error": self.error,
            "at": self.at.isoformat(),
        }


@dataclass(slots=True)
class StkRequest:
    """One accepted push and everything the emulator did with it."""

    checkout_request_id: str
    merchant_request_id: str
    push: PushRequest
    scenario: Scenario
    switches: Switches
    delay: float
    created_at: datetime
    status: Literal["pending", "completed"] = "pending"
    completed_at: datetime | None = None
    receipt: str | None = None
    transaction_date: datetime | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    fire: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def phone(self) -> str:
        return self.push.phone

    def to_dict(self) -> dict[str, Any]:
        return {
            "checkout_request_id": self.checkout_request_id,
            "merchant_request_id": self.merchant_request_id,
            "phone": self.phone,
            "amount": self.push.amount,
            "account_reference": self.push.account_reference,
            "callback_url": self.push.callback_url,
            "status": self.status,
            "result_code": self.scenario.code if self.status == "completed" else None,
            "result_desc": self.scenario.desc if self.status == "completed" else None,
            "receipt": self.receipt,
            "created_at": self.created_at.isoformat(),
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "copies": self.switches.copies,
            "dropped": self.switches.drop,
            "late_result_code": self.switches.late.code if self.switches.late else None,
            "deliveries": [d.to_dict() for d in self.deliveries],
        }


class Emulator:
    """State and control API of one emulated Daraja (one shortcode)."""

    def __init__(
        self,
        *,
        shortcode: str,
        passkey: str,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        callback_delay: float = 2.0,
        http: httpx.AsyncClient | None = None,
        clock: Clock = now_utc,
        scenarios: Mapping[str, Scenario] = SCENARIOS,
        timestamp_tolerance: float = 600.0,
        merchant_name: str = "LIPABOT EMULATOR",
    ) -> None:
        self.shortcode = shortcode
        self.passkey = passkey
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.clock = clock
        self.scenarios = dict(scenarios)
        self.timestamp_tolerance = timedelta(seconds=timestamp_tolerance)
        self.merchant_name = merchant_name
        self._initial_delay = callback_delay
        self._http = http
        self._owns_http = http is None
        self._tasks: set[asyncio.Task[None]] = set()
        self._hang_release = asyncio.Event()
        self.c2b = C2BDesk(self)
        self.reset()

    # ----- control API (the HTTP control routes call exactly these) -----

    def reset(self) -> None:
        """Forget every request, token and switch; cancel callbacks not yet sent."""
        for task in self._tasks:
            task.cancel()
        self._hang_release.set()
        self._hang_release = asyncio.Event()
        self.callback_delay = self._initial_delay
        self.tokens: dict[str, datetime] = {}
        self.requests: dict[str, StkRequest] = {}
        self._locks: dict[str, str] = {}
        self._outcomes: dict[str, Scenario] = {}
        self._next = Switches()
        self._by_phone: dict[str, Switches] = {}
        self._faults: list[DarajaFault] = []
        self._hang: tuple[float, bool] | None = None
        self.amount_style: AmountStyle = "integer"
        self.balance_style: BalanceStyle = "valueless"
        self.c2b.reset()

    def set_outcome(
        self, phone: str, result_code: str | int, result_desc: str | None = None
    ) -> None:
        """Every later push to `phone` ends with `result_code` (overrides the magic table)."""
        self._outcomes[phone] = scenario_for_code(result_code, result_desc)

    def clear_outcome(self, phone: str) -> None:
        self._outcomes.pop(phone, None)

    def set_callback_delay(self, seconds: float) -> None:
        """Seconds between an accepted push and its result, for pushes from now on."""
        if seconds < 0:
            raise ValueError("callback delay must be >= 0")
        self.callback_delay = seconds

    def duplicate_callbacks(self, copies: int = 2, *, phone: str | None = None) -> None:
        """Deliver `copies` identical callbacks: for the next push, or every push to `phone`."""
        if copies < 1:
            raise ValueError("copies must be >= 1")
        self._switch(phone).copies = copies

    def drop_callbacks(self, *, phone: str | None = None) -> None:
        """Send no callback (the result is then only visible through the query API)."""
        self._switch(phone).drop = True

    def late_second_callback(
        self,
        result_code: str | int = "1019",
        *,
        after: float | None = None,
        phone: str | None = None,
        result_desc: str | None = None,
    ) -> None:
        """After the first callback, send a second terminal one with another MerchantRequestID.

        Real logs show 1037 or 2001 followed by 1019 for the same CheckoutRequestID.
        `after` defaults to the callback delay.
        """
        switch = self._switch(phone)
        switch.late = scenario_for_code(result_code, result_desc)
        switch.late_after = after

    def spike_arrest(self, count: int = 1, *, busy: bool = False) -> None:
        """Refuse the next `count` pushes with 500.003.02 (spike arrest or "System is busy")."""
        message = (
            "System is busy. Please try again in few minutes."
            if busy
            else "Error Occurred: Spike Arrest Violation"
        )
        self._faults.extend(DarajaFault(500, "500.003.02", message) for _ in range(count))

    def hang_next_push(self, seconds: float = 60.0, *, processed: bool = True) -> None:
        """Answer the next push only after `seconds` (longer than the client's timeout).

        With `processed` the push is accepted and its callback scheduled before the hang, which is
        the dangerous case: the client sees a timeout but the customer still gets a prompt.
        """
        self._hang = (seconds, processed)

    def set_callback_style(
        self, *, amount: AmountStyle = "integer", balance: BalanceStyle = "valueless"
    ) -> None:
        """Shape success callbacks like other eras of real traffic (docs/DARAJA.md §5.2, §9).

        `amount`: "integer" (`10`, current) or "decimal" (`10.00`, before April 2025).
        `balance`: "valueless" (`{"Name":"Balance"}`, most common), "absent", or "zero".
        """
        if amount not in ("integer", "decimal") or balance not in ("valueless", "absent", "zero"):
            raise ValueError("amount is integer|decimal, balance is valueless|absent|zero")
        self.amount_style = amount
        self.balance_style = balance

    def expire_tokens(self) -> None:
        """Make every issued access token invalid (as if an hour had passed)."""
        self.tokens.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        """Every request and its state, oldest first (GET /emulator/requests)."""
        return [r.to_dict() for r in self.requests.values()]

    def get(self, checkout_request_id: str) -> StkRequest | None:
        return self.requests.get(checkout_request_id)

    async def complete_now(self, checkout_request_id: str) -> None:
        """Stop waiting for the delay: finish this request and send its callback now."""
        request = self.requests.get(checkout_request_id)
        if request is None:
            raise KeyError(checkout_request_id)
        request.fire.set()
        await asyncio.sleep(0)

    async def drain(self) -> None:
        """Wait until every scheduled callback (including late second ones) has been attempted.

        Bound it with `asyncio.timeout(...)` when delays are long.
        """
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel pending callbacks, release hung pushes, close the HTTP client we created."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._hang_release.set()
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    # ----- used by the Daraja routes -----

    def issue_token(self, key: str, secret: str) -> str | None:
        """A new access token, or None when configured credentials do not match."""
        if self.consumer_key is not None and key != self.consumer_key:
            return None
        if self.consumer_secret is not None and secret != self.consumer_secret:
            return None
        token = secrets.token_urlsafe(21)
        self.tokens[token] = self.clock() + TOKEN_LIFETIME
        return token

    def token_valid(self, authorization: str | None) -> bool:
        scheme, _, token = (authorization or "").partition(" ")
        expires = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        return expires is not None and self.clock() < expires

    def take_fault(self) -> DarajaFault | None:
        """The next queued transient fault (spike arrest), if any."""
        return self._faults.pop(0) if self._faults else None

    def take_hang(self) -> tuple[float, bool] | None:
        hang, self._hang = self._hang, None
        return hang

    async def hang(self, seconds: float) -> None:
        """Sleep like a stuck gateway; reset() and aclose() cut it short."""
        try:
            await asyncio.wait_for(self._hang_release.wait(), seconds)
        except TimeoutError:
            pass

    def accept(self, push: PushRequest) -> StkRequest:
        """Lock the subscriber, record the request and schedule its result."""
        if push.phone in self._locks:
            raise DarajaFault(
                500,
                SERVER_FAULT,
                "Unable to lock subscriber, a transaction is already in process for the "
                "current subscriber",
            )
        now = self.clock()
        checkout_id = checkout_request_id(now, push.phone)
        while checkout_id in self.requests:  # two pushes in one millisecond: keep ids unique
            now += timedelta(milliseconds=1)
            checkout_id = checkout_request_id(now, push.phone)
        request = StkRequest(
            checkout_request_id=checkout_id,
            merchant_request_id=merchant_request_id(),
            push=push,
            scenario=self._scenario(push),
            switches=self._take_switches(push.phone),
            delay=self.callback_delay,
            created_at=now,
        )
        self.requests[checkout_id] = request
        self._locks[push.phone] = checkout_id
        task = asyncio.get_running_loop().create_task(self._run(request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        log.info(
            "emulator accepted push %s phone=%s amount=%s outcome=%s",
            checkout_id.removesuffix(push.phone),
            mask_phone(push.phone),
            push.amount,
            request.scenario.code,
        )
        return request

    # ----- internals -----

    def _switch(self, phone: str | None) -> Switches:
        if phone is None:
            return self._next
        return self._by_phone.setdefault(phone, Switches())

    def _take_switches(self, phone: str) -> Switches:
        switches = replace(self._next).merged(self._by_phone.get(phone))
        self._next = Switches()
        return switches

    def _scenario(self, push: PushRequest) -> Scenario:
        if push.phone in self._outcomes:
            return self._outcomes[push.phone]
        prompt = prompt_text(push.amount, push.account_reference, self.merchant_name)
        if len(prompt) > MAX_PROMPT_CHARS:
            return scenario_for_code("1025")
        return scenario_for_phone(push.phone, self.scenarios)

    async def _run(self, request: StkRequest) -> None:
        try:
            await asyncio.wait_for(request.fire.wait(), request.delay)
        except TimeoutError:
            pass
        self._finish(request)
        c2b = self._c2b_confirmation(request)
        if c2b is not None and self.c2b.stk_order == "before":
            await self.c2b.send_stk_confirmation(c2b)
        if request.switches.drop:
            log.info("emulator dropped callback %s", request.merchant_request_id)
        else:
            body = self.callback_body(request)
            for _ in range(request.switches.copies):
                await self._deliver(request, body)
        if c2b is not None and self.c2b.stk_order == "after":
            await self.c2b.send_stk_confirmation(c2b)
        late = request.switches.late
        if late is not None:
            after = request.switches.late_after
            await asyncio.sleep(request.delay if after is None else after)
            body = self._failure_body(merchant_request_id(), request.checkout_request_id, late)
            await self._deliver(request, body)

    def _finish(self, request: StkRequest) -> None:
        request.status = "completed"
        request.completed_at = self.clock()
        if request.scenario.is_success:
            request.transaction_date = request.completed_at
            request.receipt = receipt_number(request.completed_at)
        if self._locks.get(request.phone) == request.checkout_request_id:
            del self._locks[request.phone]

    def _c2b_confirmation(self, request: StkRequest) -> str | None:
        """The receipt of a PayBill STK payment that also goes to the C2B ConfirmationURL."""
        push = request.push
        if (
            not request.scenario.is_success
            or request.receipt is None
            or request.transaction_date is None
            or push.transaction_type != "CustomerPayBillOnline"
        ):
            return None
        self.c2b.stk_paid(
            push.phone,
            push.amount,
            push.account_reference,
            request.receipt,
            request.transaction_date,
        )
        return request.receipt if self.c2b.stk_transaction(request.receipt) else None

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run `coroutine` as one of the emulator's tasks (`drain()` waits for it)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def http_client(self) -> httpx.AsyncClient:
        return self._client()

    def callback_body(self, request: StkRequest) -> dict[str, Any]:
        """The callback Daraja would POST for a completed request (docs/DARAJA.md §5.1)."""
        if not request.scenario.is_success:
            return self._failure_body(
                request.merchant_request_id, request.checkout_request_id, request.scenario
            )
        assert request.transaction_date is not None and request.receipt is not None
        amount: int | str = request.push.amount
        if self.amount_style == "decimal":
            amount = f"{_DECIMAL_MARK}{request.push.amount}"
        items: list[dict[str, Any]] = [
            {"Name": "Amount", "Value": amount},
            {"Name": "MpesaReceiptNumber", "Value": request.receipt},
        ]
        if self.balance_style == "valueless":
            items.append({"Name": "Balance"})
        elif self.balance_style == "zero":
            items.append({"Name": "Balance", "Value": 0})
        items += [
            {"Name": "TransactionDate", "Value": int(daraja_timestamp(request.transaction_date))},
            {"Name": "PhoneNumber", "Value": int(request.phone)},
        ]
        callback = {
            "MerchantRequestID": request.merchant_request_id,
            "CheckoutRequestID": request.checkout_request_id,
            "ResultCode": 0,
            "ResultDesc": request.scenario.desc,
            "CallbackMetadata": {"Item": items},
        }
        return {"Body": {"stkCallback": callback}}

    @staticmethod
    def _failure_body(merchant_id: str, checkout_id: str, scenario: Scenario) -> dict[str, Any]:
        # Numeric codes are JSON numbers; the odd string codes (SFC_IC0003) stay strings.
        code: int | str = int(scenario.code) if scenario.code.isdigit() else scenario.code
        callback = {
            "MerchantRequestID": merchant_id,
            "CheckoutRequestID": checkout_id,
            "ResultCode": code,
            "ResultDesc": scenario.desc,
        }
        return {"Body": {"stkCallback": callback}}

    def _client(self) -> httpx.AsyncClient:
        # Created lazily: when the emulator is mounted in another app its lifespan never runs.
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10.0)
            self._owns_http = True
        return self._http

    async def _deliver(self, request: StkRequest, body: dict[str, Any]) -> None:
        """POST one callback; failures are logged and recorded, never retried (like Daraja)."""
        callback = body["Body"]["stkCallback"]
        status: int | None = None
        error: str | None = None
        try:
            response = await self._client().post(
                request.push.callback_url,
                content=encode_callback(body),
                headers={"Content-Type": "application/json"},
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "emulator callback %s for phone=%s failed: %s",
                request.merchant_request_id,
                mask_phone(request.phone),
                type(exc).__name__,
            )
        request.deliveries.append(
            Delivery(
                url=request.push.callback_url,
                result_code=str(callback["ResultCode"]),
                merchant_request_id=callback["MerchantRequestID"],
                status_code=status,
                error=error,
                at=self.clock(),
            )
        )
