"""Builders for the webhooks tests: the `Service` the `service`/`make_service` fixtures open
(tests/integration/webhooks/conftest.py), pending payments and callback bodies."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from config import Settings
from daraja.emulator import Emulator
from offline.fake_telegram import FakeTelegram
from payments.models import Payment
from tests.support.settings import TEST_CALLBACK_TOKEN
from webhooks.wiring import Runtime

CORPUS = Path(__file__).resolve().parents[1] / "data" / "daraja"
BASE_URL = "http://lipabot.test"
CALLBACK = f"/payments/callback/{TEST_CALLBACK_TOKEN}"
WEBHOOK_SECRET = "tg-webhook-secret"  # make_settings' TELEGRAM_WEBHOOK_SECRET


@dataclass
class Service:
    app: Starlette
    settings: Settings
    client: httpx.AsyncClient
    telegram: FakeTelegram

    @property
    def runtime(self) -> Runtime:
        return self.app.state.runtime  # type: ignore[no-any-return]

    @property
    def emulator(self) -> Emulator:
        assert self.runtime.emulator_app is not None
        return self.runtime.emulator_app.state.emulator  # type: ignore[no-any-return]

    def client_for(self, peer: str) -> httpx.AsyncClient:
        """A client whose TCP peer address (as the app sees it) is `peer`."""
        transport = httpx.ASGITransport(app=self.app, client=(peer, 40000))
        return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


ServiceFactory = Callable[..., AbstractAsyncContextManager[Service]]

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
