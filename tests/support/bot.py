"""The bot's integration harness: real handler stack, real payments service and database,
the fake Telegram at the request seam, and a recording gateway standing in for Daraja.

`BotHarness` gives tests one object to drive: `await bot.say(user, "/pay")`,
`await bot.press(user, data)`, `await bot.callback(payment, code)` then `await bot.deliver()`.
`start_harness(settings, fake, gateway)` builds and starts one; the `bot` fixture
(tests/integration/bot/conftest.py) does it for a test.
"""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.app import build_application
from bot.context import BotApplication, BotServices, notifier_of
from config import Settings
from daraja.callbacks import parse_stk_callback
from offline.fake_telegram import FakeTelegram, FakeUser
from payments.daraja_gateway import DarajaGateway
from payments.models import Payment
from payments.outbox import Outbox
from payments.rules import PaymentRules
from payments.service import PaymentService
from tests.support.gateway import FakeDaraja
from tests.support.settings import make_settings
from webhooks.wiring import announce_chats


def callback_body(payment: Payment, code: int | str, *, receipt: str = "TBF34EVY55") -> dict:
    """A Daraja STK callback for `payment`, shaped like the captured ones (DARAJA.md §5.1)."""
    body: dict[str, Any] = {
        "MerchantRequestID": payment.merchant_request_id,
        "CheckoutRequestID": payment.checkout_request_id,
        "ResultCode": code,
        "ResultDesc": "The service request is processed successfully."
        if str(code) == "0"
        else "Request cancelled by user",
    }
    if str(code) == "0":
        body["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": payment.amount},
                {"Name": "MpesaReceiptNumber", "Value": receipt},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": 20250215140312},
                {"Name": "PhoneNumber", "Value": int(payment.phone)},
            ]
        }
    return {"Body": {"stkCallback": body}}


class BotHarness:
    def __init__(
        self,
        application: BotApplication,
        fake: FakeTelegram,
        gateway: FakeDaraja,
        service: PaymentService,
        outbox: Outbox,
    ) -> None:
        self.app = application
        self.fake = fake
        self.gateway = gateway
        self.service = service
        self.outbox = outbox

    @property
    def notifier(self):  # type: ignore[no-untyped-def]
        return notifier_of(self.app)

    async def feed(self, update: dict, *, settle: bool = True) -> None:  # type: ignore[type-arg]
        """Process one update through the handler stack.

        `settle` (the default) then waits for the STK pushes it started in the background
        (`bot.push_sender`), so the test sees the payment as Daraja's answer left it.
        """
        await self.app.process_update(Update.de_json(update, self.app.bot))
        if settle:
            await self.pushes_sent()

    async def queue(self, update: dict) -> None:  # type: ignore[type-arg]
        """Put an update on the application's queue, as the webhook route does: it is then
        processed concurrently with others (`PerChatUserUpdateProcessor`), not awaited here."""
        await self.app.update_queue.put(Update.de_json(update, self.app.bot))

    async def pushes_sent(self) -> None:
        """Wait until every STK push the bot started has Daraja's answer recorded."""
        await self.app.bot_data.pushes.idle()

    async def say(self, user: FakeUser, text: str) -> str:
        """Send a text (or /command) and return the bot's newest message text."""
        await self.feed(self.fake.text(user, text))
        return self.fake.last(user.id).text

    async def press(self, user: FakeUser, data: str, *, settle: bool = True, **kwargs: Any) -> None:
        await self.feed(self.fake.press(user, data, **kwargs), settle=settle)

    async def payment_of(self, user: FakeUser) -> Payment:
        payments = await self.service.recent_for_user(user.id, limit=1)
        assert payments, "no payment for this user"
        return payments[0]

    async def pay_up_to_confirmation(
        self, user: FakeUser, amount: str = "500", phone: str = "0712345678"
    ) -> Payment:
        await self.say(user, "/pay")
        await self.say(user, amount)
        await self.say(user, phone)
        return await self.payment_of(user)

    async def confirm(self, user: FakeUser) -> Payment:
        payment = await self.payment_of(user)
        await self.press(user, f"pay:{payment.id}")
        return await self.service.get(payment.id)

    async def callback(self, payment: Payment, code: int | str, **kwargs: Any) -> None:
        fresh = await self.service.get(payment.id)
        await self.service.apply_result(parse_stk_callback(callback_body(fresh, code, **kwargs)))

    async def deliver(self) -> int:
        return await self.notifier.deliver_due()


def bot_settings(**overrides: object) -> Settings:
    base: dict[str, object] = {"bot_conversation_timeout_seconds": 60.0, "push_limit_per_hour": 5}
    base.update(overrides)
    return make_settings(**base)


async def start_harness(
    settings: Settings,
    fake: FakeTelegram,
    gateway: FakeDaraja,
    *,
    callback_url: str = "https://lipabot.test/payments/callback/x",
    announce: bool = False,
) -> BotHarness:
    """One bot on the test database; `announce`: paid payments are announced to the admins
    (as ADMIN_NOTIFY_PAYMENTS does in production), off by default so tests count only their
    own messages."""
    service = PaymentService(
        DarajaGateway(gateway),
        rules=PaymentRules.from_settings(settings),
        callback_url=callback_url,
        account_reference=settings.mpesa_account_reference,
        admin_chat_ids=settings.admin_ids,
        announce_chat_ids=announce_chats(settings) if announce else (),
    )
    outbox = Outbox()
    application = build_application(
        settings,
        BotServices(payments=service, outbox=outbox, owner="test-instance"),
        request=fake.request(),
    )
    await application.initialize()
    await application.start()
    return BotHarness(application, fake, gateway, service, outbox)


async def stop_harness(harness: BotHarness) -> None:
    await harness.app.stop()
    await harness.app.shutdown()
