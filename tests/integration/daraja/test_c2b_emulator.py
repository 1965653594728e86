"""C2B through the real Daraja client against the emulator: register, simulate, STK → C2B."""

from __future__ import annotations

import httpx
import pytest

from daraja.c2b import MsisdnForm, PhoneMatch, msisdn_hash, parse_c2b
from daraja.client import DarajaClient
from daraja.emulator import Emulator
from daraja.errors import AlreadyRegistered, ProductMismatch
from tests.support.daraja import RECEIVER_URL, CallbackReceiver, emulator_daraja_config

CONFIRM_URL = "http://receiver.test/c2b/confirm"
VALIDATE_URL = "http://receiver.test/c2b/validate"


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
def client(daraja_http: httpx.AsyncClient) -> DarajaClient:
    return DarajaClient(emulator_daraja_config(timeout=2.0), daraja_http, sleep=_no_sleep)


async def register(client: DarajaClient, version: str = "v2"):
    return await client.register_c2b(
        version=version, confirmation_url=CONFIRM_URL, validation_url=VALIDATE_URL
    )


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_register_each_version(
    client: DarajaClient, emulator: Emulator, version: str
) -> None:
    registered = await register(client, version)
    assert registered.version == version and registered.fallback_from is None
    assert registered.response_code == "0"
    assert registered.originator_conversation_id
    assert emulator.c2b.registration is not None
    assert emulator.c2b.registration.confirmation_url == CONFIRM_URL
    assert emulator.c2b.registration.version == version


@pytest.mark.parametrize(("asked", "product"), [("v1", "v2"), ("v2", "v1")])
async def test_no_apiproduct_match_falls_back_to_the_other_version(
    client: DarajaClient, emulator: Emulator, asked: str, product: str
) -> None:
    emulator.c2b.configure(product=product)  # type: ignore[arg-type]
    with pytest.raises(ProductMismatch, match="no apiproduct match"):
        await client.register_c2b_urls(
            version=asked, confirmation_url=CONFIRM_URL, validation_url=VALIDATE_URL
        )
    registered = await register(client, asked)
    assert registered.version == product and registered.fallback_from == asked
    assert emulator.c2b.registration is not None
    assert emulator.c2b.registration.version == product


async def test_already_registered_in_production(client: DarajaClient, emulator: Emulator) -> None:
    emulator.c2b.configure(register_once=True)
    await register(client)
    with pytest.raises(AlreadyRegistered, match="already registered") as caught:
        await register(client)
    assert caught.value.code == "500.003.1001"


async def test_the_sandbox_lets_urls_be_registered_again(
    client: DarajaClient, emulator: Emulator
) -> None:
    await register(client)
    await client.register_c2b(
        version="v2", confirmation_url=CONFIRM_URL + "2", validation_url=VALIDATE_URL
    )
    assert emulator.c2b.registration is not None
    assert emulator.c2b.registration.confirmation_url == CONFIRM_URL + "2"


async def test_refused_words_in_urls(client: DarajaClient) -> None:
    with pytest.raises(Exception, match="Invalid ConfirmationURL"):
        await client.register_c2b(
            version="v2",
            confirmation_url="http://receiver.test/mpesa/confirm",
            validation_url=VALIDATE_URL,
        )


@pytest.mark.parametrize(
    ("version", "form"), [("v1", MsisdnForm.HASHED), ("v2", MsisdnForm.MASKED)]
)
async def test_simulate_posts_a_confirmation_like_the_captured_ones(
    client: DarajaClient,
    emulator: Emulator,
    callback_receiver: CallbackReceiver,
    version: str,
    form: MsisdnForm,
) -> None:
    await register(client, version)
    answer = await client.c2b_simulate(
        version=version, amount=500, msisdn="254708374149", bill_ref="LB7K2Q"
    )
    assert answer["ResponseCode"] == "0"
    await emulator.drain()
    [body] = callback_receiver.bodies
    assert callback_receiver.paths == ["/c2b/confirm"]
    assert body["TransAmount"] == "500.00" and body["TransactionType"] == "Pay Bill"
    assert "MiddleName" not in body and body["FirstName"]
    parsed = parse_c2b(body)
    assert parsed.msisdn.form is form
    assert parsed.phone_match("254708374149") is PhoneMatch.SAME
    assert parsed.bill_ref == "LB7K2Q" and parsed.amount == 500
    if version == "v1":
        assert body["MSISDN"] == msisdn_hash("254708374149")
    else:
        assert body["MSISDN"] == "2547 ***** 149"


