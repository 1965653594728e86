"""The daily summary: at ADMIN_DAILY_SUMMARY_AT (Nairobi), the day's figures to every admin.

Every instance runs the same job once a minute; from the set time until midnight it sends what
has not been sent yet. Each recipient's message for the day is claimed in the database first
(`payments.reports.claim`, a unique row per day and chat), so with several instances on one
database, or after a restart, each admin gets one summary a day. A send that failed in a way
worth retrying (network, flood control) gives its claim back and goes out on a later tick; one
that can never succeed (the bot was blocked) keeps it. Should the process die between claim and
send, that one message is lost rather than sent twice.

The figures cover the payments created from midnight up to the moment of the summary, next to
the same stretch of the same weekday a week before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application

from bot import views
from bot.delivery import classify
from bot.limiter import Priority, sending_as
from bot.persistence import USER_DATA
from bot.texts import LANGUAGES, money, t
from daraja.timestamps import NAIROBI, now_utc
from payments import reports
from payments.models import StoredState

log = logging.getLogger(__name__)

NAMESPACE = "shop:daily_summary"
JOB_NAME = "daily_summary"
#: How often each instance looks whether the summary is due.
TICK_SECONDS = 60.0

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class DailySummary:
    def __init__(
        self,
        *,
        at: time,
        recipients: Iterable[int],
        owner: str,
        merchant: str,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.at = at
        self.recipients = list(dict.fromkeys(recipients))  # admins, then the staff chat
        self.owner = owner
        self.merchant = merchant
        self.clock = clock

    def schedule(self, application: AnyApplication) -> None:
        if application.job_queue is None:
            log.warning("no job queue: the daily summary will not be sent")
            return
        application.job_queue.run_repeating(
            self._tick, interval=TICK_SECONDS, first=TICK_SECONDS, name=JOB_NAME
        )

    async def _tick(self, context: Any) -> None:
        try:
            await self.run(context.application)
        except Exception:
            # The database or Telegram is down: the next tick tries again.
            log.exception("daily summary round failed")

    async def run(self, application: AnyApplication) -> int:
        """Send the summary to every recipient who has not had today's; returns how many."""
        now = self.clock().astimezone(NAIROBI)
        if now.time() < self.at or not self.recipients:
            return 0
        keys = {chat: f"{now.date().isoformat()}:{chat}" for chat in self.recipients}
        done = await reports.claimed(NAMESPACE, keys.values())
        waiting = [chat for chat, key in keys.items() if key not in done]
        if not waiting:
            return 0
        figures = await _figures(now)
        sent = 0
        for chat in waiting:
            if not await reports.claim(NAMESPACE, keys[chat], owner=self.owner):
                continue  # another instance has it
            text = summary_text(await _language(chat), self.merchant, now, *figures)
            if await self._send(application, chat, keys[chat], text):
                sent += 1
        return sent

    async def _send(self, application: AnyApplication, chat: int, key: str, text: str) -> bool:
        try:
            with sending_as(Priority.ADMIN):
                await application.bot.send_message(chat, text)
        except TelegramError as exc:
            decision = classify(exc, attempt=1)
            if decision.action == "retry":
                await reports.release(NAMESPACE, key)
                log.warning("daily summary to chat %s: retrying later: %s", chat, decision.reason)
            else:
                log.warning("daily summary to chat %s undeliverable: %s", chat, decision.reason)
            return False
        log.info("daily summary sent to chat %s", chat)
        return True


async def _figures(now: datetime) -> tuple[reports.WindowReport, reports.WindowReport]:
    start = reports.day_start(now.date())
    week = timedelta(days=7)
    return (
        await reports.window_report(start, now),
        await reports.window_report(start - week, now - week),
    )


async def _language(chat: int) -> str:
    """An admin's chosen /language, as stored (any instance may have seen the choice);
    English for anyone else (a staff group)."""
    row = await StoredState.get_or_none(namespace=USER_DATA, key=str(chat))
    chosen = row.value.get("lang") if row is not None and isinstance(row.value, dict) else None
    return chosen if chosen in LANGUAGES else "en"


def summary_text(
    lang: str,
    merchant: str,
    now: datetime,
    today: reports.WindowReport,
    last_week: reports.WindowReport,
) -> str:
    now_totals, then = today.totals, last_week.totals
    return t(
        lang,
        "summary",
        merchant=merchant,
        day=views.day_text(lang, now.date()),
        time=f"{now:%H:%M}",
        takings=money(now_totals.takings),
        paid=now_totals.paid,
        count=now_totals.count,
        rate=_rate(lang, now_totals.success_rate),
        failures=_failures(lang, now_totals),
        flagged=now_totals.flagged,
        unmatched=today.unmatched,
        last_day=views.day_text(lang, now.date() - timedelta(days=7)),
        last_takings=money(then.takings),
        last_paid=then.paid,
        last_count=then.count,
        last_rate=_rate(lang, then.success_rate),
        change=_change(lang, now_totals.takings, then.takings),
    )


def _rate(lang: str, rate: float | None) -> str:
    return f"{rate:.0%}" if rate is not None else t(lang, "none")


def _failures(lang: str, totals: reports.Totals) -> str:
    if not totals.failures:
        return t(lang, "summary_no_failures")
    lines = [t(lang, "summary_failures")]
    for (status, code), n in sorted(totals.failures.items(), key=lambda item: (-item[1], item[0])):
        word = views.status_word(lang, status)
        shown = code or t(lang, "summary_no_code")
        lines.append(t(lang, "summary_failure_line", status=word, code=shown, n=n))
    return "\n".join(lines)


def _change(lang: str, now: int, then: int) -> str:
    """Takings against last week in words; nothing when last week had none to compare with."""
    if then == 0:
        return ""
    if now == then:
        return t(lang, "summary_same")
    percent = f"{abs(now - then) / then:.0%}"
    return t(lang, "summary_up" if now > then else "summary_down", percent=percent)
