"""The C2B routes: guards, every corpus body, settlement through the route, validation modes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from daraja.c2b import mask_for_display
from payments.models import C2BPayment, Notification, Payment, PaymentEvent
from tests.support.settings import TEST_CALLBACK_TOKEN
from tests.support.webhooks import (
    CALLBACK,
    Service,
    ServiceFactory,
    callback_body,
    pending_payment,
)
from webhooks.body import MAX_CALLBACK_BYTES

C2B_CORPUS = Path(__file__).resolve().parents[2] / "data" / "c2b"
CONFIRM = f"/payments/c2b/confirmation/{TEST_CALLBACK_TOKEN}"
VALIDATE = f"/payments/c2b/validation/{TEST_CALLBACK_TOKEN}"
ACK = {"ResultCode": 0, "ResultDesc": "Success"}


def _corpus(prefix: str) -> list[str]:
    return sorted(
        p.name
        for p in C2B_CORPUS.glob(f"{prefix}*.json")
        if "_response_" not in p.name and not p.name.startswith("c2b_confirmation_response")
    )


def c2b_body(payment: Payment | None, *, trans_id: str = "TC2ABCDE12", **over: Any) -> dict:
    body: dict[str, Any] = {
        "TransactionType": "Pay Bill",
        "TransID": trans_id,
        "TransTime": "20260302150012",
        "TransAmount": f"{payment.amount if payment else 100}.00",
        "BusinessShortCode": "174379",
        "BillRefNumber": payment.account_number if payment else "WALKIN",
        "InvoiceNumber": "",
        "OrgAccountBalance": "161.00",
        "ThirdPartyTransID": "",
        "MSISDN": mask_for_display(payment.phone if payment else "254799000111"),
        "FirstName": "GRACE",
    }
    body.update(over)
    return body


@pytest.mark.parametrize("name", _corpus("c2b_confirmation_"))
async def test_every_captured_confirmation_is_answered_and_kept(
    service: Service, name: str
) -> None:
    body = json.loads((C2B_CORPUS / name).read_text())
    response = await service.client.post(CONFIRM, json=body)
    assert response.status_code == 200, response.text
    assert response.json() == ACK
    row = await C2BPayment.get(trans_id=body["TransID"])
    assert row.status == "unmatched" and row.amount == int(float(body["TransAmount"]))
    assert row.raw_body["TransID"] == body["TransID"]


@pytest.mark.parametrize("name", _corpus("c2b_validation_"))
async def test_every_captured_validation_is_accepted_by_default(
    make_service: ServiceFactory, name: str
) -> None:
    async with make_service(c2b_validation="accept") as service:
        body = json.loads((C2B_CORPUS / name).read_text())
        response = await service.client.post(VALIDATE, json=body)
        assert response.status_code == 200, response.text
        assert response.json() == {"ResultCode": "0", "ResultDesc": "Accepted"}
        event = await PaymentEvent.get(kind="c2b_validation")
        assert event.raw_body["TransID"] == body["TransID"]


async def test_a_confirmation_pays_its_payment_with_the_receipt(service: Service) -> None:
    payment = await pending_payment(service, amount=1500)
    response = await service.client.post(CONFIRM, json=c2b_body(payment))
    assert response.status_code == 200 and response.json() == ACK
    fresh = await Payment.get(id=payment.id)
    assert fresh.status == "paid" and fresh.receipt == "TC2ABCDE12"
    again = await service.client.post(CONFIRM, json=c2b_body(payment))
    assert again.status_code == 200 and again.json() == ACK
    assert await Notification.filter(payment_id=payment.id, chat_id=payment.chat_id).count() == 1
    assert await C2BPayment.all().count() == 1


@pytest.mark.parametrize("first", ["stk", "c2b"])
async def test_stk_callback_and_confirmation_through_the_routes_give_one_message(
    service: Service, first: str
) -> None:
    payment = await pending_payment(service, amount=1500)
    stk = callback_body(payment, 0, receipt="TC2ABCDE12")
    c2b = c2b_body(payment)
    order = [(CALLBACK, stk), (CONFIRM, c2b)]
    if first == "c2b":
        order.reverse()
    for path, body in order:
        assert (await service.client.post(path, json=body)).status_code == 200
    fresh = await Payment.get(id=payment.id)
    assert fresh.status == "paid" and fresh.receipt == "TC2ABCDE12"
    assert await Notification.filter(payment_id=payment.id, chat_id=payment.chat_id).count() == 1


async def test_wrong_token_is_404_and_nothing_is_kept(service: Service) -> None:
    response = await service.client.post(
        "/payments/c2b/confirmation/not-the-token", json=c2b_body(None)
    )
    assert response.status_code == 404
    assert await C2BPayment.all().count() == 0


async def test_addresses_outside_the_allowlist_are_refused(make_service: ServiceFactory) -> None:
    async with make_service(mpesa_allowed_ips=["196.201.214.0/24"]) as service:
        async with service.client_for("203.0.113.9") as stranger:
            refused = await stranger.post(CONFIRM, json=c2b_body(None))
        async with service.client_for("196.201.214.200") as safaricom:
            accepted = await safaricom.post(CONFIRM, json=c2b_body(None))
        assert refused.status_code == 403 and accepted.status_code == 200
        assert await C2BPayment.all().count() == 1


async def test_bodies_that_are_not_c2b_are_refused_with_a_reason_and_kept(
    service: Service,
) -> None:
    too_big = await service.client.post(
        CONFIRM,
        content=b"{" + b" " * MAX_CALLBACK_BYTES + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    not_json = await service.client.post(
        CONFIRM, content=b"nope", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    body = c2b_body(None, TransAmount="10.50", MSISDN="254799000111")
    malformed = await service.client.post(CONFIRM, json=body)
    assert malformed.status_code == 400
    assert "TransAmount: not a whole number" in malformed.json()["ResultDesc"]
    kept = await PaymentEvent.filter(kind="callback_rejected").order_by("id")
    assert len(kept) >= 2
    assert kept[-1].raw_body["TransID"] == "TC2ABCDE12"
    assert kept[-1].raw_body["MSISDN"] == "2547 ***** 111"  # never the whole number
    assert await C2BPayment.all().count() == 0


async def test_an_unmatched_payment_reaches_the_admins_in_words(service: Service) -> None:
    response = await service.client.post(CONFIRM, json=c2b_body(None, BillRefNumber="INV-77"))
    assert response.status_code == 200
    row = await C2BPayment.get(trans_id="TC2ABCDE12")
    text = ""
    for _ in range(100):
        texts = service.telegram.texts(1000)
        if texts:
            text = texts[-1]
            break
        await service.runtime.notifier.deliver_due()
    assert "matches no payment" in text and "KES 100" in text and '"INV-77"' in text
    assert f"/attach {row.id}" in text and "2547 ***** 111" in text
    assert "no payment has this account number" in text


@pytest.mark.parametrize(
    ("mode", "account", "amount", "code"),
    [
        ("off", "NOPE", 1500, "0"),
        ("accept", "NOPE", 1500, "0"),
        ("strict", "NOPE", 1500, "C2B00012"),
        ("strict", "ours", 999, "C2B00013"),
        ("strict", "ours", 1500, "0"),
    ],
)
async def test_validation_in_each_mode(
    make_service: ServiceFactory, mode: str, account: str, amount: int, code: str
) -> None:
    async with make_service(c2b_validation=mode) as service:
        payment = await pending_payment(service, amount=1500)
        bill_ref = payment.account_number if account == "ours" else account
        body = c2b_body(payment, BillRefNumber=bill_ref, TransAmount=f"{amount}.00")
        response = await service.client.post(VALIDATE, json=body)
        assert response.status_code == 200
        assert response.json()["ResultCode"] == code
        assert response.json()["ResultDesc"] == ("Accepted" if code == "0" else "Rejected")
        recorded = await PaymentEvent.filter(kind="c2b_validation").count()
        assert recorded == (0 if mode == "off" else 1)
        assert (await Payment.get(id=payment.id)).status == "pending"
