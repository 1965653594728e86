"""`serve` publishes the command menus at start-up, the admins' with the shop commands."""

from __future__ import annotations

from offline.fake_telegram import FakeTelegram
from tests.support.webhooks import ServiceFactory


async def test_serve_publishes_the_menus(
    make_service: ServiceFactory, fake_telegram: FakeTelegram
) -> None:
    async with make_service(app_kwargs={"register_webhook": True}, admin_ids=[1000]):
        default = [c["command"] for c in fake_telegram.commands_for({"type": "default"})]
        admin = [
            c["command"] for c in fake_telegram.commands_for({"type": "chat", "chat_id": 1000})
        ]
    assert default[0] == "pay" and "link" not in default
    assert {"status", "link", "export", "find", "report"} <= set(admin)


async def test_a_menu_telegram_refuses_does_not_stop_the_service(
    make_service: ServiceFactory, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail_server_error(502, method="setMyCommands", times=None)
    async with make_service(app_kwargs={"register_webhook": True}) as service:
        response = await service.client.get("/healthz")
        assert response.status_code == 200
        assert fake_telegram.calls_to("setWebhook")


async def test_tests_without_a_webhook_leave_the_menus_alone(
    make_service: ServiceFactory, fake_telegram: FakeTelegram
) -> None:
    async with make_service():
        pass
    assert fake_telegram.calls_to("setMyCommands") == []
