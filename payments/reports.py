"""The shop owner's figures: Nairobi day ranges, payments in pages, search, totals, daily series.

Read-only over the payment tables (plus `claim`, a once-only marker in `stored_state`); the bot
renders everything here into words, CSV, charts. Days are Africa/Nairobi calendar days and a
payment belongs to the day it was created, as in `/status`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from daraja.timestamps import NAIROBI
from payments.errors import InvalidPhone
from payments.lookups import fits_column
from payments.models import EventKind, Payment, PaymentEvent, StoredState
from payments.rules import normalize_phone, normalize_receipt
from payments.states import PaymentStatus

S = PaymentStatus

#: Rows read per query when going through a range: memory stays flat however long the range,
#: and other work (callbacks, messages) gets the event loop between pages.
PAGE = 200
#: The longest range /export and /report take (a year and a day).
MAX_RANGE_DAYS = 366
#: Digits of a phone number /find needs at least (fewer would match half the shop).
MIN_PHONE_DIGITS = 3
#: Outcomes that count for the success rate (as in /status).
DECIDED = frozenset({S.PAID, S.FAILED, S.CANCELLED, S.EXPIRED, S.PUSH_FAILED})
#: Outcomes listed under "failures by reason".
FAILED = frozenset({S.FAILED, S.CANCELLED, S.EXPIRED, S.PUSH_FAILED})

_DATE = r"\d{4}-\d{2}-\d{2}"
_ONE_DAY = re.compile(rf"({_DATE})")
_TWO_DAYS = re.compile(rf"({_DATE})\s*\.\.\s*({_DATE})")
_LAST_N = re.compile(r"(\d{1,3})d")


class BadRange(ValueError):
    """A range nobody can read: `reason` is "format", "order" or "too_long"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DayRange:
    """Nairobi calendar days `first` to `last`, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        """The first instant of the range, in UTC."""
        return day_start(self.first)

    @property
    def end(self) -> datetime:
        """The first instant after the range, in UTC."""
        return day_start(self.last + timedelta(days=1))

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def day_start(day: date) -> datetime:
    """Midnight in Nairobi starting `day`, as a UTC instant."""
    return datetime.combine(day, time.min, tzinfo=NAIROBI).astimezone(UTC)


def nairobi_day(at: datetime) -> date:
    return at.astimezone(NAIROBI).date()


def last_days(n: int, today: date) -> DayRange:
    """The last `n` days, today included."""
    return DayRange(today - timedelta(days=n - 1), today)


def parse_range(text: str | None, today: date) -> DayRange:
    """`today`, `yesterday`, `7d` (any `Nd`), `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`.

    Empty means today. Raises `BadRange`.
    """
    words = (text or "").strip().lower()
    if words in ("", "today", "leo"):
        return DayRange(today, today)
    if words in ("yesterday", "jana"):
        day = today - timedelta(days=1)
        return DayRange(day, day)
    if match := _LAST_N.fullmatch(words):
        n = int(match[1])
        if n < 1:
            raise BadRange("format")
        return _checked(last_days(n, today))
    if match := _ONE_DAY.fullmatch(words):
        day = _date(match[1])
        return DayRange(day, day)
    if match := _TWO_DAYS.fullmatch(words):
        return _checked(DayRange(_date(match[1]), _date(match[2])))
    raise BadRange("format")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRange("format") from None


def _checked(days: DayRange) -> DayRange:
    if days.last < days.first:
        raise BadRange("order")
    if (days.last - days.first).days + 1 > MAX_RANGE_DAYS:
        raise BadRange("too_long")
    return days


# ---------------------------------------------------------------- payments in pages


def _created_between(start: datetime, end: datetime) -> dict[str, datetime]:
    # In UTC whatever the caller's zone: SQLite stores aware times as text and compares text.
    return {"created_at__gte": start.astimezone(UTC), "created_at__lt": end.astimezone(UTC)}


async def count_payments(start: datetime, end: datetime) -> int:
    return await Payment.filter(**_created_between(start, end)).count()


class PaymentRow(NamedTuple):
    """One payment as /export writes it (plain columns: no model objects built)."""

    id: int
    created_at: datetime
    completed_at: datetime | None
    amount: int
    paid_amount: int | None
    status: str
    result_code: str | None
    result_desc: str | None
    receipt: str | None
    account_reference: str
    phone: str
    user_id: int


async def iter_payments(start: datetime, end: datetime) -> AsyncIterator[PaymentRow]:
    """Payments created in [start, end), oldest first, read `PAGE` rows at a time (by id)."""
    page = PAGE
    after = 0
    while True:
        rows = [
            PaymentRow(*row)
            for row in await Payment.filter(id__gt=after, **_created_between(start, end))
            .order_by("id")
            .limit(page)
            .values_list(*PaymentRow._fields)
        ]
        for row in rows:
            yield row
        if len(rows) < page:
            return
        after = rows[-1].id


# ---------------------------------------------------------------- search


@dataclass(frozen=True, slots=True)
class Found:
    payments: list[Payment]  # newest first, at most the limit asked for
    total: int  # how many matched in all


async def find_payments(key: str, *, limit: int = 5) -> Found:
    """By M-Pesa receipt, account reference or number, or a phone number (whole, or its last
    3+ digits)."""
    text = key.strip()
    ids: set[int] = set()
    receipt = normalize_receipt(text)
    if receipt.isascii() and receipt.isalnum() and fits_column("receipt", receipt):
        ids |= await _ids(Payment.filter(receipt=receipt))
        if fits_column("account_number", receipt):
            ids |= await _ids(Payment.filter(account_number=receipt))
    if text and fits_column("account_reference", text):
        ids |= await _ids(Payment.filter(account_reference__iexact=text))
    ids |= await _by_phone(text)
    newest = sorted(ids, reverse=True)
    payments = await Payment.filter(id__in=newest[:limit]).order_by("-id") if newest else []
    return Found(list(payments), len(newest))


async def _by_phone(text: str) -> set[int]:
    try:
        phone = normalize_phone(text)
    except InvalidPhone:
        digits = re.sub(r"[\s\-]", "", text)
        if not (digits.isascii() and digits.isdigit() and len(digits) >= MIN_PHONE_DIGITS):
            return set()
        return await _ids(Payment.filter(phone__endswith=digits))
    return await _ids(Payment.filter(phone=phone))


async def _ids(query: QuerySet[Payment]) -> set[int]:
    return {int(row["id"]) for row in await query.values("id")}


# ---------------------------------------------------------------- totals


@dataclass(slots=True)
class Totals:
    """What happened to the payments created in a window."""

    count: int = 0
    paid: int = 0  # paid and not flagged: the payments behind `takings`
    decided: int = 0
    takings: int = 0  # shillings received, flagged payments left out
    #: (status, result code or "") → how many, for failed, cancelled, expired, unsent
    failures: Counter[tuple[str, str]] = field(default_factory=Counter)
    flagged: int = 0

    @property
    def success_rate(self) -> float | None:
        return self.paid / self.decided if self.decided else None

    def add(self, status: str, amount: int, paid_amount: int | None, flagged: str | None) -> None:
        self.count += 1
        if flagged:
            self.flagged += 1
        if status in DECIDED:
            self.decided += 1
        if status == S.PAID and not flagged:
            self.paid += 1
            self.takings += paid_amount if paid_amount is not None else amount

    def add_failure(self, status: str, code: str | None) -> None:
        if status in FAILED:
            self.failures[(str(status), code or "")] += 1


def combined(parts: Iterable[Totals]) -> Totals:
    """The totals of several windows (days) together."""
    whole = Totals()
    for part in parts:
        whole.count += part.count
        whole.paid += part.paid
        whole.decided += part.decided
        whole.takings += part.takings
        whole.failures.update(part.failures)
        whole.flagged += part.flagged
    return whole


@dataclass(frozen=True, slots=True)
class WindowReport:
    totals: Totals
    unmatched: int  # callbacks for a CheckoutRequestID we never sent


class _Row(NamedTuple):
    id: int
    created_at: datetime
    status: str
    amount: int
    paid_amount: int | None
    flagged: str | None
    result_code: str | None


_FIGURES = ("id", "created_at", "status", "amount", "paid_amount", "flagged_reason", "result_code")


async def _figures(start: datetime, end: datetime, page: int) -> AsyncIterator[_Row]:
    """The columns totals need, `page` rows at a time."""
    after = 0
    while True:
        rows = [
            _Row(*row)
            for row in await Payment.filter(id__gt=after, **_created_between(start, end))
            .order_by("id")
            .limit(page)
            .values_list(*_FIGURES)
        ]
        for row in rows:
            yield row
        if len(rows) < page:
            return
        after = rows[-1].id


async def window_report(start: datetime, end: datetime) -> WindowReport:
    """Totals of the payments created in [start, end), failures by reason, unmatched callbacks."""
    totals = Totals()
    async for row in _figures(start, end, PAGE):
        totals.add(str(row.status), row.amount, row.paid_amount, row.flagged)
        totals.add_failure(str(row.status), row.result_code)
    unmatched = await (
        PaymentEvent.filter(
            kind=EventKind.UNKNOWN_CHECKOUT, payment_id__isnull=True, **_created_between(start, end)
        )
        .distinct()
        .values_list("checkout_request_id", flat=True)
    )
    return WindowReport(totals, len(set(unmatched)))


async def daily_totals(days: DayRange) -> dict[date, Totals]:
    """Totals per Nairobi day of the range (every day present, empty days too)."""
    by_day = {day: Totals() for day in days.days}
    async for row in _figures(days.start, days.end, PAGE):
        day = nairobi_day(row.created_at)
        if day in by_day:
            by_day[day].add(str(row.status), row.amount, row.paid_amount, row.flagged)
    return by_day


# ---------------------------------------------------------------- once-only claims


async def claim(namespace: str, key: str, *, owner: str) -> bool:
    """Take (namespace, key) for good: True for exactly one caller, across instances.

    The row's unique key makes the database the judge: the insert of a second claimant fails.
    """
    try:
        await StoredState.create(namespace=namespace, key=key, value={"by": owner})
    except IntegrityError:
        return False
    return True


async def release(namespace: str, key: str) -> None:
    """Give a claim back (the job it guarded failed in a way worth trying again)."""
    await StoredState.filter(namespace=namespace, key=key).delete()


async def claimed(namespace: str, keys: Iterable[str]) -> set[str]:
    """Which of `keys` are already claimed."""
    wanted = list(keys)
    if not wanted:
        return set()
    rows = await StoredState.filter(namespace=namespace, key__in=wanted).values_list(
        "key", flat=True
    )
    return {str(key) for key in rows}
