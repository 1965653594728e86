"""The Telegram webhook route: secret check, parsing, hand-over to the Application."""

from __future__ import annotations

import asyncio

import pytest

from bot.texts import t
from offline.fake_telegram import FakeTelegram, FakeUser
from payments.models import InboundUpdate
from tests.support.webhooks import WEBHOOK_SECRET, Service, ServiceFactory

HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def _processed(service: Service) -> None:
    application = service.runtime.application
    assert application is not None
    await asyncio.wait_for(application.update_queue.join(), timeout=5)


async def test_update_with_the_secret_reaches_the_handlers(
    service: Service, customer: FakeUser
) -> None:
    update = service.telegram.command(customer, "pay")
    response = await service.client.post(
        "/telegram/webhook", json=update, headers={HEADER: WEBHOOK_SECRET}
    )
    assert response.status_code == 200
    await _processed(service)
    expected = t("en", "ask_amount", merchant=service.settings.merchant_name)
    assert service.telegram.texts(customer.id) == [expected]


@pytest.mark.parametrize("secret", [None, "", "tg-webhook-secreT", "tg-webhook-secret-and-more"])
async def test_wrong_or_missing_secret_is_403_and_nothing_happens(
    service: Service, customer: FakeUser, secret: str | None
) -> None:
    headers = {HEADER: secret} if secret is not None else {}
    update = service.telegram.command(customer, "pay")
    response = await service.client.post("/telegram/webhook", json=update, headers=headers)
    assert response.status_code == 403
    await _processed(service)
    assert service.telegram.texts(customer.id) == []


async def test_no_configured_secret_refuses_everything(
    make_service: ServiceFactory, customer: FakeUser
) -> None:
    async with make_service(telegram_webhook_secret=None) as service:
        update = service.telegram.command(customer, "pay")
        response = await service.client.post("/telegram/webhook", json=update, headers={HEADER: ""})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"update_id": 1}', "text/plain"),
        (b"[1, 2]", "application/json"),
        (b'{"message": {}}', "application/json"),
        (b'{"update_id": 5, "message": {"chat": 3}}', "application/json"),
    ],
    ids=["not-json", "wrong-type", "list", "no-update-id", "broken-message"],
)
async def test_bad_bodies_are_400(service: Service, content: bytes, content_type: str) -> None:
    response = await service.client.post(
        "/telegram/webhook",
        content=content,
        headers={HEADER: WEBHOOK_SECRET, "content-type": content_type},
    )
    assert response.status_code == 400


async def test_get_is_not_allowed(service: Service) -> None:
    response = await service.client.get("/telegram/webhook", headers={HEADER: WEBHOOK_SECRET})
    assert response.status_code == 405


async def test_polling_mode_deletes_the_webhook_and_answers_polled_updates(
    make_service: ServiceFactory, fake_telegram: FakeTelegram, customer: FakeUser
) -> None:
    fake_telegram.webhook_url = "https://old.example/telegram/webhook"
    kwargs = {"telegram_mode": "polling", "telegram_updates_request": fake_telegram.request()}
    async with make_service(app_kwargs=kwargs) as service:
        fake_telegram.enqueue(fake_telegram.command(customer, "pay"))
        expected = t("en", "ask_amount", merchant=service.settings.merchant_name)
        for _ in range(500):  # up to 10 s
            if fake_telegram.texts(customer.id) == [expected]:
                break
            await asyncio.sleep(0.02)
        assert fake_telegram.texts(customer.id) == [expected]
    assert fake_telegram.webhook_url == ""
    assert fake_telegram.calls_to("deleteWebhook")


async def test_an_update_the_database_cannot_keep_is_503_and_kept_on_telegrams_retry(
    service: Service, customer: FakeUser
) -> None:
    """Answering 200 for an update that was not kept would lose it: Telegram never resends."""
    update = service.telegram.command(customer, "pay")
    conn = InboundUpdate._meta.db
    await conn.execute_script("ALTER TABLE telegram_inbox RENAME TO telegram_inbox_away")
    try:
        refused = await service.client.post(
            "/telegram/webhook", json=update, headers={HEADER: WEBHOOK_SECRET}
        )
    finally:
        await conn.execute_script("ALTER TABLE telegram_inbox_away RENAME TO telegram_inbox")
    assert refused.status_code == 503
    await _processed(service)
    assert service.telegram.texts(customer.id) == []

    retried = await service.client.post(
        "/telegram/webhook", json=update, headers={HEADER: WEBHOOK_SECRET}
    )
    again = await service.client.post(
        "/telegram/webhook", json=update, headers={HEADER: WEBHOOK_SECRET}
    )
    assert (retried.status_code, again.status_code) == (200, 200)
    assert again.json()["detail"] == "duplicate"
    await _processed(service)
    expected = t("en", "ask_amount", merchant=service.settings.merchant_name)
    assert service.telegram.texts(customer.id) == [expected]
