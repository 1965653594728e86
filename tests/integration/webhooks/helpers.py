"""Builders for the webhooks tests: pending payments and callback bodies."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

from payments.models import Payment
from tests.integration.webhooks.conftest import Service

CORPUS = Path(__file__).resolve().parents[2] / "data" / "daraja"
_users = itertools.count(7001)


async def pending_payment(service: Service, amount: int = 100, phone: str | None = None) -> Payment:
    """A payment pushed through the in-process emulator, whose own callback is suppressed."""
    user = next(_users)
    service.emulator.drop_callbacks()
    payment = await service.runtime.service.start_payment(  # type: ignore[union-attr]
        user_id=user,
        chat_id=user,
        language="en",
        amount=amount,
        phone=phone or f"0712{user:06d}",
    )
    assert payment.status == "pending" and payment.checkout_request_id
    return payment


def callback_body(
    payment: Payment, code: int | str = 0, *, receipt: str = "TBF34EVY55", amount: Any = None
) -> dict[str, Any]:
    callback: dict[str, Any] = {
        "MerchantRequestID": "f0b7-410a-bdf6-a93f3f87e2b231952143",
        "CheckoutRequestID": payment.checkout_request_id,
        "ResultCode": code,
        "ResultDesc": "whatever Daraja says today",
    }
    if str(code) == "0":
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": payment.amount if amount is None else amount},
                {"Name": "MpesaReceiptNumber", "Value": receipt},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": 20250215140312},
                {"Name": "PhoneNumber", "Value": int(payment.phone)},
            ]
        }
    return {"Body": {"stkCallback": callback}}


def corpus_callbacks() -> list[str]:
    """Every real STK callback file in the corpus (not the empty body of unknown origin)."""
    return sorted(p.name for p in CORPUS.glob("callback_*.json") if "empty_body" not in p.name)


def corpus_body_for(name: str, payment: Payment) -> dict[str, Any]:
    """A corpus callback re-addressed to `payment`, amount matched in the file's own style."""
    body = copy.deepcopy(json.loads((CORPUS / name).read_text()))
    callback = body["Body"]["stkCallback"]
    callback["CheckoutRequestID"] = payment.checkout_request_id
    for item in callback.get("CallbackMetadata", {}).get("Item", []):
        if item.get("Name") == "Amount":
            item["Value"] = (
                float(payment.amount) if isinstance(item["Value"], float) else payment.amount
            )
    return body
