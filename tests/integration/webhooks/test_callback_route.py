"""The Daraja callback route: authentication, body checks, every callback class, idempotency."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from daraja.result_codes import outcome_for
from daraja.types import Outcome
from payments.models import Notification, Payment, PaymentEvent
from tests.support.webhooks import (
    CALLBACK,
    Service,
    ServiceFactory,
    callback_body,
    corpus_body_for,
    corpus_callbacks,
    pending_payment,
)
from webhooks.body import MAX_CALLBACK_BYTES

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
EXPECTED_STATUS = {
    Outcome.PAID: "paid",
    Outcome.CANCELLED: "cancelled",
    Outcome.FAILED: "failed",
    Outcome.EXPIRED: "expired",
    Outcome.UNKNOWN: "pending",
}


async def _status(payment: Payment) -> str:
    return str((await Payment.get(id=payment.id)).status)


async def test_success_callback_marks_paid_and_notifies_at_once(service: Service) -> None:
    payment = await pending_payment(service, amount=1500)
    response = await service.client.post(CALLBACK, json=callback_body(payment, 0))
    assert response.status_code == 200
    assert response.json() == ACCEPTED
    fresh = await Payment.get(id=payment.id)
    assert fresh.status == "paid" and fresh.receipt == "TBF34EVY55"
    # The raw body is kept on the audit trail.
    event = await PaymentEvent.filter(payment_id=payment.id, kind="callback").first()
    assert event is not None and event.raw_body == callback_body(payment, 0)
    # The notifier was woken: the customer's message goes out well before its 0.5 s tick.
    notification = await Notification.get(payment_id=payment.id, kind="paid")
    for _ in range(50):
        await notification.refresh_from_db()
        if notification.status == "sent":
            break
        await asyncio.sleep(0.005)
    assert notification.status == "sent"


@pytest.mark.parametrize("name", corpus_callbacks())
async def test_every_real_callback_is_answered_200_with_the_right_state(
    service: Service, name: str
) -> None:
    payment = await pending_payment(service, amount=108)
    body = corpus_body_for(name, payment)
    response = await service.client.post(CALLBACK, json=body)
    assert response.status_code == 200, response.text
    assert response.json() == ACCEPTED
    code = body["Body"]["stkCallback"]["ResultCode"]
    assert await _status(payment) == EXPECTED_STATUS[outcome_for(code)]


async def test_duplicate_callback_changes_nothing_and_notifies_once(service: Service) -> None:
    payment = await pending_payment(service)
    body = callback_body(payment, 1032)
    first = await service.client.post(CALLBACK, json=body)
    second = await service.client.post(CALLBACK, json=body)
    assert first.status_code == second.status_code == 200
    assert await _status(payment) == "cancelled"
    assert await Notification.filter(payment_id=payment.id).count() == 1


async def test_unknown_checkout_request_id_is_stored_and_answered_200(service: Service) -> None:
    body = {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": "1-2-3",
                "CheckoutRequestID": "ws_CO_010120250000000001254700000099",
                "ResultCode": 1032,
                "ResultDesc": "Request cancelled by user",
            }
        }
    }
    response = await service.client.post(CALLBACK, json=body)
    assert response.status_code == 200 and response.json() == ACCEPTED
    event = await PaymentEvent.get(checkout_request_id="ws_CO_010120250000000001254700000099")
    assert event.kind == "unknown_checkout" and event.payment_id is None
    assert event.raw_body == body


async def test_wrong_token_is_404_and_changes_nothing(service: Service) -> None:
    payment = await pending_payment(service)
    events_before = await PaymentEvent.all().count()
    response = await service.client.post(
        "/payments/callback/not-the-token", json=callback_body(payment, 0)
    )
    assert response.status_code == 404
    assert await _status(payment) == "pending"
    assert await PaymentEvent.all().count() == events_before


async def test_a_token_prefix_is_not_enough(service: Service) -> None:
    response = await service.client.post(CALLBACK[:-1], json={})
    assert response.status_code == 404


async def test_body_over_64_kib_by_content_length_is_413(service: Service) -> None:
    payload = b"{" + b" " * MAX_CALLBACK_BYTES + b"}"
    response = await service.client.post(
        CALLBACK, content=payload, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_body_over_64_kib_streamed_without_length_is_413(service: Service) -> None:
    async def chunks():  # no Content-Length: httpx sends it chunked
        for _ in range(20):
            yield b" " * 4096

    response = await service.client.post(
        CALLBACK, content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_lying_content_length_is_caught_while_streaming(service: Service) -> None:
    async def chunks():
        for _ in range(20):
            yield b" " * 4096

    response = await service.client.post(
        CALLBACK,
        content=chunks(),
        headers={"content-type": "application/json", "content-length": "10"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("content", "content_type", "reason"),
    [
        (b'{"Body": {}}', "text/plain", "content type must be application/json"),
        (b'{"Body": {}}', None, "content type must be application/json"),
        (b'{"a": "\xff\xfe"}', "application/json", "body is not valid UTF-8"),
        (b"Body=stkCallback", "application/json", "body is not JSON"),
        (b"", "application/json", "empty body"),
        (b"[" * 5000 + b"]" * 5000, "application/json", "JSON nested too deeply"),
        (b"[" * 40 + b"]" * 40, "application/json", "JSON nested too deeply"),
        (b'{"Body": {"a": 1, "a": 1}}', "application/json", "duplicate key in a JSON object"),
        (b'{"Body": {"a": NaN}}', "application/json", "body is not JSON"),
        (b'{"Body": {"a": -Infinity}}', "application/json", "body is not JSON"),
        (b'{"Body": {"a": 1e400}}', "application/json", "JSON number out of range"),
    ],
    ids=[
        "text-plain",
        "no-type",
        "bad-utf8",
        "not-json",
        "empty",
        "very-deep",
        "deep",
        "dup-key",
        "nan",
        "minus-infinity",
        "overflowing-number",
    ],
)
async def test_unreadable_bodies_are_400_with_the_reason(
    service: Service, content: bytes, content_type: str | None, reason: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await service.client.post(CALLBACK, content=content, headers=headers)
    assert response.status_code == 400
    assert response.json()["ResultDesc"] == reason


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        {"Body": {"stkCallback": {"ResultCode": 0}}},
        {"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1", "MerchantRequestID": "m"}}},
        {"Body": "stkCallback"},
    ],
    ids=["empty-object", "list", "no-ids", "no-result-code", "not-an-object"],
)
async def test_malformed_callbacks_are_400_and_kept_for_audit(
    service: Service, body: object
) -> None:
    response = await service.client.post(CALLBACK, json=body)
    assert response.status_code == 400
    assert response.json()["ResultDesc"].startswith("malformed callback: ")
    event = await PaymentEvent.filter(kind="callback_rejected").order_by("-id").first()
    assert event is not None and event.payment_id is None
    assert event.raw_body == body


async def test_non_json_body_text_is_kept_for_audit(service: Service) -> None:
    await service.client.post(
        CALLBACK, content=b"<xml>nope</xml>", headers={"content-type": "application/json"}
    )
    event = await PaymentEvent.filter(kind="callback_rejected").order_by("-id").first()
    assert event is not None
    assert event.detail == {"reason": "body is not JSON", "text": "<xml>nope</xml>"}


async def test_success_for_another_amount_is_flagged_not_paid(service: Service) -> None:
    payment = await pending_payment(service, amount=500)
    response = await service.client.post(CALLBACK, json=callback_body(payment, 0, amount=5))
    assert response.status_code == 200
    fresh = await Payment.get(id=payment.id)
    assert fresh.status != "paid" and fresh.flagged_reason


async def test_callback_log_lines_hide_the_token_and_the_phone(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    payment = await pending_payment(service, phone="0712987654")
    caplog.set_level("DEBUG")  # an accepted callback's access line is at DEBUG
    await service.client.post(CALLBACK, json=callback_body(payment, 0))
    # Our own lines (the test client's httpx lines are not the service's).
    text = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("webhooks", "lipabot"))
    )
    assert "/payments/callback/***" in text
    assert CALLBACK.rsplit("/", 1)[1] not in text
    assert "254712987654" not in text and "0712987654" not in text


def _our_lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= level and r.name.startswith(("webhooks", "lipabot", "payments"))
    ]


async def test_at_info_an_accepted_callback_is_one_line_a_refused_one_keeps_its_access_line(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    payment = await pending_payment(service)
    caplog.set_level("INFO")
    caplog.clear()
    assert (await service.client.post(CALLBACK, json=callback_body(payment, 0))).status_code == 200
    [line] = _our_lines(caplog, logging.INFO)
    assert f"payment #{payment.id}: callback" in line and "-> paid [applied]" in line

    caplog.clear()
    response = await service.client.post(
        CALLBACK, content=b"<xml>nope</xml>", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    lines = _our_lines(caplog, logging.INFO)
    assert any("refused: body is not JSON" in line for line in lines)
    assert any(line.startswith("lipabot.access: POST /payments/callback/*** 400") for line in lines)


async def test_emulator_callbacks_reach_the_route_in_process(make_service: ServiceFactory) -> None:
    async with make_service() as service:
        user = 9100
        payment = await service.runtime.service.start_payment(  # type: ignore[union-attr]
            user_id=user, chat_id=user, language="en", amount=42, phone="0712341032"
        )
        await service.emulator.drain()
        assert await _status(payment) == "cancelled"


def test_the_corpus_is_found() -> None:
    # Guards the parametrised test above against silently running on zero files.
    assert len(corpus_callbacks()) >= 30


async def test_a_refused_value_is_named_in_the_answer_and_the_audit_row(service: Service) -> None:
    payment = await pending_payment(service, amount=1500)
    body = callback_body(payment, 0, receipt="tbf34evy55")
    response = await service.client.post(CALLBACK, json=body)
    assert response.status_code == 400
    reason = response.json()["ResultDesc"]
    assert reason.startswith("malformed callback: Body.stkCallback.CallbackMetadata")
    assert "MpesaReceiptNumber" in reason and "upper-case" in reason
    event = await PaymentEvent.filter(kind="callback_rejected").order_by("-id").first()
    assert event is not None and event.detail == {"reason": reason}
    assert event.raw_body == body
    assert event.checkout_request_id == payment.checkout_request_id
    assert await _status(payment) == "pending"


async def test_an_exponent_outside_the_amount_does_not_refuse_the_callback(
    service: Service,
) -> None:
    """Only the Amount decides money; Balance is informational (docs/DARAJA.md §5.2)."""
    payment = await pending_payment(service, amount=1500)
    text = json.dumps(callback_body(payment, 0)).replace('{"Name": "Balance"}', _BALANCE_1E3)
    response = await service.client.post(
        CALLBACK, content=text.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert await _status(payment) == "paid"


_BALANCE_1E3 = '{"Name": "Balance", "Value": 1E+3}'


@pytest.mark.postgres
async def test_503_is_only_for_a_database_outage(make_service: ServiceFactory) -> None:
    """A valid callback that cannot be stored gets 503; a bad body still gets its 400."""
    from tests.support.db import (
        PostgresUnavailable,
        create_postgres_database,
        drop_postgres_database,
        postgres_required,
    )

    try:
        url = await create_postgres_database()
    except PostgresUnavailable as exc:
        if postgres_required():
            raise
        pytest.skip(str(exc))
    try:
        async with make_service(database_url=url) as service:
            payment = await pending_payment(service, amount=1500)
            await drop_postgres_database(url)  # terminates our connections too
            valid = await service.client.post(CALLBACK, json=callback_body(payment, 0))
            assert valid.status_code == 503
            assert valid.json()["ResultDesc"] == "temporarily unavailable"
            bad = callback_body(payment, 0, receipt="T" * 40)
            refused = await service.client.post(CALLBACK, json=bad)
            assert refused.status_code == 400
            assert "MpesaReceiptNumber" in refused.json()["ResultDesc"]
    finally:
        await drop_postgres_database(url)
