"""Test doubles for the payments service: a gateway at the Gateway seam and a settable clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from daraja.types import PushAccepted, StkResult
from payments.daraja_gateway import DarajaGateway
from payments.rules import PaymentRules
from payments.service import PaymentService

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 12:00 in Nairobi
ADMINS = (1000, 1001)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class FakeGateway:
    """Implements `payments.ports.Gateway`; records calls, answers as scripted."""

    push_error: BaseException | None = None
    push_gate: asyncio.Event | None = None  # when set, stk_push waits for it
    query_gate: asyncio.Event | None = None
    query_answers: dict[str, list[Any]] = field(default_factory=dict)
    pushes: list[dict[str, Any]] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    on_push: Any = None  # async callable(PushAccepted) run before answering (early callback)

    async def stk_push(
        self,
        *,
        phone: str,
        amount: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> PushAccepted:
        self.pushes.append(
            {
                "phone": phone,
                "amount": amount,
                "account_reference": account_reference,
                "description": description,
                "callback_url": callback_url,
            }
        )
        if self.push_gate is not None:
            await self.push_gate.wait()
        if self.push_error is not None:
            raise self.push_error
        n = len(self.pushes)
        accepted = PushAccepted(
            merchant_request_id=f"29115-{n}",
            checkout_request_id=f"ws_CO_0203202612000000{n:04d}",
            response_code="0",
            response_description="Success. Request accepted for processing",
            customer_message="Success. Request accepted for processing",
        )
        if self.on_push is not None:
            await self.on_push(accepted)
        return accepted

    async def stk_query(self, checkout_request_id: str) -> StkResult | None:
        self.queries.append(checkout_request_id)
        if self.query_gate is not None:
            await self.query_gate.wait()
        answers = self.query_answers.get(checkout_request_id) or [None]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer


def make_service(
    gateway: FakeGateway | None = None,
    clock: Clock | None = None,
    rules: PaymentRules | None = None,
) -> PaymentService:
    return PaymentService(
        DarajaGateway(gateway or FakeGateway()),
        rules=rules or PaymentRules(),
        callback_url="https://lipabot.test/payments/callback/token",
        account_reference="DukaLaMama",
        description="Payment",
        admin_chat_ids=ADMINS,
        clock=clock or Clock(),
    )


def callback(
    checkout_request_id: str,
    code: str = "0",
    *,
    amount: int | None = 1500,
    receipt: str | None = "TC2ABCDE12",
    phone: str = "254712345678",
    source: str = "callback",
) -> StkResult:
    """A parsed STK result; success metadata only on code "0" callbacks, like Daraja's."""
    success = code == "0" and source == "callback"
    raw = {"Body": {"stkCallback": {"CheckoutRequestID": checkout_request_id, "ResultCode": code}}}
    return StkResult(
        merchant_request_id="29115-1",
        checkout_request_id=checkout_request_id,
        result_code=code,
        result_desc=f"desc for {code}",
        source=source,  # type: ignore[arg-type]
        amount=amount if success else None,
        receipt=receipt if success else None,
        transaction_date=datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC) if success else None,
        phone=phone if success else None,
        raw=raw,
    )


async def start(
    service: PaymentService,
    *,
    user_id: int = 7,
    amount: int | str = 1500,
    phone: str = "0712345678",
    language: str = "en",
):
    return await service.start_payment(
        user_id=user_id, chat_id=user_id + 100, language=language, amount=amount, phone=phone
    )


async def paid_and_cancelled(clock: Clock) -> None:
    """Two settled payments a moment apart, each with its customer message due: paid, cancelled."""
    service = make_service(clock=clock)
    paid = await start(service, user_id=1, phone="0711000000")
    await service.apply_result(callback(paid.checkout_request_id, amount=1500))
    clock.advance(1)
    cancelled = await start(service, user_id=2, phone="0722000000")
    await service.apply_result(callback(cancelled.checkout_request_id, "1032"))
