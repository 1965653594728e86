"""`python -m bot demo` and `python -m bot chat`: the offline service, scripted or interactive.

The demo plays a customer paying three times (a success, a cancel on the phone, a wrong PIN;
the emulator picks the outcome from the phone number's last four digits) and an admin asking
`/status`, prints the chat, and reports whether every expected message arrived. Expected texts
come from `bot.texts`, never from copies here.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from typing import IO

from bot import texts, views
from bot.fake_telegram import FakeUser
from payments.models import Notification, NotificationStatus, Payment
from payments.service import WAITING_STATES
from webhooks.offline import ADMIN, CUSTOMER, Line, OfflineSession

CONFIRM_PREFIX = f"{views.CONFIRM}:"
BANNER = "lipabot offline demo: SQLite, the Daraja emulator and a fake Telegram, in one process."
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


def _template_prefix(key: str) -> str:
    """The fixed start of a catalogue text, up to its first placeholder."""
    return texts.CATALOGUES["en"][key].split("{", 1)[0]


def _template_line(key: str, placeholder: str, value: str) -> str:
    """The line of a catalogue text that holds `placeholder`, filled in."""
    for line in texts.CATALOGUES["en"][key].splitlines():
        if "{" + placeholder + "}" in line:
            return line.replace("{" + placeholder + "}", value)
    raise KeyError(f"{key} has no {placeholder}")


class Printer:
    """Prints transcript lines as they are added."""

    def __init__(self, session: OfflineSession, out: IO[str]) -> None:
        self.session = session
        self.out = out
        self.printed = 0

    def flush(self) -> None:
        lines = self.session.transcript[self.printed :]
        for line in lines:
            print(line.render(), file=self.out)
        self.printed += len(lines)
        self.out.flush()


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
        print("\n--- the shop's admin asks for today's summary ---", file=out)
        replies = await session.say(ADMIN, "/status", speaker="admin")
        printer.flush()
        received = _template_line("admin_summary", "total", texts.money(1500))
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


# ---------------------------------------------------------------------------- chat

CHAT_HELP = """\
lipabot chat (offline): you are the customer; the bot answers as it would on Telegram.
  type text to send it; #N taps button [N]; "admin: /status" speaks as the shop's admin;
  contact [number] shares your own contact (default 0712 345 678); sticker, photo and voice
  send one; wait [seconds] waits for the bot's next message (default 15, e.g. the outcome);
  a leading backslash sends a word as text (\\sticker); /quit exits.
  The emulator's outcome follows the phone's last four digits: 1032 cancelled,
  2001 wrong PIN, 0001 insufficient balance, 1037 unreachable, 1019 expired; others succeed."""
#: The number `contact` shares when none is given (the emulator makes it a success).
CHAT_CONTACT = "+254712345678"
WAIT_DEFAULT_SECONDS = 15.0


async def _read_line(stream: IO[str]) -> str | None:
    line = await asyncio.get_running_loop().run_in_executor(None, stream.readline)
    return line if line else None


async def _settled() -> bool:
    waiting = await Payment.filter(status__in=list(WAITING_STATES)).exists()
    unsent = await Notification.filter(status=NotificationStatus.PENDING).exists()
    return not waiting and not unsent


async def _wait_settled(seconds: float) -> None:
    for _ in range(max(1, int(seconds / 0.1))):
        if await _settled():
            return
        await asyncio.sleep(0.1)


async def _watch(session: OfflineSession, printer: Printer, users: list[FakeUser]) -> None:
    """Print what the bot sends on its own (payment outcomes) while the person types."""
    while True:
        for user in users:
            session.collect(user.id)
        printer.flush()
        await asyncio.sleep(0.1)


async def _handle(session: OfflineSession, text: str, out: IO[str]) -> None:
    user, speaker = CUSTOMER, "you"
    if text.lower().startswith("admin:"):
        user, speaker, text = ADMIN, "admin", text.split(":", 1)[1].strip()
    if text.startswith("#") and text[1:].isdigit():
        try:
            await session.press(user, int(text[1:]), speaker=speaker)
        except ValueError as exc:
            print(f"(chat: {exc})", file=out)
        return
    if text.startswith("\\"):
        await session.say(user, text[1:], speaker=speaker)
        return
    word, _, rest = text.partition(" ")
    word, rest = word.lower(), rest.strip()
    if word == "contact":
        number = rest or CHAT_CONTACT
        update = session.fake.contact(user, number)
        await session.send(user, update, f"(shares own contact {number})", speaker=speaker)
    elif word in ("sticker", "photo", "voice") and not rest:
        update = getattr(session.fake, word)(user)
        await session.send(user, update, f"({word})", speaker=speaker)
    elif word == "wait" and (not rest or _is_seconds(rest)):
        seconds = float(rest) if rest else WAIT_DEFAULT_SECONDS
        if not await _wait_for_news(session, user, seconds):
            print(f"(chat: nothing new from the bot in {seconds:g} s)", file=out)
    else:
        await session.say(user, text, speaker=speaker)


def _is_seconds(text: str) -> bool:
    try:
        return 0 < float(text) <= 600
    except ValueError:
        return False


async def _wait_for_news(session: OfflineSession, user: FakeUser, seconds: float) -> bool:
    """Wait until the bot sends or edits something in `user`'s chat; False after `seconds`.

    Reads the transcript rather than the fake: the watcher task collects concurrently, and
    whichever of the two sees a message first puts it there.
    """
    start = len(session.transcript)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        session.collect(user.id)
        if any(line.speaker.startswith("bot") for line in session.transcript[start:]):
            return True
        await asyncio.sleep(0.05)
    return False


async def run_chat(
    stdin: IO[str] = sys.stdin, out: IO[str] = sys.stdout, *, settle_seconds: float = 15.0
) -> int:
    """The interactive chat; with piped input it also waits for payments to settle at the end."""
    print(CHAT_HELP, file=out)
    async with OfflineSession.open() as session:
        printer = Printer(session, out)
        watcher = asyncio.create_task(_watch(session, printer, [CUSTOMER, ADMIN]))
        try:
            while True:
                line = await _read_line(stdin)
                if line is None or line.strip() == "/quit":
                    break
                if line.strip():
                    await _handle(session, line.strip(), out)
                    printer.flush()
            await _wait_settled(settle_seconds)
            await asyncio.sleep(0.2)  # let the watcher print the last edits
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        for user in (CUSTOMER, ADMIN):
            session.collect(user.id)
        printer.flush()
    print("bye", file=out)
    return 0
