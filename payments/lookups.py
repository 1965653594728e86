"""Read-only views of payments for the bot and admins: find, lists, timeline, day summary.

`PaymentService` inherits these, so callers have one object; nothing here changes a payment
(`set_status_message`, in the service base, only remembers which chat message shows it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from daraja.timestamps import NAIROBI, now_utc
from payments.errors import InvalidPhone, PaymentNotFound
from payments.models import Payment, PaymentEvent
from payments.rules import normalize_phone, normalize_receipt
from payments.states import DECIDED_STATES, WAITING_STATES, PaymentStatus

S = PaymentStatus


def fits_column(field: str, text: str) -> bool:
    """Whether `text` fits the payment column `field`: a longer value can match no row, and
    the ORM refuses to compare it (a varchar overflow), so a lookup must not ask."""
    max_length = getattr(Payment._meta.fields_map[field], "max_length", None)
    return max_length is None or len(text) <= max_length


@dataclass(frozen=True, slots=True)
class DaySummary:
    day: date  # a Nairobi calendar day
    counts: dict[str, int]  # payments created that day, by status
    total_received: int  # shillings paid (flagged payments excluded)
    success_rate: float | None  # paid / decided, None before anything was decided
    pending_now: int  # waiting for M-Pesa right now, whatever the day
    last_callback_at: datetime | None


class PaymentLookups:
    clock: Callable[[], datetime] = staticmethod(now_utc)

    def now(self) -> datetime:
        # Always UTC: SQLite keeps aware datetimes as text, so comparisons need one offset.
        return self.clock().astimezone(UTC)

    async def get(self, payment_id: int) -> Payment:
        """The payment, or `PaymentNotFound`."""
        payment = await Payment.get_or_none(id=payment_id)
        if payment is None:
            raise PaymentNotFound(payment_id)
        return payment

    async def find(self, ref: str) -> Payment | None:
        """By id (`42`, `#42`), CheckoutRequestID, M-Pesa receipt, or phone (latest)."""
        text = str(ref).strip()
        if not text:
            return None
        number = text.removeprefix("#")
        if number.isascii() and number.isdigit() and len(number) <= 9:
            found = await Payment.get_or_none(id=int(number))
            if found is not None:
                return found
        found = None
        if fits_column("checkout_request_id", text):
            found = await Payment.get_or_none(checkout_request_id=text)
        receipt = normalize_receipt(text)
        if (
            found is None
            and receipt.isascii()
            and receipt.isalnum()
            and fits_column("receipt", receipt)
        ):
            found = await Payment.get_or_none(receipt=receipt)
        if found is not None:
            return found
        try:
            msisdn = normalize_phone(text)
        except InvalidPhone:
            return None
        return await Payment.filter(phone=msisdn).order_by("-id").first()

    async def recent_for_user(self, user_id: int, limit: int = 5) -> list[Payment]:
        return await Payment.filter(user_id=user_id).order_by("-id").limit(limit)

    async def recent(self, limit: int = 10) -> list[Payment]:
        return await Payment.all().order_by("-id").limit(limit)

    async def pending(self) -> list[Payment]:
        """Payments waiting for M-Pesa's word (pushing, pending, unknown), oldest first."""
        return await Payment.filter(status__in=list(WAITING_STATES)).order_by("id")

    async def pending_older_than(self, seconds: float) -> list[Payment]:
        cutoff = self.now() - timedelta(seconds=seconds)
        waiting = Payment.filter(status__in=list(WAITING_STATES), pushed_at__lt=cutoff)
        return await waiting.order_by("id")

    async def timeline(self, payment_id: int) -> list[PaymentEvent]:
        return await PaymentEvent.filter(payment_id=payment_id).order_by("id")

    async def last_phone_for_user(self, user_id: int) -> str | None:
        latest = await Payment.filter(user_id=user_id).order_by("-id").first()
        return latest.phone if latest else None

    async def day_summary(self, day: date | None = None) -> DaySummary:
        """Counts and money for one Nairobi calendar day (today by default)."""
        day = day or self.now().astimezone(NAIROBI).date()
        start = datetime.combine(day, time.min, tzinfo=NAIROBI).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=NAIROBI).astimezone(UTC)
        rows = await Payment.filter(created_at__gte=start, created_at__lt=end).values_list(
            "status", "amount", "paid_amount", "flagged_reason"
        )
        counts: dict[str, int] = {}
        total = 0
        for status, amount, paid_amount, flagged in rows:
            counts[str(status)] = counts.get(str(status), 0) + 1
            if status == S.PAID and not flagged:
                total += paid_amount if paid_amount is not None else amount
        decided = sum(counts.get(str(s), 0) for s in DECIDED_STATES)
        last_callback = await PaymentEvent.filter(source="callback").order_by("-id").first()
        return DaySummary(
            day=day,
            counts=counts,
            total_received=total,
            success_rate=(counts.get(S.PAID, 0) / decided) if decided else None,
            pending_now=await Payment.filter(status__in=list(WAITING_STATES)).count(),
            last_callback_at=last_callback.created_at if last_callback else None,
        )
