"""Every Daraja failure becomes the right `daraja.errors` class, with what Daraja said.

Bodies are real captured answers (tests/data/daraja) or the Daraja 3.0 error table's strings.
Each case also checks how many times the push reached the fake: errors that may have been
processed, or that a repeat cannot fix, are sent exactly once.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from daraja.client import STK_PUSH_PATH, DarajaClient
from daraja.errors import (
    AuthError,
    ConnectFailed,
    DarajaError,
    InvalidRequest,
    QuotaExceeded,
    RateLimited,
    SubscriberLocked,
    TimedOut,
    Unavailable,
)
from tests.support.scripted_daraja import FakeDaraja, fixture_response

from .test_password import PUSH


def envelope(code: str, message: str, status: int = 500) -> httpx.Response:
    return httpx.Response(
        status, json={"requestId": "29a1-4c4e-9b0f-1", "errorCode": code, "errorMessage": message}
    )


async def push_error(client: DarajaClient, fake: FakeDaraja, *answers: Any) -> DarajaError:
    fake.script(STK_PUSH_PATH, *answers)
    with pytest.raises(DarajaError) as caught:
        await client.stk_push(**PUSH)
    return caught.value


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("stkpush_error_01.json", "BusinessShortCode"),
        ("stkpush_error_02.json", "PhoneNumber"),
        ("stkpush_error_03.json", "Timestamp"),
        ("stkpush_error_04.json", "CallBackURL"),
    ],
)
async def test_invalid_field_is_named(
    client: DarajaClient, fake: FakeDaraja, name: str, field: str
) -> None:
    error = await push_error(client, fake, fixture_response(name, 400))

    assert type(error) is InvalidRequest
    assert error.field == field
    assert error.code == "400.002.02"
    assert error.http_status == 400
    assert error.request_id
    assert not error.maybe_processed
    assert fake.count(STK_PUSH_PATH) == 1


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("Bad Request - Invalid Remarks", "TransactionDesc"),
        ("Bad Request - Invalid Amount", "Amount"),
        ("Bad Request - Invalid PartyB.", "PartyB"),
        ("Something else entirely", None),
    ],
)
async def test_remarks_is_reported_as_transaction_desc(
    client: DarajaClient, fake: FakeDaraja, message: str, field: str | None
) -> None:
    error = await push_error(client, fake, envelope("400.002.02", message, 400))

    assert isinstance(error, InvalidRequest)
    assert error.field == field


@pytest.mark.parametrize(
    "answer",
    [
        fixture_response("stkpush_error_05.json", 500),  # "[MerchantValidate] - Wrong credentials"
        fixture_response("stkpush_error_06.json", 500),  # "Wrong credentials"
        fixture_response("stkpush_error_10.json", 500),
        envelope("500.001.1001", "Merchant does not exist"),
    ],
)
async def test_wrong_credentials_and_unknown_merchant_are_auth_errors(
    client: DarajaClient, fake: FakeDaraja, answer: httpx.Response
) -> None:
    error = await push_error(client, fake, answer)

    assert type(error) is AuthError
    assert error.code == "500.001.1001"
    assert fake.count(STK_PUSH_PATH) == 1  # not a token problem: no refresh, no repeat
    assert client.stats.oauth_requests == 1


async def test_locked_subscriber_is_its_own_error_and_not_repeated(
    client: DarajaClient, fake: FakeDaraja
) -> None:
    message = (
        "Unable to lock subscriber, a transaction is already in process for the current subscriber"
    )
    error = await push_error(client, fake, envelope("500.001.1001", message))

    assert type(error) is SubscriberLocked
    assert not error.retryable
    assert fake.count(STK_PUSH_PATH) == 1


async def test_unrecognised_500_001_1001_message_is_a_plain_daraja_error(
    client: DarajaClient, fake: FakeDaraja
) -> None:
    error = await push_error(client, fake, envelope("500.001.1001", "Something new"))

    assert type(error) is DarajaError
    assert "Something new" in str(error)


async def test_quota_violation_is_rate_limited_but_not_repeated(
    client: DarajaClient, fake: FakeDaraja, sleeps: list[float]
) -> None:
    error = await push_error(client, fake, envelope("500.003.03", "Quota Violation"))

    assert isinstance(error, RateLimited)
    assert isinstance(error, QuotaExceeded)
    assert fake.count(STK_PUSH_PATH) == 1
    assert sleeps == []


async def test_internal_server_error_is_unavailable_and_not_repeated(
    client: DarajaClient, fake: FakeDaraja
) -> None:
    error = await push_error(client, fake, envelope("500.003.1001", "Internal Server Error"))

    assert type(error) is Unavailable
    assert error.code == "500.003.1001"
    assert not error.maybe_processed
    assert fake.count(STK_PUSH_PATH) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, content=b""),
        httpx.Response(502, content=b"<html><body>Bad Gateway</body></html>"),
        httpx.Response(504, content=b"upstream timed out"),
        httpx.Response(200, content=b"<html>OK</html>"),
        httpx.Response(200, json={"ResponseCode": "0", "MerchantRequestID": "x"}),
    ],
)
async def test_answers_without_daraja_details_may_have_been_processed(
    client: DarajaClient, fake: FakeDaraja, answer: httpx.Response
) -> None:
    error = await push_error(client, fake, answer)

    assert isinstance(error, Unavailable)
    assert error.maybe_processed
    assert fake.count(STK_PUSH_PATH) == 1


async def test_non_zero_response_code_is_an_error(client: DarajaClient, fake: FakeDaraja) -> None:
    answer = httpx.Response(
        200, json={"ResponseCode": "1", "CheckoutRequestID": "ws_CO_1", "MerchantRequestID": "m"}
    )
    error = await push_error(client, fake, answer)

    assert type(error) is DarajaError
    assert "ResponseCode" in str(error)


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (envelope("404.001.01", "Resource not found", 404), DarajaError),
        (envelope("405.001", "Method Not Allowed", 405), DarajaError),
        (httpx.Response(403, content=b"Forbidden"), AuthError),
        (httpx.Response(400, content=b"not json"), InvalidRequest),
        (httpx.Response(418, content=b""), DarajaError),
        (envelope("999.999.99", "New failure", 503), Unavailable),
    ],
)
async def test_other_answers(
    client: DarajaClient, fake: FakeDaraja, answer: httpx.Response, kind: type[DarajaError]
) -> None:
    error = await push_error(client, fake, answer)

    assert type(error) is kind
    assert fake.count(STK_PUSH_PATH) == 1


@pytest.mark.parametrize(
    "exc",
    [httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.RemoteProtocolError],
)
async def test_failure_after_sending_is_timed_out_and_never_repeated(
    client: DarajaClient, fake: FakeDaraja, sleeps: list[float], exc: type[httpx.HTTPError]
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc("gone", request=request)

    error = await push_error(client, fake, fail, fixture_response("stkpush_success_01.json", 200))

    assert type(error) is TimedOut
    assert error.maybe_processed
    assert not error.retryable
    assert fake.count(STK_PUSH_PATH) == 1
    assert client.stats.push_requests == 1
    assert sleeps == []


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_failure_before_sending_is_connect_failed(
    client: DarajaClient, fake: FakeDaraja, exc: type[httpx.HTTPError]
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc("no route", request=request)

    error = await push_error(client, fake, fail, fail, fail)

    assert type(error) is ConnectFailed
    assert error.retryable
    assert not error.maybe_processed
    assert fake.count(STK_PUSH_PATH) == 3
