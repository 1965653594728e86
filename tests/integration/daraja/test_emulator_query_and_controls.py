"""STK query (pending, then final) and every control switch, through HTTP and the Python API."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from daraja.emulator import Emulator
from tests.support.daraja import CallbackReceiver, bearer, push_body, query_body

PUSH = "/mpesa/stkpush/v1/processrequest"
QUERY = "/mpesa/stkpushquery/v1/query"


async def push(client: httpx.AsyncClient, phone: str = "254708374149") -> httpx.Response:
    return await client.post(PUSH, json=push_body(phone), headers=await bearer(client))


async def query(client: httpx.AsyncClient, checkout_id: str) -> httpx.Response:
    return await client.post(QUERY, json=query_body(checkout_id), headers=await bearer(client))


async def test_query_pending_then_final(daraja_http: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.set_callback_delay(60)
    accepted = (await push(daraja_http, "254712341032")).json()
    checkout_id = accepted["CheckoutRequestID"]
    pending = await query(daraja_http, checkout_id)
    assert pending.status_code == 500
    assert pending.json() == {
        "requestId": checkout_id,
        "errorCode": "500.001.1001",
        "errorMessage": "The transaction is being processed",
    }
    await emulator.complete_now(checkout_id)
    await emulator.drain()
    final = await query(daraja_http, checkout_id)
    assert final.status_code == 200
    assert final.json() == {
        "ResponseCode": "0",
        "ResponseDescription": "The service request has been accepted successsfully",
        "MerchantRequestID": accepted["MerchantRequestID"],
        "CheckoutRequestID": checkout_id,
        "ResultCode": "1032",
        "ResultDesc": "Request cancelled by user",
    }


async def test_query_success_values_are_strings(
    daraja_http: httpx.AsyncClient, emulator: Emulator
) -> None:
    checkout_id = (await push(daraja_http)).json()["CheckoutRequestID"]
    await emulator.drain()
    body = (await query(daraja_http, checkout_id)).json()
    assert body["ResultCode"] == "0"
    assert all(isinstance(value, str) for value in body.values())


async def test_query_unknown_id_and_bad_credentials(daraja_http: httpx.AsyncClient) -> None:
    unknown = await query(daraja_http, "ws_CO_01012025000000000254700000000")
    assert unknown.status_code == 400
    assert unknown.json()["errorCode"] == "400.002.02"
    assert unknown.json()["errorMessage"] == "Bad Request - Invalid CheckoutRequestID"
    body = query_body("ws_CO_x")
    body["Password"] = "d3Jvbmc="
    wrong = await daraja_http.post(QUERY, json=body, headers=await bearer(daraja_http))
    assert wrong.status_code == 500
    assert wrong.json()["errorMessage"] == "Wrong credentials"
    no_token = await daraja_http.post(QUERY, json=query_body("ws_CO_x"))
    assert no_token.status_code == 404
    assert no_token.json()["errorCode"] == "404.001.03"


async def test_set_outcome_overrides_magic_table(
    daraja_http: httpx.AsyncClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    control = await daraja_http.post(
        "/emulator/outcome", json={"phone": "254708374149", "result_code": 2001}
    )
    assert control.status_code == 200
    await push(daraja_http)
    await emulator.drain()
    emulator.set_outcome("254712341032", "0")
    await push(daraja_http, "254712341032")
    await emulator.drain()
    assert [cb["ResultCode"] for cb in callback_receiver.callbacks] == [2001, 0]
    await daraja_http.post("/emulator/outcome", json={"phone": "254708374149"})
    await push(daraja_http)
    await emulator.drain()
    assert callback_receiver.callbacks[-1]["ResultCode"] == 0


async def test_duplicate_for_next_push_only(
    daraja_http: httpx.AsyncClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    control = await daraja_http.post("/emulator/duplicate", json={"copies": 3})
    assert control.json()["ok"] is True
    await push(daraja_http, "254700000011")
    await push(daraja_http, "254700000012")
    await emulator.drain()
    bodies = callback_receiver.bodies
    assert len(bodies) == 4
    first = [b for b in bodies if b["Body"]["stkCallback"]["CheckoutRequestID"].endswith("11")]
    assert len(first) == 3 and first[0] == first[1] == first[2]  # byte-identical copies


async def test_duplicate_for_a_phone_persists(
    daraja_http: httpx.AsyncClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    emulator.duplicate_callbacks(2, phone="254700000021")
    for _ in range(2):
        await push(daraja_http, "254700000021")
        await emulator.drain()
    await push(daraja_http, "254700000022")
    await emulator.drain()
    assert len(callback_receiver.bodies) == 5


async def test_dropped_callback_visible_through_query(
    daraja_http: httpx.AsyncClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    await daraja_http.post("/emulator/drop", json={})
    checkout_id = (await push(daraja_http, "254712341037")).json()["CheckoutRequestID"]
    await emulator.drain()
    assert callback_receiver.bodies == []
    final = await query(daraja_http, checkout_id)
    assert final.json()["ResultCode"] == "1037"
    # The switch was for one push only.
    await push(daraja_http, "254712341037")
    await emulator.drain()
    assert len(callback_receiver.bodies) == 1


async def test_late_second_callback(
    daraja_http: httpx.AsyncClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    control = await daraja_http.post(
        "/emulator/late-callback", json={"result_code": 1019, "after_seconds": 0.01}
    )
    assert control.status_code == 200
    accepted = (await push(daraja_http, "254712341037")).json()
    await emulator.drain()
    first, second = callback_receiver.callbacks
    assert (first["ResultCode"], second["ResultCode"]) == (1037, 1019)
    assert first["CheckoutRequestID"] == second["CheckoutRequestID"]
    assert first["MerchantRequestID"] == accepted["MerchantRequestID"]
    assert second["MerchantRequestID"] != first["MerchantRequestID"]
    assert second["ResultDesc"] == "Transaction has expired"
    assert "CallbackMetadata" not in second


async def test_spike_arrest_then_recovery(daraja_http: httpx.AsyncClient) -> None:
    await daraja_http.post("/emulator/spike-arrest", json={"count": 1})
    await daraja_http.post("/emulator/spike-arrest", json={"count": 1, "busy": True})
    spike, busy, ok = [await push(daraja_http) for _ in range(3)]
    assert spike.status_code == busy.status_code == 500
    assert spike.json()["errorCode"] == busy.json()["errorCode"] == "500.003.02"
    assert spike.json()["errorMessage"] == "Error Occurred: Spike Arrest Violation"
    assert busy.json()["errorMessage"] == "System is busy. Please try again in few minutes."
    assert ok.status_code == 200


async def test_push_timeout_processed(
    daraja_http: httpx.AsyncClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    await daraja_http.post("/emulator/push-timeout", json={"seconds": 30})
    headers = await bearer(daraja_http)
    with pytest.raises(httpx.ReadTimeout):
        await daraja_http.post(PUSH, json=push_body(), headers=headers, timeout=0.2)
    await emulator.drain()
    # The client saw a timeout, yet the push went through and its callback arrived.
    assert len(emulator.requests) == 1
    assert callback_receiver.callbacks[0]["ResultCode"] == 0
    # Only the next push hangs.
    assert (await push(daraja_http)).status_code == 200


async def test_push_timeout_not_processed(
    daraja_http: httpx.AsyncClient, emulator: Emulator
) -> None:
    emulator.hang_next_push(0.05, processed=False)
    response = await push(daraja_http)
    assert response.status_code == 500
    assert response.json()["errorCode"] == "500.003.1001"
    assert emulator.requests == {}


async def test_callback_delay_and_requests_listing(
    daraja_http: httpx.AsyncClient, emulator: Emulator, callback_receiver: CallbackReceiver
) -> None:
    control = await daraja_http.post("/emulator/delay", json={"seconds": 0.2})
    assert control.json()["callback_delay"] == 0.2
    checkout_id = (await push(daraja_http)).json()["CheckoutRequestID"]
    await asyncio.sleep(0.05)
    listing = (await daraja_http.get("/emulator/requests")).json()["requests"]
    assert [(r["checkout_request_id"], r["status"]) for r in listing] == [(checkout_id, "pending")]
    assert callback_receiver.bodies == []
    drained = await daraja_http.post("/emulator/drain", json={"timeout": 5})
    assert drained.status_code == 200
    [entry] = (await daraja_http.get("/emulator/requests")).json()["requests"]
    assert entry["status"] == "completed"
    assert entry["result_code"] == "0"
    assert entry["receipt"]
    assert [d["status_code"] for d in entry["deliveries"]] == [200]


async def test_expire_tokens_and_reset(daraja_http: httpx.AsyncClient, emulator: Emulator) -> None:
    headers = await bearer(daraja_http)
    await daraja_http.post("/emulator/expire-tokens")
    expired = await daraja_http.post(PUSH, json=push_body(), headers=headers)
    assert expired.json()["errorCode"] == "404.001.03"
    emulator.set_callback_delay(60)
    emulator.set_outcome("254708374149", 1)
    await push(daraja_http)
    reset = await daraja_http.post("/emulator/reset")
    assert reset.json() == {"ok": True, "callback_delay": 0.0}
    assert emulator.requests == {}
    await emulator.drain()  # the pending callback was cancelled, not waited for
    # The lock and the outcome override are gone too.
    response = await push(daraja_http)
    assert response.status_code == 200
    assert emulator.get(response.json()["CheckoutRequestID"]).scenario.code == "0"


async def test_control_rejects_bad_input(daraja_http: httpx.AsyncClient) -> None:
    bad_delay = await daraja_http.post("/emulator/delay", json={"seconds": "soon"})
    negative = await daraja_http.post("/emulator/delay", json={"seconds": -1})
    unknown = await daraja_http.post("/emulator/teleport", json={})
    no_phone = await daraja_http.post("/emulator/outcome", json={"result_code": 1})
    bad_style = await daraja_http.post("/emulator/callback-style", json={"amount": "float"})
    responses = (bad_delay, negative, unknown, no_phone, bad_style)
    assert [r.status_code for r in responses] == [400, 400, 404, 400, 400]
    assert bad_delay.json()["ok"] is False
