"""Builders for the shop owner's command tests: payments made to order, uploads, QR reading.

Payments are written straight into the table with the times a test needs (a range's edges, a
day last week): the commands under test only read them.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from io import BytesIO

from offline.fake_telegram import FakeTelegram, FakeUser, StoredMessage
from payments.models import Payment
from payments.states import PaymentStatus

_checkouts = itertools.count(1)


async def add_payment(
    created_at: datetime,
    *,
    status: PaymentStatus = PaymentStatus.PAID,
    amount: int = 500,
    paid_amount: int | None = None,
    receipt: str | None = None,
    reference: str = "lipabot",
    phone: str = "254712345678",
    user_id: int = 4242,
    result_code: str | None = None,
    result_desc: str | None = None,
    flagged_reason: str | None = None,
    completed_at: datetime | None = None,
) -> Payment:
    """A payment as the service would have left it, created at `created_at`."""
    paid = status == PaymentStatus.PAID
    return await Payment.create(
        user_id=user_id,
        chat_id=user_id,
        amount=amount,
        phone=phone,
        account_reference=reference,
        checkout_request_id=f"ws_CO_shop_{next(_checkouts)}",
        status=status,
        result_code=result_code if result_code is not None else ("0" if paid else None),
        result_desc=result_desc,
        receipt=receipt,
        paid_amount=paid_amount if paid_amount is not None else (amount if paid else None),
        flagged_reason=flagged_reason,
        created_at=created_at,
        updated_at=completed_at or created_at,
        completed_at=completed_at,
    )


def uploads(fake: FakeTelegram, user: FakeUser, kind: str) -> list[StoredMessage]:
    """The photos or documents the bot sent `user`, oldest first."""
    return [m for m in fake.chat_messages(user.id) if m.kind == kind]


def decode_qr(png: bytes) -> list[str]:
    """Every QR code a reader finds in the picture (zxing-cpp, as a phone's camera would)."""
    import zxingcpp
    from PIL import Image

    return [result.text for result in zxingcpp.read_barcodes(Image.open(BytesIO(png)))]
