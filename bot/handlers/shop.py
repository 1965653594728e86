"""The shop owner's commands (admins only): /link, /export, /find, /report.

/link draws a QR code for a payment deep link; /export sends the payments of a range of Nairobi
days as a CSV file; /find shows payments by receipt, reference or phone digits as /status cards;
/report draws takings and success rate per day. The figures come from `payments.reports`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from datetime import date
from typing import IO

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot import deep_links, views
from bot.chart import ChartDay, ChartWords, takings_chart_png
from bot.context import PRIVATE, BotContext
from bot.handlers.admin import _payment_card as payment_card  # the /status card, as it is
from bot.handlers.admin import admin_only
from bot.qr import payment_qr_png
from bot.texts import money, t
from daraja.result_codes import describe
from daraja.timestamps import NAIROBI, now_utc
from payments import reports
from payments.errors import InvalidAmount
from payments.rules import mask_phone, parse_amount

#: Cards /find shows at most (each is a message of its own).
FIND_LIMIT = 5
#: Ranges /report draws.
REPORT_DAYS = {"7d": 7, "30d": 30}
#: The largest file Telegram lets a bot send.
TELEGRAM_FILE_LIMIT = 50 * 1024 * 1024
#: What a spreadsheet would run as a formula at the start of a cell.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def today() -> date:
    return reports.nairobi_day(now_utc())


# ---------------------------------------------------------------- /link


@admin_only
async def link(update: Update, context: BotContext) -> None:
    """/link [amount] [reference]: a QR code of the payment deep link, the link in the caption."""
    lang = context.lang(update)
    args = context.args or []
    amount = None
    if args:
        try:
            amount = parse_amount(args[0], context.payments.rules)
        except InvalidAmount as exc:
            await _reply(update, _bad_amount(lang, exc, args[0]))
            return
    reference = " ".join(args[1:]) or None
    if reference is not None and not deep_links.valid_reference(reference):
        await _reply(update, t(lang, "link_bad_reference", reference=reference[:40]))
        return
    url = deep_links.link(context.bot.username, deep_links.payload(amount, reference))
    merchant = context.settings.merchant_name
    png = await asyncio.to_thread(
        payment_qr_png, url, [merchant, _under_code(lang, amount, reference)]
    )
    if amount is None:
        caption = t(lang, "link_caption_any", merchant=merchant, link=url)
    else:
        ref = t(lang, "link_reference", reference=reference) if reference else ""
        caption = t(
            lang, "link_caption", merchant=merchant, amount=money(amount), reference=ref, link=url
        )
    chat = update.effective_chat
    assert chat is not None
    name = "-".join(["lipa", *(str(part) for part in (amount, reference) if part)])
    await chat.send_photo(png, caption=caption, filename=f"{name}.png")


def _bad_amount(lang: str, exc: InvalidAmount, text: str) -> str:
    return t(
        lang,
        "link_bad_amount",
        text=text[:20],
        minimum=money(exc.minimum),
        maximum=money(exc.maximum),
    )


def _under_code(lang: str, amount: int | None, reference: str | None) -> str:
    if amount is None:
        return t(lang, "link_image_any")
    if reference:
        return t(lang, "link_image_reference", amount=money(amount), reference=reference)
    return t(lang, "link_image_amount", amount=money(amount))


# ---------------------------------------------------------------- /export


@admin_only
async def export(update: Update, context: BotContext) -> None:
    """/export [range]: the payments created in the range as CSV (UTF-8 with BOM, for Excel)."""
    lang = context.lang(update)
    days = await _range(update, context, lang)
    if days is None:
        return
    first, last = views.day_text(lang, days.first), views.day_text(lang, days.last)
    with tempfile.TemporaryFile() as file:
        rows = await write_csv(file, days, lang)
        if rows == 0:
            await _reply(update, t(lang, "export_empty", first=first, last=last))
            return
        if file.tell() > TELEGRAM_FILE_LIMIT:
            await _reply(update, t(lang, "export_too_big", mb=file.tell() // 2**20))
            return
        file.seek(0)
        chat = update.effective_chat
        assert chat is not None
        await chat.send_document(
            file,
            filename=f"payments_{days.first}_{days.last}.csv",
            caption=t(lang, "export_caption", first=first, last=last, rows=f"{rows:,}"),
        )


async def _range(update: Update, context: BotContext, lang: str) -> reports.DayRange | None:
    text = " ".join(context.args or [])
    try:
        return reports.parse_range(text, today())
    except reports.BadRange as exc:
        reply = t(lang, f"range_bad_{exc.reason}", text=text[:40], days=reports.MAX_RANGE_DAYS)
        await _reply(update, reply)
        return None


async def write_csv(file: IO[bytes], days: reports.DayRange, lang: str) -> int:
    """Write the range's payments to `file` a page at a time; returns the number of rows."""
    file.write("\ufeff".encode())  # the BOM: Excel then reads the file as UTF-8
    file.write(_csv_lines([t(lang, "export_columns").split("|")]))
    rows = 0
    page: list[list[str]] = []
    async for payment in reports.iter_payments(days.start, days.end):
        page.append(_csv_row(payment))
        if len(page) >= reports.PAGE:
            file.write(_csv_lines(page))
            rows += len(page)
            page = []
    file.write(_csv_lines(page))
    return rows + len(page)


