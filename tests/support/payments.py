"""Builders for the payments service tests: a service on fakes, parsed results, a payment."""

from __future__ import annotations

from datetime import UTC, datetime

from daraja.types import StkResult
from payments.daraja_gateway import DarajaGateway
from payments.rules import PaymentRules
from payments.service import PaymentService
from tests.support.clock import Clock
from tests.support.gateway import FakeDaraja

ADMINS = (1000, 1001)


def make_service(
    gateway: FakeDaraja | None = None,
    clock: Clock | None = None,
    rules: PaymentRules | None = None,
) -> PaymentService:
    return PaymentService(
        DarajaGateway(gateway or FakeDaraja()),
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
