"""/report: a chart of takings and success rate per day, and the totals in words."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from PIL import Image

from bot import views
from bot.texts import t
from daraja.timestamps import now_utc
from offline.fake_telegram import FakeTelegram, FakeUser
from payments import reports
from payments.states import PaymentStatus
from tests.support.bot import BotHarness
from tests.support.shop import add_payment, uploads

S = PaymentStatus


async def seed() -> None:
    today = reports.nairobi_day(now_utc())
    noon = reports.day_start(today) + timedelta(hours=12)
    await add_payment(noon, amount=500)
    await add_payment(noon, amount=350, paid_amount=300)  # what M-Pesa says was paid counts
    await add_payment(noon, status=S.FAILED, result_code="1")
    await add_payment(noon, status=S.PAID, amount=999, flagged_reason="receipt_conflict")
    await add_payment(noon - timedelta(days=3), amount=1000)
    await add_payment(noon - timedelta(days=3), status=S.CANCELLED, result_code="1032")
    await add_payment(noon - timedelta(days=3), status=S.PENDING)  # not decided yet
    await add_payment(noon - timedelta(days=7), amount=4000)  # the 8th day back: not in 7d


def chart_of(fake: FakeTelegram, admin: FakeUser) -> tuple[Image.Image, str]:
    photo = uploads(fake, admin, "photo")[-1]
    assert photo.file is not None and photo.file.data.startswith(b"\x89PNG")
    return Image.open(BytesIO(photo.file.data)), photo.text


async def test_seven_days(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser
) -> None:
    await seed()
    await shop.say(admin_user, "/report")
    image, caption = chart_of(fake_telegram, admin_user)
    assert image.width >= 800 and image.height >= 400
    today = reports.nairobi_day(now_utc())
    lines = caption.split("\n")
    assert (
        lines[0]
        == t(
            "en",
            "report_totals",
            first=views.day_text("en", today - timedelta(days=6)),
            last=views.day_text("en", today),
            takings="X",
            paid=0,
            count=0,
            rate=0,
            average=0,
            best_day=0,
            best=0,
        ).split("\n")[0]
    )
    assert "Takings: KES 1,800 from 3 paid payments" in lines
    # 7 payments created in the week; decided: 3 paid, 1 flagged paid, 1 failed, 1 cancelled
    assert "Payments: 7, success rate 50%" in lines
    assert "Daily average: KES 257" in lines  # 1,800 / 7
    best_day = views.day_text("en", today - timedelta(days=3))
    assert f"Best day: {best_day}, KES 1,000" in lines  # today took 800


async def test_thirty_days(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser
) -> None:
    await seed()
    await shop.say(admin_user, "/report 30d")
    _, caption = chart_of(fake_telegram, admin_user)
    assert "Takings: KES 5,800 from 4 paid payments" in caption.split("\n")
    assert "Best day: " in caption and "KES 4,000" in caption


async def test_an_empty_week_still_draws(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser
) -> None:
    await shop.say(admin_user, "/report 7d")
    _, caption = chart_of(fake_telegram, admin_user)
    assert "Takings: KES 0 from 0 paid payments" in caption
    assert "Best day: —, KES 0" in caption


@pytest.mark.parametrize("argument", ["9d", "week", "7d 30d"])
async def test_other_ranges_get_the_usage(
    shop: BotHarness, fake_telegram: FakeTelegram, admin_user: FakeUser, argument: str
) -> None:
    assert await shop.say(admin_user, f"/report {argument}") == t("en", "report_usage")
    assert uploads(fake_telegram, admin_user, "photo") == []


async def test_only_admins_report(
    shop: BotHarness, fake_telegram: FakeTelegram, customer: FakeUser
) -> None:
    assert await shop.say(customer, "/report") == t("en", "admin_only")
    assert uploads(fake_telegram, customer, "photo") == []
