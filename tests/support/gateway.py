"""The one fake Daraja client, behind the real `payments.daraja_gateway.DarajaGateway`.

It stands where `daraja.client.DarajaClient` stands: it records every push and query, answers
pushes with Daraja's acknowledgement, and raises whatever `daraja.errors` error a test gives it,
so the gateway's translation into payments' own errors runs in every test. It can hold a push or
a query at a gate, run code before answering a push (an early callback, a reconciler pass), and
answer queries from a per-CheckoutRequestID script or with one default answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from daraja.types import PushAccepted, StkResult

#: CheckoutRequestIDs shaped like Daraja's, ending with the payer's number (the bot tests mask
#: them); the default is a plainer sequence the payments tests spell out.
PHONE_ENDING_IDS = "ws_CO_15022025140{n:03d}712345678"
SEQUENCE_IDS = "ws_CO_0203202612000000{n:04d}"


@dataclass
class FakeDaraja:
    push_error: BaseException | None = None
    push_gate: asyncio.Event | None = None  # when set, stk_push waits for it
    query_gate: asyncio.Event | None = None
    #: Answers by CheckoutRequestID, in order (the last one repeats); an exception is raised.
    query_answers: dict[str, list[Any]] = field(default_factory=dict)
    #: The answer to any other query (None: "still being processed").
    query_answer: StkResult | None = None
    on_push: Any = None  # async callable(PushAccepted) run before answering
    checkout_ids: str = SEQUENCE_IDS
    pushes: list[dict[str, Any]] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

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
        await asyncio.sleep(0)  # a concurrent tap gets its chance to interleave here
        if self.push_gate is not None:
            await self.push_gate.wait()
        if self.push_error is not None:
            raise self.push_error
        n = len(self.pushes)
        accepted = PushAccepted(
            merchant_request_id=f"29115-{n}",
            checkout_request_id=self.checkout_ids.format(n=n),
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
        answers = self.query_answers.get(checkout_request_id)
        if not answers:
            return self.query_answer
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer  # type: ignore[no-any-return]

    def pushed(self, *keys: str) -> list[tuple[Any, ...]]:
        """The recorded pushes, each cut down to `keys` (e.g. "phone", "amount")."""
        return [tuple(push[key] for key in keys) for push in self.pushes]


def bot_daraja() -> FakeDaraja:
    """The fake as the bot tests use it: Daraja-shaped ids ending with the payer's number."""
    return FakeDaraja(checkout_ids=PHONE_ENDING_IDS)
