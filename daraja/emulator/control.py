"""The emulator's JSON control API under `/emulator/...`: the HTTP face of `Emulator`'s methods.

Used by the demo, by curl during development and by tests that drive a standalone emulator.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from daraja.emulator.state import Emulator


class ControlError(ValueError):
    """A control request we cannot act on (answered with HTTP 400)."""


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        raise ControlError("body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def _number(body: dict[str, Any], key: str, default: float | None = None) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(f"{key} must be a number")
    return float(value)


def _phone(body: dict[str, Any]) -> str | None:
    phone = body.get("phone")
    if phone is not None and not isinstance(phone, str | int):
        raise ControlError("phone must be a string")
    return None if phone is None else str(phone)


def _ok(emulator: Emulator, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "callback_delay": emulator.callback_delay, **extra})


async def control(request: Request) -> JSONResponse:
    """Dispatch one control action by its path name."""
    emulator: Emulator = request.app.state.emulator
    action = request.path_params["action"]
    handler = _ACTIONS.get(action)
    if handler is None:
        return JSONResponse({"ok": False, "error": f"unknown action {action!r}"}, 404)
    try:
        body = await _body(request)
        result = await handler(emulator, body)
    except (ControlError, ValueError) as exc:
        return JSONResponse({"ok": False, "error": str(exc)}, status_code=400)
    return result


async def _outcome(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    phone = _phone(body)
    if phone is None:
        raise ControlError("phone is required")
    if body.get("result_code") is None:
        emulator.clear_outcome(phone)
    else:
        emulator.set_outcome(phone, body["result_code"], body.get("result_desc"))
    return _ok(emulator)


async def _delay(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    emulator.set_callback_delay(_number(body, "seconds"))
    return _ok(emulator)


async def _duplicate(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    emulator.duplicate_callbacks(int(_number(body, "copies", 2)), phone=_phone(body))
    return _ok(emulator)


async def _drop(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    emulator.drop_callbacks(phone=_phone(body))
    return _ok(emulator)


async def _late(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    after = body.get("after_seconds")
    emulator.late_second_callback(
        body.get("result_code", "1019"),
        after=None if after is None else _number(body, "after_seconds"),
        phone=_phone(body),
        result_desc=body.get("result_desc"),
    )
    return _ok(emulator)


async def _spike(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    emulator.spike_arrest(int(_number(body, "count", 1)), busy=bool(body.get("busy", False)))
    return _ok(emulator)


async def _timeout(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    emulator.hang_next_push(
        _number(body, "seconds", 60.0), processed=bool(body.get("processed", True))
    )
    return _ok(emulator)


async def _style(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    emulator.set_callback_style(
        amount=body.get("amount", "integer"), balance=body.get("balance", "valueless")
    )
    return _ok(emulator)


async def _expire(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    emulator.expire_tokens()
    return _ok(emulator)


async def _reset(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    emulator.reset()
    return _ok(emulator)


async def _complete(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    checkout_id = body.get("checkout_request_id")
    if not isinstance(checkout_id, str) or emulator.get(checkout_id) is None:
        raise ControlError("unknown checkout_request_id")
    await emulator.complete_now(checkout_id)
    return _ok(emulator)


async def _drain(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    try:
        async with asyncio.timeout(_number(body, "timeout", 30.0)):
            await emulator.drain()
    except TimeoutError:
        return JSONResponse({"ok": False, "error": "callbacks still pending"}, 504)
    return _ok(emulator)


async def _c2b(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    delay = body.get("stk_delay")
    emulator.c2b.configure(
        product=body.get("product", "keep"),
        register_once=body.get("register_once"),
        validation=body.get("validation"),
        stk_confirmations=body.get("stk_confirmations"),
        stk_delay=None if delay is None else _number(body, "stk_delay"),
        stk_order=body.get("stk_order"),
    )
    return _ok(emulator, c2b=emulator.c2b.snapshot())


async def _pay_bill(emulator: Emulator, body: dict[str, Any]) -> JSONResponse:
    phone = _phone(body)
    account = body.get("account", "")
    if phone is None or not isinstance(account, str):
        raise ControlError("phone and account are required")
    transaction = emulator.c2b.pay_bill(phone, int(_number(body, "amount")), account)
    return _ok(emulator, trans_id=transaction.trans_id)


_ACTIONS = {
    "outcome": _outcome,
    "delay": _delay,
    "duplicate": _duplicate,
    "drop": _drop,
    "late-callback": _late,
    "spike-arrest": _spike,
    "push-timeout": _timeout,
    "callback-style": _style,
    "expire-tokens": _expire,
    "reset": _reset,
    "complete": _complete,
    "drain": _drain,
    "c2b": _c2b,
    "pay-bill": _pay_bill,
}


async def list_requests(request: Request) -> JSONResponse:
    emulator: Emulator = request.app.state.emulator
    return JSONResponse({"requests": emulator.snapshot()})


async def c2b_state(request: Request) -> JSONResponse:
    emulator: Emulator = request.app.state.emulator
    return JSONResponse(emulator.c2b.snapshot())


control_routes = [
    Route("/emulator/c2b", c2b_state, methods=["GET"]),
    Route("/emulator/requests", list_requests, methods=["GET"]),
    Route("/emulator/{action}", control, methods=["POST"]),
]
