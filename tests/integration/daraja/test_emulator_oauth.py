"""The emulator's OAuth endpoint: Basic auth, grant type, string expires_in, token expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.support.daraja import (
    CallbackReceiver,
    bearer,
    emulator_http_client,
    make_emulator_app,
    push_body,
)

OAUTH = "/oauth/v1/generate"
GRANT = {"grant_type": "client_credentials"}


async def test_token_issued_with_string_expires_in(daraja_http: httpx.AsyncClient) -> None:
    response = await daraja_http.get(OAUTH, params=GRANT, auth=("any", "thing"))
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == "3599"
    assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 20


async def test_wrong_grant_type(daraja_http: httpx.AsyncClient) -> None:
    response = await daraja_http.get(OAUTH, params={"grant_type": "password"}, auth=("k", "s"))
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "400.008.02"
    assert body["errorMessage"] == "Invalid grant type passed"
    assert body["requestId"]


async def test_missing_and_non_basic_auth(daraja_http: httpx.AsyncClient) -> None:
    missing = await daraja_http.get(OAUTH, params=GRANT)
    bearer_auth = await daraja_http.get(OAUTH, params=GRANT, headers={"Authorization": "Bearer x"})
    for response in (missing, bearer_auth):
        assert response.status_code == 400
        assert response.json()["errorCode"] == "400.008.01"
        assert response.json()["errorMessage"] == "Invalid authentication type passed"


async def test_configured_credentials_are_checked() -> None:
    app = make_emulator_app(consumer_key="ck", consumer_secret="cs")
    async with emulator_http_client(app) as client:
        wrong = await client.get(OAUTH, params=GRANT, auth=("ck", "nope"))
        right = await client.get(OAUTH, params=GRANT, auth=("ck", "cs"))
    assert wrong.status_code == 400
    assert wrong.json()["errorCode"] == "400.008.01"
    assert right.status_code == 200


async def test_token_expires_after_an_hour() -> None:
    now = [datetime.now(UTC)]
    receiver = CallbackReceiver()
    app = make_emulator_app(callback_app=receiver.app, clock=lambda: now[0])
    async with emulator_http_client(app) as client:
        headers = await bearer(client)
        now[0] += timedelta(seconds=3601)
        body = push_body(at=now[0])
        response = await client.post("/mpesa/stkpush/v1/processrequest", json=body, headers=headers)
    assert response.status_code == 404
    assert response.json()["errorCode"] == "404.001.03"
    assert response.json()["errorMessage"] == "Invalid Access Token"


async def test_unknown_path_gets_daraja_error_body(daraja_http: httpx.AsyncClient) -> None:
    response = await daraja_http.get("/mpesa/nothing/here")
    assert response.status_code == 404
    assert response.json()["errorCode"] == "404.001.01"
    wrong_method = await daraja_http.get("/mpesa/stkpush/v1/processrequest")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["errorCode"] == "405.001"
