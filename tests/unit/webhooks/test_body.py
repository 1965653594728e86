"""`webhooks.body.read_json`: the depth limit, including its bracket-count shortcut."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.requests import Request

from webhooks.body import MAX_DEPTH, BadBody, read_json


def _request(body: bytes) -> Request:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", b"application/json")],
    }
    return Request(scope, receive)


def _nested(levels: int) -> bytes:
    value: Any = 1
    for level in range(levels):
        value = {"k": value} if level % 2 else [value]
    return json.dumps(value).encode()


async def test_exactly_the_limit_is_read() -> None:
    assert await read_json(_request(_nested(MAX_DEPTH)), max_bytes=10_000) is not None


async def test_one_level_more_is_refused() -> None:
    with pytest.raises(BadBody, match="nested too deeply"):
        await read_json(_request(_nested(MAX_DEPTH + 1)), max_bytes=10_000)


async def test_many_brackets_side_by_side_are_not_depth() -> None:
    # More brackets than the limit, all shallow: the shortcut does not apply, the walk decides.
    body = json.dumps({"items": [{"n": i} for i in range(3 * MAX_DEPTH)]}).encode()
    value = await read_json(_request(body), max_bytes=100_000)
    assert len(value["items"]) == 3 * MAX_DEPTH


async def test_brackets_inside_strings_do_not_hide_real_depth() -> None:
    # Bracket characters inside strings count towards the shortcut's total but are not nesting;
    # the walk still measures the real depth.
    deep = json.loads(_nested(MAX_DEPTH + 1))
    body = json.dumps({"note": "[]{}" * 5, "value": deep}).encode()
    with pytest.raises(BadBody, match="nested too deeply"):
        await read_json(_request(body), max_bytes=100_000)
