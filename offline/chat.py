"""`python -m bot chat`: talk to the offline service in a terminal, as its customer or admin.

Every line typed goes through the real app (see `offline.session`); what the bot sends, including
payment outcomes that arrive later, is printed as it comes.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import IO

from offline.fake_telegram import FakeUser
from offline.session import ADMIN, CUSTOMER, OfflineSession, Printer
from payments.models import Notification, NotificationStatus, Payment
from payments.service import WAITING_STATES

CHAT_HELP = """\
lipabot chat (offline): you are the customer; the bot answers as it would on Telegram.
  type text to send it; #N taps button [N]; "admin: /status" speaks as the shop's admin;
  contact [number] shares your own contact (default 0712 345 678); sticker, photo and voice
  send one; wait [seconds] waits for the bot's next message (default 15, e.g. the outcome);
  a leading backslash sends a word as text (\\sticker);
  "menu: 500 LB7K2QX" pays KES 500 from the M-Pesa menu (Pay Bill) with that account
  number, from your last payment's phone; /quit exits.
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
    if text.lower().startswith("menu:"):
        await _pay_from_menu(session, text.split(":", 1)[1].split(), out)
        return
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


async def _pay_from_menu(session: OfflineSession, words: list[str], out: IO[str]) -> None:
    if len(words) != 2 or not words[0].isdigit():
        print("(chat: menu: <amount> <account number>, e.g. menu: 500 LB7K2QX)", file=out)
        return
    last = await Payment.filter(user_id=CUSTOMER.id).order_by("-id").first()
    phone = last.phone if last is not None else "254712345678"
    receipt = session.pay_from_menu(phone, int(words[0]), words[1])
    print(
        f"(chat: you paid KES {int(words[0]):,} from the M-Pesa menu, account {words[1]}: "
        f"M-Pesa receipt {receipt})",
        file=out,
    )


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
