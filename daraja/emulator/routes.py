"""The Daraja endpoints the emulator serves: OAuth, STK push and query, C2B register and
simulate (docs/DARAJA.md §2-§4, §11)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from daraja.emulator.ids import merchant_request_id
from daraja.emulator.state import Emulator
from daraja.emulator.validation import (
    BAD_PAYLOAD,
    SERVER_FAULT,
    DarajaFault,
    check_credentials,
    check_push,
    invalid,
)

ACCEPTED = "Success. Request accepted for processing"
# Real responses (2020-2024) carry this spelling; the docs' "successfully" is the exception.
QUERY_ACCEPTED = "The service request has been accepted successsfully"


def emulator_of(request: Request) -> Emulator:
    return request.app.state.emulator


def fault_response(fault: DarajaFault) -> JSONResponse:
    body = {
        "requestId": fault.request_id or merchant_request_id(),
        "errorCode": fault.code,
        "errorMessage": fault.message,
    }
    return JSONResponse(body, status_code=fault.status)


def _basic_credentials(header: str | None) -> tuple[str, str]:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise DarajaFault(400, "400.008.01", "Invalid authentication type passed")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise DarajaFault(400, "400.008.01", "Invalid authentication type passed") from None
    key, sep, secret = decoded.partition(":")
    if not sep:
        raise DarajaFault(400, "400.008.01", "Invalid authentication type passed")
    return key, secret


async def oauth(request: Request) -> JSONResponse:
    emulator = emulator_of(request)
    try:
        if request.query_params.get("grant_type") != "client_credentials":
            raise DarajaFault(400, "400.008.02", "Invalid grant type passed")
        key, secret = _basic_credentials(request.headers.get("authorization"))
        token = emulator.issue_token(key, secret)
        if token is None:
            # Real Daraja's wrong-key body was never captured (docs/DARAJA.md §2): our choice.
            raise DarajaFault(400, "400.008.01", "Invalid Authentication passed")
    except DarajaFault as fault:
        return fault_response(fault)
    # Real responses send expires_in as a string (docs/DARAJA.md §2, §9).
    return JSONResponse({"access_token": token, "expires_in": "3599"})


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DarajaFault(400, BAD_PAYLOAD, "Invalid Request Payload") from None
    if not isinstance(body, dict):
        raise DarajaFault(400, BAD_PAYLOAD, "Invalid Request Payload")
    return body


def _check_token(emulator: Emulator, request: Request) -> None:
    if not emulator.token_valid(request.headers.get("authorization")):
        raise DarajaFault(404, "404.001.03", "Invalid Access Token")


async def stk_push(request: Request) -> JSONResponse:
    emulator = emulator_of(request)
    try:
        # Spike arrest sits in the gateway, in front of everything else.
        fault = emulator.take_fault()
        if fault is not None:
            raise fault
        _check_token(emulator, request)
        push = check_push(
            await _json_body(request),
            shortcode=emulator.shortcode,
            passkey=emulator.passkey,
            now=emulator.clock(),
            tolerance=emulator.timestamp_tolerance,
        )
        hang = emulator.take_hang()
        if hang is not None and not hang[1]:
            await emulator.hang(hang[0])
            raise DarajaFault(500, "500.003.1001", "Internal Server Error")
        accepted = emulator.accept(push)
        if hang is not None:
            await emulator.hang(hang[0])
    except DarajaFault as fault:
        return fault_response(fault)
    return JSONResponse(
        {
            "MerchantRequestID": accepted.merchant_request_id,
            "CheckoutRequestID": accepted.checkout_request_id,
            "ResponseCode": "0",
            "ResponseDescription": ACCEPTED,
            "CustomerMessage": ACCEPTED,
        }
    )


async def stk_query(request: Request) -> JSONResponse:
    emulator = emulator_of(request)
    try:
        _check_token(emulator, request)
        body = await _json_body(request)
        check_credentials(
            body,
            shortcode=emulator.shortcode,
            passkey=emulator.passkey,
            now=emulator.clock(),
            tolerance=emulator.timestamp_tolerance,
        )
        checkout_id = body.get("CheckoutRequestID")
        stk = emulator.get(checkout_id) if isinstance(checkout_id, str) else None
        if stk is None:
            raise invalid("CheckoutRequestID")
        if stk.status == "pending":
            raise DarajaFault(
                500, SERVER_FAULT, "The transaction is being processed", stk.checkout_request_id
            )
    except DarajaFault as fault:
        return fault_response(fault)
    return JSONResponse(
        {
            "ResponseCode": "0",
            "ResponseDescription": QUERY_ACCEPTED,
            "MerchantRequestID": stk.merchant_request_id,
            "CheckoutRequestID": stk.checkout_request_id,
            "ResultCode": stk.scenario.code,
            "ResultDesc": stk.scenario.desc,
        }
    )


async def c2b_register(request: Request) -> JSONResponse:
    emulator = emulator_of(request)
    try:
        _check_token(emulator, request)
        answer = emulator.c2b.register(request.path_params["version"], await _json_body(request))
    except DarajaFault as fault:
        return fault_response(fault)
    return JSONResponse(answer)


async def c2b_simulate(request: Request) -> JSONResponse:
    emulator = emulator_of(request)
    try:
        _check_token(emulator, request)
        answer = emulator.c2b.simulate(request.path_params["version"], await _json_body(request))
    except DarajaFault as fault:
        return fault_response(fault)
    return JSONResponse(answer)


daraja_routes = [
    Route("/oauth/v1/generate", oauth, methods=["GET"]),
    Route("/mpesa/stkpush/v1/processrequest", stk_push, methods=["POST"]),
    Route("/mpesa/stkpushquery/v1/query", stk_query, methods=["POST"]),
    Route("/mpesa/c2b/{version}/registerurl", c2b_register, methods=["POST"]),
    Route("/mpesa/c2b/{version}/simulate", c2b_simulate, methods=["POST"]),
]
