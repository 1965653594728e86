"""The payments service's log lines never carry a payer's full phone number.

Since late 2022 Daraja's CheckoutRequestID ends with the payer's MSISDN, so logging the id whole
logs the number.
"""

from __future__ import annotations

import logging

import pytest

from daraja.types import PushAccepted
from tests.support.clock import Clock
from tests.support.db import TestDatabase
from tests.support.gateway import FakeDaraja
from tests.support.payments import callback, make_service, start

PHONE = "254712345678"


class PhoneInIdGateway(FakeDaraja):
    """Answers with CheckoutRequestIDs in today's format: time then the payer's number."""

    async def stk_push(self, **kwargs) -> PushAccepted:  # type: ignore[override]
        accepted = await super().stk_push(**kwargs)
        return PushAccepted(
            merchant_request_id=accepted.merchant_request_id,
            checkout_request_id=f"ws_CO_02032026120000{len(self.pushes):03d}{kwargs['phone']}",
            response_code=accepted.response_code,
            response_description=accepted.response_description,
            customer_message=accepted.customer_message,
        )


async def test_push_callback_and_unknown_checkout_log_no_full_phone(
    db: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="payments")
    service = make_service(PhoneInIdGateway(), clock=Clock())
    payment = await start(service, phone=PHONE)
    assert payment.checkout_request_id.endswith(PHONE)
    await service.apply_result(callback(payment.checkout_request_id, "1032"))
    await service.apply_result(callback(payment.checkout_request_id, "1032"))  # duplicate
    await service.apply_result(callback(f"ws_CO_02032026120000999{PHONE}", "0"))  # unknown id

    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("payments"))
    assert "payment #" in text  # the service did log
    assert PHONE not in text
    assert PHONE[3:] not in text  # not even without the country code
