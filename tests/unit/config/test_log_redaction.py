"""The bot token (and other secrets) never reach a log line, even through httpx's URL logging."""

from __future__ import annotations

import io
import logging

from pydantic import SecretStr
from telegram import Bot

from config.logging import URL_LOGGERS, redact_secrets
from offline.fake_telegram import FakeTelegram
from tests.support.settings import TEST_BOT_TOKEN, TEST_CALLBACK_TOKEN, make_settings


async def test_token_never_appears_in_captured_logs(fake_telegram: FakeTelegram) -> None:
    settings = make_settings(mpesa_consumer_secret=SecretStr("consumer-secret-xyz"))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    filt = redact_secrets(settings)
    try:
        async with Bot(
            TEST_BOT_TOKEN, base_url=settings.telegram_api_url, request=fake_telegram.request()
        ) as bot:
            await bot.send_message(5, "hello")
        logging.getLogger("lipabot.test").warning(
            "callback at /payments/callback/%s", TEST_CALLBACK_TOKEN
        )
        try:
            raise RuntimeError(f"boom consumer-secret-xyz {TEST_BOT_TOKEN}")
        except RuntimeError:
            logging.getLogger("lipabot.test").exception("failed")
    finally:
        root.removeHandler(handler)
        root.removeFilter(filt)
        for name in URL_LOGGERS:
            logging.getLogger(name).removeFilter(filt)
        root.setLevel(old_level)
    output = stream.getvalue()
    assert "sendMessage" in output  # httpx did log the request URL…
    assert "/bot***/sendMessage" in output  # …with the token masked
    assert TEST_BOT_TOKEN not in output
    assert TEST_CALLBACK_TOKEN not in output
    assert "consumer-secret-xyz" not in output
    assert "RuntimeError: boom *** ***" in output


async def test_handlers_added_later_still_see_no_token(fake_telegram: FakeTelegram) -> None:
    settings = make_settings()
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    filt = redact_secrets(settings)
    stream = io.StringIO()
    late = logging.StreamHandler(stream)  # e.g. uvicorn's or a test's, configured afterwards
    logging.getLogger("httpx").addHandler(late)
    try:
        async with Bot(
            TEST_BOT_TOKEN, base_url=settings.telegram_api_url, request=fake_telegram.request()
        ) as bot:
            await bot.get_me()
    finally:
        logging.getLogger("httpx").removeHandler(late)
        root.removeFilter(filt)
        for name in URL_LOGGERS:
            logging.getLogger(name).removeFilter(filt)
        root.setLevel(old_level)
    assert "/bot***/getMe" in stream.getvalue()
    assert TEST_BOT_TOKEN not in stream.getvalue()


async def test_phone_numbers_in_library_debug_lines_are_masked(sqlite_db) -> None:
    """At DEBUG tortoise logs SQL parameters, phone numbers and CheckoutRequestIDs included."""
    from payments.models import Payment

    settings = make_settings()
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    filt = redact_secrets(settings)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    handler.addFilter(filt)
    try:
        await Payment.filter(phone="254712345678").first()
        await Payment.filter(checkout_request_id="ws_CO_28112026071144175254712345678").first()
    finally:
        root.removeHandler(handler)
        root.removeFilter(filt)
        for name in URL_LOGGERS:
            logging.getLogger(name).removeFilter(filt)
        root.setLevel(old_level)
    output = stream.getvalue()
    assert "SELECT" in output  # tortoise did log the queries…
    assert "2547•••••678" in output  # …with the numbers masked
    assert "254712345678" not in output
