"""The whole service in one process with nothing real behind it: the offline demo and chat.

`OfflineSession.open()` builds settings that read no environment and no `.env` (SQLite in a
temporary directory, the Daraja emulator in-process, the fake Telegram Bot API from
`offline.fake_telegram` behind PTB), starts the real app (`webhooks.app.create_app`) with its
lifespan and workers, and lets a script or a person talk to the bot: every message goes through
the real `/telegram/webhook` route, the real handlers, the emulator's real callback to
`/payments/callback/<token>` (and C2B confirmations to `/payments/c2b/confirmation/<token>`:
the C2B URLs are registered with the emulator at start), the outbox and the notifier. What
the bot sends back is read from the fake Telegram and rendered as a chat transcript.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from pydantic import SecretStr
from pydantic_settings import PydanticBaseSettingsSource
from starlette.applications import Starlette

from config import Settings
from offline.fake_telegram import FakeTelegram, FakeUser
from webhooks.app import create_app
from webhooks.telegram import SECRET_HEADER
from webhooks.wiring import TELEGRAM_WEBHOOK_PATH, Runtime, c2b_urls

OFFLINE_BOT_TOKEN = "700000001:offline-demo-token-not-a-real-bot"  # noqa: S105 - a fake's token
ADMIN = FakeUser(id=1000, first_name="Mama Duka", language_code="en")
CUSTOMER = FakeUser(id=4242, first_name="Wanjiku", language_code="en")


class OfflineSettings(Settings):
    """Settings from keyword arguments only: the demo must not pick up a developer's `.env`."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[Any],
        init_settings: PydanticBaseSettingsSource,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def offline_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": SecretStr(OFFLINE_BOT_TOKEN),
        "telegram_api_url": "http://fake-telegram.offline/bot",
        "telegram_webhook_secret": SecretStr(secrets.token_urlsafe(24)),
        "admin_ids": [ADMIN.id],
        "merchant_name": "Duka la Mama",
        "mpesa_env": "emulator",
        "database_url": database_url,
        "emulator_callback_delay_seconds": 0.3,
        "log_level": "WARNING",
        # The fake Telegram has no flood limits: no pacing per chat offline.
        "telegram_chat_rate": 0,
    }
    values.update(overrides)
    return OfflineSettings(**values)


@dataclass
class Line:
    """One line of the transcript: who spoke, the text, and the buttons under it."""

    speaker: str  # "you", "admin", "bot", "bot (edited)"
    text: str
    buttons: list[str] = field(default_factory=list)
    keyboard: list[str] = field(default_factory=list)

    def render(self) -> str:
        prefix = f"{self.speaker}: "
        body = self.text.replace("\n", "\n" + " " * len(prefix))
        extra = ""
        if self.buttons:
            numbered = "  ".join(f"[{i}] {label}" for i, label in enumerate(self.buttons, 1))
            extra += "\n" + " " * len(prefix) + numbered
        if self.keyboard:
            extra += "\n" + " " * len(prefix) + "(keyboard: " + " | ".join(self.keyboard) + ")"
        return prefix + body + extra


def _buttons(markup: dict[str, Any] | None, kind: str) -> list[dict[str, Any]]:
    rows = (markup or {}).get(kind) or []
    return [button for row in rows for button in row if isinstance(button, dict)]


