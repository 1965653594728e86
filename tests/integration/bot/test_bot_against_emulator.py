"""The bot against the real Daraja client and the Daraja emulator (callbacks really POSTed)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from daraja.callbacks import parse_stk_callback
from daraja.client import DarajaClient
from daraja.config import DarajaConfig
from daraja.emulator import Emulator
from offline.fake_telegram import FakeTelegram, FakeUser
from tests.support.bot import BotHarness, bot_settings, start_harness, stop_harness
from tests.support.daraja import EMULATOR_BASE_URL, RECEIVER_URL, CallbackReceiver
from tests.support.db import TestDatabase


@pytest.fixture
async def live(
    sqlite_db: TestDatabase, fake_telegram: FakeTelegram, daraja_http: httpx.AsyncClient
) -> AsyncIterator[BotHarness]:
    settings = bot_settings()
    client = DarajaClient(
        DarajaConfig.from_settings(settings, emulator_base_url=EMULATOR_BASE_URL), daraja_http
    )
    harness = await start_harness(settings, fake_telegram, client, callback_url=RECEIVER_URL)  # type: ignore[arg-type]
    try:
        yield harness
    finally:
        await stop_harness(harness)


async def _settle(live: BotHarness, receiver: CallbackReceiver, count: int = 1) -> None:
    """What the webhooks route does with each callback: parse, apply once, wake the notifier."""
    bodies = await receiver.wait_for(count)
    for body in bodies[-1:]:
        await live.service.apply_result(parse_stk_callback(body))
    await live.deliver()


async def test_paid_through_the_emulator(
    live: BotHarness, customer: FakeUser, callback_receiver: CallbackReceiver
) -> None:
    await live.pay_up_to_confirmation(customer, amount="1500", phone="0708374149")
    payment = await live.confirm(customer)
    assert payment.checkout_request_id and payment.checkout_request_id.startswith("ws_CO_")
    await _settle(live, callback_receiver)
    message = live.fake.last(customer.id)
    assert message.message_id == payment.status_message_id
    assert message.text.startswith("Paid ✓")
    receipt = (await live.service.get(payment.id)).receipt
    assert receipt and f"Receipt {receipt}" in message.text
    assert "KES 1,500" in message.text


async def test_cancelled_on_the_phone_through_the_emulator_in_kiswahili(
    live: BotHarness,
    sw_customer: FakeUser,
    emulator: Emulator,
    callback_receiver: CallbackReceiver,
) -> None:
    emulator.set_outcome("254708374149", 1032)
    await live.pay_up_to_confirmation(sw_customer, phone="0708374149")
    await live.confirm(sw_customer)
    await _settle(live, callback_receiver)
    text = live.fake.last(sw_customer.id).text
    assert text.startswith("Malipo ya KES 500 hayakukamilika.")
    assert "Umeghairi ombi kwenye simu" in text


async def test_duplicate_callbacks_give_one_message(
    live: BotHarness, customer: FakeUser, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    emulator.duplicate_callbacks(3)
    await live.pay_up_to_confirmation(customer, phone="0708374149")
    await live.confirm(customer)
    bodies = await callback_receiver.wait_for(3)
    for body in bodies:
        await live.service.apply_result(parse_stk_callback(body))
    assert await live.deliver() == 1
    assert await live.deliver() == 0
    assert sum(t.startswith("Paid ✓") for t in live.fake.texts(customer.id)) == 1
