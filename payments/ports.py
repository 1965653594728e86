"""What the payments service needs from the outside world, as small protocols.

`daraja.client.DarajaClient` satisfies `Gateway`; tests may pass any object with these methods.
"""

from __future__ import annotations

from typing import Protocol

from daraja.types import PushAccepted, StkResult


class Gateway(Protocol):
    async def stk_push(
        self,
        *,
        phone: str,
        amount: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> PushAccepted: ...

    async def stk_query(self, checkout_request_id: str) -> StkResult | None:
        """The final result, or None while Daraja says "The transaction is being processed"."""
        ...
