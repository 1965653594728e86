"""`python -m bot demo`: the offline service, scripted.

The demo plays a customer paying three times (a success, a cancel on the phone, a wrong PIN;
the emulator picks the outcome from the phone number's last four digits), then once more with a
phone the prompt cannot reach (1037): the bot gives the M-Pesa menu steps and the customer pays
from the menu (a C2B confirmation), and an admin asking `/status`; it prints the chat and reports
whether every expected message arrived. Expected texts
come from `bot.texts`, never from copies here.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import IO

from bot import texts, views
from offline.session import ADMIN, CUSTOMER, Line, OfflineSession, Printer
from payments.models import Payment

CONFIRM_PREFIX = f"{views.CONFIRM}:"
OUTCOME_WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class ScriptedPayment:
    amount: str
    phone: str
    result_code: str  # what the emulator answers for this phone ("0" = paid)
    label: str


SCRIPT = (
    ScriptedPayment("1500", "0712 345 678", "0", "success"),
    ScriptedPayment("200", "0712 341 032", "1032", "cancelled on the phone"),
    ScriptedPayment("350", "0712 342 001", "2001", "wrong PIN"),
)
MENU = ScriptedPayment("800", "0712 341 037", "1037", "the prompt cannot reach the phone")


def _template_prefix(key: str) -> str:
    """The fixed start of a catalogue text, up to its first placeholder."""
    return texts.CATALOGUES["en"][key].split("{", 1)[0]


def _template_line(key: str, placeholder: str, value: str) -> str:
    """The line of a catalogue text that holds `placeholder`, filled in."""
    for line in texts.CATALOGUES["en"][key].splitlines():
        if "{" + placeholder + "}" in line:
            return line.replace("{" + placeholder + "}", value)
    raise KeyError(f"{key} has no {placeholder}")


async def _pay(
    session: OfflineSession, step: ScriptedPayment, problems: list[str], printer: Printer
) -> None:
    merchant = session.settings.merchant_name
    await session.say(CUSTOMER, "/pay")
    await session.say(CUSTOMER, step.amount)
    await session.say(CUSTOMER, step.phone)
    await session.press_data(CUSTOMER, CONFIRM_PREFIX)
    printer.flush()
    if step.result_code == "0":
        expected = _template_prefix("paid")
    else:
        expected = texts.failure_reason("en", step.result_code, merchant=merchant)

    def matches(line: Line) -> bool:
        return line.speaker.startswith("bot") and expected in line.text

    try:
        await session.wait_for(CUSTOMER, matches, within=OUTCOME_WAIT_SECONDS)
    except TimeoutError:
        problems.append(f"{step.label}: no message containing {expected!r}")
        return
    if step.result_code == "0":
        payment = await Payment.filter(user_id=CUSTOMER.id).order_by("-id").first()
        assert payment is not None
        receipt_text, _ = views.outcome_text("paid", "en", payment, merchant)
        if not payment.receipt or receipt_text not in [m.text for m in _messages(session)]:
            problems.append(f"{step.label}: the receipt message is not what the bot should send")


async def _pay_from_menu(session: OfflineSession, problems: list[str], printer: Printer) -> None:
    """The prompt fails (1037); the customer follows the menu steps the bot gave."""
    await _pay(session, MENU, problems, printer)
    payment = await Payment.filter(user_id=CUSTOMER.id).order_by("-id").first()
    assert payment is not None and payment.account_number
    steps = _template_line("menu_steps_paybill", "account", payment.account_number)
    if not any(steps in m.text for m in _messages(session)):
        problems.append(f"menu payment: no steps with {steps!r}")
        return
    printer.flush()
    print(
        f"--- the customer pays from the M-Pesa menu: Pay Bill {session.settings.mpesa_shortcode}"
        f", account {payment.account_number}, KES {payment.amount} ---",
        file=printer.out,
    )
    session.pay_from_menu(payment.phone, payment.amount, payment.account_number)
    expected = _template_prefix("paid")
    try:
        await session.wait_for(
            CUSTOMER,
            lambda line: line.speaker.startswith("bot") and expected in line.text,
            within=OUTCOME_WAIT_SECONDS,
        )
    except TimeoutError:
        problems.append("menu payment: the message was not edited to paid")
        return
    paid = await Payment.get(id=payment.id)
    if paid.status != "paid" or not paid.receipt:
        problems.append(f"menu payment: payment is {paid.status}, receipt {paid.receipt}")


def _messages(session: OfflineSession) -> list:  # type: ignore[type-arg]
    return session.fake.chat_messages(CUSTOMER.id)


async def run_demo(out: IO[str] = sys.stdout) -> bool:
    """Run the scripted demo, printing the chat; True when every expected message arrived."""
    started = time.monotonic()
    problems: list[str] = []
    async with OfflineSession.open() as session:
        printer = Printer(session, out)
        print(
            "lipabot offline demo: SQLite, Daraja emulator and a fake Telegram, all in-process.",
            file=out,
        )
        for step in SCRIPT:
            print(f"\n--- payment: {step.label} (phone {step.phone}) ---", file=out)
            await _pay(session, step, problems, printer)
            printer.flush()
        print(f"\n--- payment: {MENU.label} (phone {MENU.phone}) ---", file=out)
        await _pay_from_menu(session, problems, printer)
        printer.flush()
        print("\n--- the shop's admin asks for today's summary ---", file=out)
        replies = await session.say(ADMIN, "/status", speaker="admin")
        printer.flush()
        received = _template_line("admin_summary", "total", texts.money(1500 + 800))
        if not any(received in line.text for line in replies):
            problems.append(f"admin /status: no summary containing {received!r}")
    elapsed = time.monotonic() - started
    print("", file=out)
    if problems:
        for problem in problems:
            print(f"MISSING: {problem}", file=out)
        print(f"demo FAILED in {elapsed:.1f}s", file=out)
        return False
    print(f"demo OK: every expected message arrived ({elapsed:.1f}s)", file=out)
    return True