class OfflineSession:
    """A running offline service and the chats held with it."""

    def __init__(self, app: Starlette, fake: FakeTelegram, client: httpx.AsyncClient) -> None:
        self.app = app
        self.fake = fake
        self.client = client
        self.transcript: list[Line] = []
        self._seen: dict[int, dict[int, tuple[str, Any]]] = {}
        self._choices: dict[int, tuple[int, list[dict[str, Any]]]] = {}

    @property
    def runtime(self) -> Runtime:
        return self.app.state.runtime  # type: ignore[no-any-return]

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @classmethod
    @asynccontextmanager
    async def open(
        cls, *, directory: Path | None = None, **overrides: Any
    ) -> AsyncIterator[OfflineSession]:
        with tempfile.TemporaryDirectory(prefix="lipabot-offline-") as tmp:
            path = (directory or Path(tmp)) / "lipabot-offline.sqlite3"
            # A test may give another database (PostgreSQL); the default is a temporary SQLite.
            database_url = str(overrides.pop("database_url", f"sqlite://{path}"))
            settings = offline_settings(database_url, **overrides)
            assert settings.telegram_bot_token is not None
            fake = FakeTelegram(settings.telegram_bot_token.get_secret_value())
            app = create_app(
                settings,
                telegram_request=fake.request(read_timeout=10.0),
                run_migrations=True,
                reconcile_interval=1.0,
            )
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://lipabot.offline"
                ) as client:
                    session = cls(app, fake, client)
                    await session.register_c2b()
                    yield session

    # ------------------------------------------------------------------ C2B

    async def register_c2b(self) -> None:
        """Register the C2B URLs with the in-process emulator, as `register-c2b` does with
        Daraja: menu payments (and PayBill STK payments) then reach the C2B routes."""
        runtime = self.runtime
        assert runtime.daraja is not None
        confirmation, validation = c2b_urls(self.settings, runtime.callback_token)
        await runtime.daraja.register_c2b(
            version=self.settings.mpesa_c2b_version,
            confirmation_url=confirmation,
            validation_url=validation,
        )

    def pay_from_menu(self, phone: str, amount: int, account: str) -> str:
        """A customer pays from the M-Pesa menu (Pay Bill); returns the M-Pesa receipt."""
        assert self.runtime.emulator_app is not None
        emulator = self.runtime.emulator_app.state.emulator
        return str(emulator.c2b.pay_bill(phone, amount, account).trans_id)

    # ------------------------------------------------------------------ talking

    async def say(self, user: FakeUser, text: str, *, speaker: str = "you") -> list[Line]:
        """Send a text message as `user`; returns what the bot answered."""
        self.transcript.append(Line(speaker, text))
        await self._deliver(self.fake.text(user, text))
        return self.collect(user.id)

    async def send(
        self, user: FakeUser, update: dict[str, Any], label: str, *, speaker: str = "you"
    ) -> list[Line]:
        """Send any update as `user` (a contact, a sticker…), shown as `label` in the chat."""
        self.transcript.append(Line(speaker, label))
        await self._deliver(update)
        return self.collect(user.id)

    async def press(self, user: FakeUser, choice: int, *, speaker: str = "you") -> list[Line]:
        """Tap button number `choice` (1-based) of the latest message that has buttons."""
        message_id, buttons = self._choices.get(user.id, (0, []))
        if not 1 <= choice <= len(buttons):
            raise ValueError(f"there is no button [{choice}]")
        button = buttons[choice - 1]
        self.transcript.append(Line(speaker, f"[{choice}] {button.get('text', '')}"))
        await self._deliver(self.fake.press(user, button["callback_data"], message_id=message_id))
        return self.collect(user.id)

    async def press_data(self, user: FakeUser, prefix: str, *, speaker: str = "you") -> list[Line]:
        """Tap the button whose callback data starts with `prefix` (scripts use this)."""
        _, buttons = self._choices.get(user.id, (0, []))
        for number, button in enumerate(buttons, 1):
            if str(button.get("callback_data", "")).startswith(prefix):
                return await self.press(user, number, speaker=speaker)
        raise LookupError(f"no button for {prefix!r} on the latest message")

    async def wait_for(
        self, user: FakeUser, predicate: Callable[[Line], bool], *, within: float = 10.0
    ) -> list[Line]:
        """Wait until the bot says something (new or edited) that satisfies `predicate`."""
        deadline = time.monotonic() + within
        collected: list[Line] = []
        while True:
            news = self.collect(user.id)
            collected.extend(news)
            if any(predicate(line) for line in news):
                return collected
            if time.monotonic() >= deadline:
                raise TimeoutError("the bot did not send what was expected in time")
            await asyncio.sleep(0.02)

    async def _deliver(self, update: dict[str, Any]) -> None:
        secret = self.settings.telegram_webhook_secret
        assert secret is not None
        response = await self.client.post(
            TELEGRAM_WEBHOOK_PATH, json=update, headers={SECRET_HEADER: secret.get_secret_value()}
        )
        response.raise_for_status()
        application = self.runtime.application
        assert application is not None
        # PTB marks each queued update done after its handlers ran: this waits for the answer.
        await asyncio.wait_for(application.update_queue.join(), timeout=15.0)

    def collect(self, chat_id: int) -> list[Line]:
        """Messages sent or edited in the chat since the last look, as transcript lines."""
        seen = self._seen.setdefault(chat_id, {})
        lines: list[Line] = []
        for message in self.fake.chat_messages(chat_id):
            state = (message.text, message.reply_markup)
            if seen.get(message.message_id) == state:
                continue
            speaker = "bot (edited)" if message.message_id in seen else "bot"
            seen[message.message_id] = state
            inline = _buttons(message.reply_markup, "inline_keyboard")
            keyboard = [b.get("text", "") for b in _buttons(message.reply_markup, "keyboard")]
            if inline:
                self._choices[chat_id] = (message.message_id, inline)
            elif self._choices.get(chat_id, (None,))[0] == message.message_id:
                self._choices.pop(chat_id)  # its buttons were taken away by an edit
            lines.append(Line(speaker, message.text, [b.get("text", "") for b in inline], keyboard))
        self.transcript.extend(lines)
        return lines

    def render(self) -> str:
        return "\n".join(line.render() for line in self.transcript)


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
