"""No secret and no full phone number in the logs of a whole payment flow, at DEBUG everywhere.

The service runs as `python -m bot serve` runs it (uvicorn on a real socket, access log off, the
redacting filter on the root handlers) but with every logger, httpx, httpcore, telegram, uvicorn
and tortoise included, turned up to DEBUG. The flow covers the happy path and the noisy ones:
a refused push (spike arrest), Telegram flood control, a callback with a wrong token.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from config import Settings
from config.logging import RedactingFilter, redact_secrets
from offline.fake_telegram import FakeTelegram, FakeUser
from payments.models import Payment
from payments.states import PaymentStatus
from tests.support.daraja import free_port
from tests.support.figures import FIGURES
from tests.support.harness import TelegramSeam, eventually, local_phone, phone_for
from tests.support.settings import TEST_BOT_TOKEN, TEST_CALLBACK_TOKEN, make_settings
from webhooks.app import create_app
from webhooks.serving import serve_in_loop

CONSUMER_KEY = "ck-Vb9sQ2xLm4Rt7Yp1Wn6Zc3Hd8Kf5Jg0A"
CONSUMER_SECRET = "cs-Qm3Tz8Lp1Xv6Bn4Rw9Kd2Hs7Gf5Jc0Ye"
PASSKEY = "pk-5b2e8f1c9d4a7e3b6f0c2d8a1e9b4f7c3d6a0e2b5f8c1d4a7e0b3f6c9d2a5e8b"
WEBHOOK_SECRET = "tg-webhook-secret"
SECRETS = {
    "bot token": TEST_BOT_TOKEN,
    "bot token secret part": TEST_BOT_TOKEN.split(":", 1)[1],
    "consumer key": CONSUMER_KEY,
    "consumer secret": CONSUMER_SECRET,
    "passkey": PASSKEY,
    "callback token": TEST_CALLBACK_TOKEN,
    "webhook secret": WEBHOOK_SECRET,
}
PHONES = [phone_for(200), phone_for(201)]
#: As the customers type them: plain local form, and spaced (as printed on a card).
TYPED = [local_phone(PHONES[0]), "0710 105 201"]
OPENING = (PaymentStatus.CREATED, PaymentStatus.PUSHING)
NOISY_LOGGERS = (
    "httpx", "httpcore", "telegram", "telegram.ext", "uvicorn", "uvicorn.error",
    "uvicorn.access", "tortoise", "asyncio", "apscheduler", "daraja", "payments", "bot",
    "webhooks", "lipabot",
)  # fmt: skip


@pytest.fixture
def log_capture(_sqlite_template: Path) -> Iterator[io.StringIO]:
    """Everything logged anywhere, at DEBUG, through the production redacting filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    saved_root = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_root)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
        loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
        for holder in [root, *root.handlers, *loggers]:
            for filt in list(holder.filters):
                if isinstance(filt, RedactingFilter):
                    holder.removeFilter(filt)


@pytest.fixture
def secret_settings(_sqlite_template: Path, tmp_path: Path) -> Settings:
    path = tmp_path / "logs.sqlite3"
    shutil.copyfile(_sqlite_template, path)
    return make_settings(
        database_url=f"sqlite://{path}",
        mpesa_env="emulator",
        mpesa_consumer_key=SecretStr(CONSUMER_KEY),
        mpesa_consumer_secret=SecretStr(CONSUMER_SECRET),
        mpesa_passkey=SecretStr(PASSKEY),
        log_level="DEBUG",
    )


async def has_draft(user_id: int) -> bool:
    return await Payment.filter(user_id=user_id).exists()


async def pushed(payment_id: int) -> bool:
    return (await Payment.get(id=payment_id)).status not in OPENING


@asynccontextmanager
async def serve(app: object, port: int) -> AsyncIterator[str]:
    # As cli.main.cmd_serve runs it: no access log, no uvicorn logging config of its own.
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_config=None,
        log_level="debug",
        lifespan="on",
        ws="none",
        proxy_headers=False,
    )
    async with serve_in_loop(config):
        yield f"http://127.0.0.1:{port}"


async def test_a_whole_flow_logs_no_secret_and_no_full_phone(
    log_capture: io.StringIO,
    secret_settings: Settings,
    fake_telegram: FakeTelegram,
    customer: FakeUser,
    other_customer: FakeUser,
) -> None:
    redact_secrets(secret_settings)  # what config.logging.configure_logging installs
    telegram = TelegramSeam(fake_telegram)
    app = create_app(secret_settings, telegram_request=telegram.request(), reconcile_interval=0.2)
    hook = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}

    async with serve(app, free_port()) as base:
        runtime = app.state.runtime
        emulator = runtime.emulator_app.state.emulator

        async with httpx.AsyncClient(base_url=base) as web:

            def calls_for(chat_id: int) -> int:
                return sum(1 for c in fake_telegram.calls if c.params.get("chat_id") == chat_id)

            async def say(user: FakeUser, update: dict) -> None:  # type: ignore[type-arg]
                """Post through the webhook; wait until the bot has written to this chat."""
                before = calls_for(user.id)
                answer = await web.post("/telegram/webhook", json=update, headers=hook)
                assert answer.status_code == 200
                async with asyncio.timeout(10):
                    await fake_telegram.wait_until(lambda: calls_for(user.id) > before)

            async def flow(user: FakeUser, typed: str) -> int:
                for text in ("/pay", "1500"):
                    await say(user, fake_telegram.text(user, text))
                await say(user, fake_telegram.text(user, typed))
                await eventually(lambda: has_draft(user.id))
                (draft,) = await Payment.filter(user_id=user.id)
                await say(user, fake_telegram.press(user, f"pay:{draft.id}"))
                await eventually(lambda: pushed(draft.id))
                return draft.id

            # 1: refused push (spike arrest), told at once.
            emulator.spike_arrest(5)
            refused = await flow(other_customer, TYPED[1])
            # 2: paid, with Telegram flood control on the outcome message.
            emulator.set_callback_delay(0.3)
            paid = await flow(customer, TYPED[0])
            fake_telegram.fail_retry_after(1, method="editMessageText")
            async with asyncio.timeout(10):
                await emulator.drain()
                await fake_telegram.wait_until(lambda: bool(telegram.outcomes(customer.id)))
            # 3: someone guessing the callback URL.
            wrong = await web.post("/payments/callback/not-the-token", json={"Body": {}})
            assert wrong.status_code == 404
            assert (await Payment.get(id=paid)).status is PaymentStatus.PAID
            assert (await Payment.get(id=refused)).status is PaymentStatus.PUSH_FAILED

    output = log_capture.getvalue()
    assert "STK push" in output and "sendMessage" in output, "the capture saw the whole flow"
    leaks = {name for name, secret in SECRETS.items() if secret in output}
    assert leaks == set(), f"secrets in the logs: {sorted(leaks)}"
    full_phones = set()
    assert TYPED[1].replace(" ", "") == local_phone(PHONES[1])
    for phone, typed in zip(PHONES, TYPED, strict=True):
        for form in (phone, local_phone(phone), phone[3:], typed):
            full_phones.update(re.findall(re.escape(form), output))
    assert full_phones == set(), "full phone numbers in the logs"
    FIGURES.drove("secrets in logs", 2)
    FIGURES.injected("spike arrest")
    FIGURES.injected("telegram 429")
