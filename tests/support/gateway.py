"""Fake payment gateways at the `payments.ports.Gateway` seam (no HTTP, no Daraja).

`FakeGateway` (the payments service tests) answers from scripts, can hold a push or a query at a
gate and run code before answering; `RecordingGateway` (the bot tests) records and answers one
configured query result. Both raise whatever error they are given (`push_error`, or an exception
in `FakeGateway.query_answers`).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from daraja.types import PushAccepted, StkResult


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


@dataclass
class RecordingGateway:
    """Stands in for DarajaClient: records pushes and queries, answers as configured."""

    pushes: list[dict[str, Any]] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    push_error: Exception | None = None
    query_answer: StkResult | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    async def stk_push(
        self,
        *,
        phone: str,
        amount: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> PushAccepted:
        self.pushes.append({"phone": phone, "amount": amount, "reference": account_reference})
        await asyncio.sleep(0)  # a concurrent tap gets its chance to interleave here
        if self.push_error is not None:
            raise self.push_error
        n = next(self._ids)
        return PushAccepted(
            merchant_request_id=f"29115-3462-{n}",
            checkout_request_id=f"ws_CO_15022025140{n:03d}712345678",
            response_code="0",
            response_description="Success. Request accepted for processing",
            customer_message="Success. Request accepted for processing",
        )

    async def stk_query(self, checkout_request_id: str) -> StkResult | None:
        self.queries.append(checkout_request_id)
        return self.query_answer
