"""`python -m bot chat`: talk to the offline service in a terminal, as its customer or admin.

Every line typed goes through the real app (see `offline.session`); what the bot sends, including
payment outcomes that arrive later, is printed as it comes.
"""

from __future__ import annotations

import asyncio
import sys
from typing import IO

from offline.fake_telegram import FakeUser
from offline.session import ADMIN, CUSTOMER, OfflineSession, Printer
from payments.models import Notification, NotificationStatus, Payment
from payments.service import WAITING_STATES

CHAT_HELP = """\
lipabot chat (offline): you are the customer; the bot answers as it would on Telegram.
  type text to send it; #N taps button [N]; "admin: /status" speaks as the shop's admin;
  "menu: 500 LB7K2QX" pays KES 500 from the M-Pesa menu (Pay Bill) with that account
  number, from your last payment's phone; /quit exits.  The emulator's outcome follows the
  phone's last four digits: 1032 cancelled, 2001 wrong PIN, 0001 insufficient balance,
  1037 unreachable, 1019 expired; others succeed."""


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
    await session.say(user, text, speaker=speaker)


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
