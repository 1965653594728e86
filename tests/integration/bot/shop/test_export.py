"""/export: a CSV of exactly the payments created in a range of Nairobi days."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from bot.texts import t
from daraja.timestamps import now_utc
from offline.fake_telegram import FakeTelegram, FakeUser
from payments import reports
from payments.states import PaymentStatus
from tests.support.bot import BotHarness
from tests.support.shop import add_payment, uploads

S = PaymentStatus
COLUMNS = t("en", "export_columns").split("|")


def exported(fake: FakeTelegram, admin: FakeUser) -> tuple[list[dict[str, str]], str]:
    """The rows of the newest CSV the bot sent, and its caption."""
    document = uploads(fake, admin, "document")[-1]
    assert document.file is not None
    data = document.file.data
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == COLUMNS if rows else True
    return rows, document.text


async def test_range_edges_are_nairobi_midnights(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser
) -> None:
    # 2026-11-30..2026-12-01 in Nairobi (UTC+3) is [2026-11-29 21:00, 2026-12-01 21:00) UTC.
    before = datetime(2026, 11, 29, 20, 59, 59, tzinfo=UTC)
    first = datetime(2026, 11, 29, 21, 0, 0, tzinfo=UTC)
    last = datetime(2026, 12, 1, 20, 59, 59, tzinfo=UTC)
    after = datetime(2026, 12, 1, 21, 0, 0, tzinfo=UTC)
    await add_payment(before, receipt="RCPTBEFORE")
    await add_payment(
        first, receipt="RCPTFIRST", completed_at=first + timedelta(seconds=40), user_id=77
    )
    await add_payment(
        last, status=S.CANCELLED, result_code="1032", result_desc="Request cancelled by user"
    )
    await add_payment(after, receipt="RCPTAFTER")

    await shop.say(admin_user, "/export 2026-11-30..2026-12-01")

    rows, caption = exported(fake_telegram, admin_user)
    assert [row["created (Nairobi)"] for row in rows] == [
        "2026-11-30 00:00:00",
        "2026-12-01 23:59:59",
    ]
    paid, cancelled = rows
    assert paid == {
        "created (Nairobi)": "2026-11-30 00:00:00",
        "completed (Nairobi)": "2026-11-30 00:00:40",
        "amount": "500",
        "paid amount": "500",
        "status": "paid",
        "result code": "0",
        "reason": "Paid: M-Pesa completed the payment.",
        "receipt": "RCPTFIRST",
        "reference": "lipabot",
        "phone": "2547•••••678",
        "Telegram user id": "77",
    }
    assert (cancelled["status"], cancelled["result code"]) == ("cancelled", "1032")
    assert (
        cancelled["receipt"] == cancelled["completed (Nairobi)"] == cancelled["paid amount"] == ""
    )
    assert "cancel" in cancelled["reason"].lower()
    assert caption == t("en", "export_caption", first="30 Nov 2026", last="1 Dec 2026", rows=2)
    assert "254712345678" not in str(rows)  # phones are masked


async def test_one_day(shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser) -> None:
    await add_payment(datetime(2026, 11, 30, 20, 59, tzinfo=UTC), receipt="RCPTDAY1")
    await add_payment(datetime(2026, 11, 30, 21, 0, tzinfo=UTC), receipt="RCPTDAY2")
    await shop.say(admin_user, "/export 2026-11-30")
    rows, _ = exported(fake_telegram, admin_user)
    assert [row["receipt"] for row in rows] == ["RCPTDAY1"]


async def test_today_and_yesterday(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser
) -> None:
    today = reports.nairobi_day(now_utc())
    midnight = reports.day_start(today)
    await add_payment(midnight, receipt="RCPTTODAY")
    await add_payment(midnight - timedelta(seconds=1), receipt="RCPTYDAY")
    await add_payment(midnight - timedelta(days=1), receipt="RCPTYDAY0")
    await add_payment(midnight - timedelta(days=1, seconds=1), receipt="RCPTOLD")

    await shop.say(admin_user, "/export")
    rows, _ = exported(fake_telegram, admin_user)
    assert [row["receipt"] for row in rows] == ["RCPTTODAY"]

    await shop.say(admin_user, "/export yesterday")
    rows, _ = exported(fake_telegram, admin_user)
    assert sorted(row["receipt"] for row in rows) == ["RCPTYDAY", "RCPTYDAY0"]

    await shop.say(admin_user, "/export 7d")
    rows, caption = exported(fake_telegram, admin_user)
    assert len(rows) == 4 and "4 rows" in caption


async def test_large_ranges_are_read_in_pages(
    shop: BotHarness,
    fake_telegram: FakeTelegram,
    admin_user: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reports, "PAGE", 3)  # 8 payments: pages of 3, 3 and 2
    start = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    for n in range(8):
        await add_payment(start + timedelta(minutes=n), receipt=f"RCPTPAGE{n}")
    await shop.say(admin_user, "/export 2026-11-30")
    rows, caption = exported(fake_telegram, admin_user)
    assert [row["receipt"] for row in rows] == [f"RCPTPAGE{n}" for n in range(8)]
    assert "8 rows" in caption


async def test_formulas_from_outside_are_not_run_by_spreadsheets(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser
) -> None:
    await add_payment(
        datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
        status=S.PUSH_FAILED,
        result_code="push:rejected",
        result_desc='=HYPERLINK("http://x")',
    )
    await shop.say(admin_user, "/export 2026-11-30")
    rows, _ = exported(fake_telegram, admin_user)
    assert rows[0]["reason"] == '\'=HYPERLINK("http://x")'


async def test_nothing_in_the_range(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser
) -> None:
    reply = await shop.say(admin_user, "/export 2026-11-30")
    assert reply == t("en", "export_empty", first="30 Nov 2026", last="30 Nov 2026")
    assert uploads(fake_telegram, admin_user, "document") == []


@pytest.mark.parametrize(
    ("argument", "key"),
    [
        ("last week", "range_bad_format"),
        ("2026-02-30", "range_bad_format"),
        ("30/11/2026", "range_bad_format"),
        ("0d", "range_bad_format"),
        ("2026-12-05..2026-12-01", "range_bad_order"),
        ("2025-01-01..2026-01-02", "range_bad_too_long"),
        ("400d", "range_bad_too_long"),
    ],
)
async def test_bad_ranges_are_explained(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser, argument: str, key: str
) -> None:
    reply = await shop.say(admin_user, f"/export {argument}")
    assert reply == t("en", key, text=argument, days=reports.MAX_RANGE_DAYS)
    assert uploads(fake_telegram, admin_user, "document") == []


async def test_only_admins_export(
    shop: BotHarness, fake_telegram: FakeTelegram, customer: FakeUser
) -> None:
    await add_payment(now_utc())
    assert await shop.say(customer, "/export") == t("en", "admin_only")
    assert uploads(fake_telegram, customer, "document") == []