async def test_validation_when_enabled_then_confirmation(
    client: DarajaClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    await register(client)
    emulator.c2b.configure(validation=True)
    emulator.c2b.pay_bill("254708374149", 120, "LB7K2Q")
    await emulator.drain()
    assert callback_receiver.paths == ["/c2b/validate", "/c2b/confirm"]
    validation, confirmation = callback_receiver.bodies
    assert validation["OrgAccountBalance"] == "" and confirmation["OrgAccountBalance"] == "120.00"


async def test_a_rejected_validation_sends_no_confirmation(
    client: DarajaClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    await register(client)
    emulator.c2b.configure(validation=True)

    # A shop that rejects the account number, at the transport seam the emulator posts through.
    async def reject(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ResultCode": "C2B00012", "ResultDesc": "Rejected"})

    emulator._http = httpx.AsyncClient(transport=httpx.MockTransport(reject))
    transaction = emulator.c2b.pay_bill("254708374149", 120, "WRONG")
    await emulator.drain()
    assert transaction.status == "rejected" and transaction.validation_code == "C2B00012"
    assert [d.kind for d in transaction.deliveries] == ["validation"]


@pytest.mark.parametrize("order", ["before", "after"])
async def test_a_paybill_stk_payment_also_sends_its_c2b_confirmation(
    client: DarajaClient,
    emulator: Emulator,
    callback_receiver: CallbackReceiver,
    order: str,
) -> None:
    await register(client)
    emulator.c2b.configure(stk_order=order)  # type: ignore[arg-type]
    accepted = await client.stk_push(
        phone="254708374149",
        amount=250,
        account_reference="LB7K2Q",
        description="Payment",
        callback_url=RECEIVER_URL,
    )
    await emulator.drain()
    paths = callback_receiver.paths
    assert sorted(paths) == ["/c2b/confirm", "/callback"]
    assert paths[0] == ("/c2b/confirm" if order == "before" else "/callback")
    stk = next(b for b in callback_receiver.bodies if "Body" in b)
    c2b = next(b for b in callback_receiver.bodies if "TransID" in b)
    receipt = next(
        i["Value"]
        for i in stk["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
        if i["Name"] == "MpesaReceiptNumber"
    )
    assert stk["Body"]["stkCallback"]["CheckoutRequestID"] == accepted.checkout_request_id
    assert c2b["TransID"] == receipt and c2b["BillRefNumber"] == "LB7K2Q"
    assert c2b["TransAmount"] == "250.00"


async def test_no_c2b_confirmation_without_registered_urls(
    client: DarajaClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    emulator.drop_callbacks()
    await client.stk_push(
        phone="254708374149",
        amount=250,
        account_reference="LB7K2Q",
        description="Payment",
        callback_url=RECEIVER_URL,
    )
    await emulator.drain()
    assert callback_receiver.bodies == []


async def test_the_c2b_control_api(
    client: DarajaClient,
    daraja_http: httpx.AsyncClient,
    emulator: Emulator,
    callback_receiver: CallbackReceiver,
) -> None:
    answer = await daraja_http.post("/emulator/c2b", json={"product": "v1", "stk_delay": 0.5})
    assert answer.status_code == 200 and answer.json()["c2b"]["product"] == "v1"
    assert emulator.c2b.stk_delay == 0.5
    registered = await register(client, "v2")
    assert registered.version == "v1" and registered.fallback_from == "v2"
    paid = await daraja_http.post(
        "/emulator/pay-bill", json={"phone": "254708374149", "amount": 75, "account": "LB7K2QX"}
    )
    assert paid.status_code == 200
    await emulator.drain()
    [body] = callback_receiver.bodies
    assert body["TransID"] == paid.json()["trans_id"] and body["TransAmount"] == "75.00"
    state = (await daraja_http.get("/emulator/c2b")).json()
    assert state["registration"]["version"] == "v1"
    assert [t["status"] for t in state["transactions"]] == ["completed"]
    assert "254708374149" not in str(state)  # the emulator's own view masks phones too
    bad = await daraja_http.post("/emulator/c2b", json={"stk_order": "sideways"})
    assert bad.status_code == 400
    await daraja_http.post("/emulator/c2b", json={"register_once": True})
    assert emulator.c2b.product == "v1"  # a setting not named is kept
