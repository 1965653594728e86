"""No input makes either webhook answer 500: random JSON shapes, seeded so failures repeat."""

from __future__ import annotations

import random
from typing import Any

from tests.support.webhooks import CALLBACK, WEBHOOK_SECRET, Service

KEYS = [
    "Body", "stkCallback", "CheckoutRequestID", "MerchantRequestID", "ResultCode", "ResultDesc",
    "CallbackMetadata", "Item", "Name", "Value", "Amount", "MpesaReceiptNumber", "PhoneNumber",
    "TransactionDate", "update_id", "message", "chat", "from", "text", "callback_query", "id",
]  # fmt: skip


def _value(rng: random.Random, depth: int) -> Any:
    choice = rng.randrange(9 if depth < 6 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, 1, -1, 2**63, 1032, 1.5, 1e308])
    if choice == 3:
        return rng.choice(["", "0", "ws_CO_1", "\u0000", "ü" * 50, "1032", "254712345678"])
    if choice == 4:
        return rng.choice(KEYS)
    if choice == 5:
        return {}
    if choice in (6, 7):
        return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randrange(1, 5))}
    return [_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]


def _shaped(rng: random.Random) -> Any:
    """Mostly callback-like skeletons with random leaves, sometimes anything at all."""
    if rng.random() < 0.3:
        return _value(rng, 0)
    callback = {key: _value(rng, 3) for key in rng.sample(KEYS[2:7], rng.randrange(0, 5))}
    if rng.random() < 0.5:
        callback["CallbackMetadata"] = {"Item": [_value(rng, 4) for _ in range(rng.randrange(5))]}
    return {"Body": {"stkCallback": callback}}


async def test_random_bodies_never_get_a_500(service: Service) -> None:
    rng = random.Random(20261128)
    statuses: set[int] = set()
    for _ in range(150):
        body = _shaped(rng)
        callback = await service.client.post(CALLBACK, json=body)
        telegram = await service.client.post(
            "/telegram/webhook",
            json={"update_id": rng.randrange(1, 10**6), "message": body}
            if rng.random() < 0.5
            else body,
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        )
        statuses.update({callback.status_code, telegram.status_code})
        assert callback.status_code in (200, 400), (body, callback.text)
        assert telegram.status_code in (200, 400), (body, telegram.text)
    assert 400 in statuses
    assert (await service.client.get("/healthz")).status_code == 200