def _csv_lines(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def _csv_row(p: reports.PaymentRow) -> list[str]:
    return [
        _local(p.created_at),
        _local(p.completed_at),
        str(p.amount),
        "" if p.paid_amount is None else str(p.paid_amount),
        str(p.status),
        p.result_code or "",
        _cell(_reason(p)),
        _cell(p.receipt or ""),
        _cell(p.account_reference or ""),
        mask_phone(p.phone),
        str(p.user_id),
    ]


def _local(at: object) -> str:
    return at.astimezone(NAIROBI).strftime("%Y-%m-%d %H:%M:%S") if at else ""  # type: ignore[attr-defined]


def _reason(p: reports.PaymentRow) -> str:
    """Our plain summary of a Daraja result code; M-Pesa's own words for anything else."""
    code = p.result_code
    if code and ":" not in code:
        return describe(code).summary
    return p.result_desc or ""


def _cell(value: str) -> str:
    """A value from outside (M-Pesa's words) that a spreadsheet must not run as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


# ---------------------------------------------------------------- /find


@admin_only
async def find(update: Update, context: BotContext) -> None:
    """/find <receipt | reference | phone or its last 3+ digits>: the matches as /status cards."""
    lang = context.lang(update)
    key = " ".join(context.args or []).strip()
    if not key:
        await _reply(update, t(lang, "find_usage"))
        return
    found = await reports.find_payments(key, limit=FIND_LIMIT)
    if not found.payments:
        await _reply(update, t(lang, "find_none", search=key[:40]))
        return
    await _reply(update, t(lang, "find_header", search=key[:40], total=found.total))
    for payment in found.payments:
        await _reply(update, await payment_card(lang, context, payment, None))
    if found.total > len(found.payments):
        await _reply(update, t(lang, "find_more", shown=len(found.payments), total=found.total))


# ---------------------------------------------------------------- /report


@admin_only
async def report(update: Update, context: BotContext) -> None:
    """/report [7d | 30d]: a chart of takings and success rate per day, and the totals."""
    lang = context.lang(update)
    choice = (context.args[0] if context.args else "7d").lower()
    if choice not in REPORT_DAYS or len(context.args or []) > 1:
        await _reply(update, t(lang, "report_usage"))
        return
    days = reports.last_days(REPORT_DAYS[choice], today())
    by_day = await reports.daily_totals(days)
    first, last = views.day_text(lang, days.first), views.day_text(lang, days.last)
    merchant = context.settings.merchant_name
    words = ChartWords(
        title=t(lang, "report_title", merchant=merchant, first=first, last=last),
        takings=t(lang, "report_axis_takings"),
        success_rate=t(lang, "report_axis_rate"),
    )
    chart = [
        ChartDay(_short_day(lang, day), totals.takings, totals.success_rate)
        for day, totals in by_day.items()
    ]
    png = await asyncio.to_thread(takings_chart_png, chart, words)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_photo(
        png, caption=report_text(lang, by_day), filename=f"report_{days.first}_{days.last}.png"
    )


def report_text(lang: str, by_day: dict[date, reports.Totals]) -> str:
    whole = reports.combined(by_day.values())
    best_day, best = max(by_day.items(), key=lambda item: (item[1].takings, item[0]))
    rate = whole.success_rate
    return t(
        lang,
        "report_totals",
        first=views.day_text(lang, min(by_day)),
        last=views.day_text(lang, max(by_day)),
        takings=money(whole.takings),
        paid=whole.paid,
        count=whole.count,
        rate=f"{rate:.0%}" if rate is not None else t(lang, "none"),
        average=money(round(whole.takings / len(by_day))),
        best_day=views.day_text(lang, best_day) if best.takings else t(lang, "none"),
        best=money(best.takings),
    )


def _short_day(lang: str, day: date) -> str:
    return views.day_text(lang, day).rsplit(" ", 1)[0]  # without the year


# ---------------------------------------------------------------- wiring


async def _reply(update: Update, text: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text)


#: The commands above, in the order the admins' command menu lists them (menu_<command> texts).
SHOP_COMMANDS = ("link", "export", "find", "report")


def shop_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        CommandHandler("link", link, filters=PRIVATE),
        CommandHandler("export", export, filters=PRIVATE),
        CommandHandler("find", find, filters=PRIVATE),
        CommandHandler("report", report, filters=PRIVATE),
    ]
