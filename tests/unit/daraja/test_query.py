"""STK query: "still being processed" is None; a final answer is an StkResult from the query."""

from __future__ import annotations

import httpx
import pytest

from daraja.callbacks import parse_stk_query
from daraja.client import STK_QUERY_PATH, DarajaClient
from daraja.errors import AuthError, CallbackError, TimedOut, Unavailable
from daraja.token import OAUTH_PATH
from daraja.types import Outcome
from tests.support.scripted_daraja import FakeDaraja, fixture_json, fixture_response, timeout_error

from .test_errors import envelope

CHECKOUT = "ws_CO_080920202236494435"


async def test_pending_answer_is_none_and_not_retried(
    client: DarajaClient, fake: FakeDaraja, sleeps: list[float]
) -> None:
    fake.script(STK_QUERY_PATH, fixture_response("stkquery_error_01.json", 500))

    assert await client.stk_query("ws_CO_20022018230142206") is None
    assert fake.count(STK_QUERY_PATH) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    ("name", "code", "outcome"),
    [
        ("stkquery_success_01.json", "0", Outcome.PAID),  # "successsfully"
        ("stkquery_success_02.json", "0", Outcome.PAID),
        ("stkquery_success_03.json", "0", Outcome.PAID),  # docs: "successfully"
        ("stkquery_1032_01.json", "1032", Outcome.CANCELLED),
        ("stkquery_2001_01.json", "2001", Outcome.FAILED),
    ],
)
async def test_final_answers(
    client: DarajaClient, fake: FakeDaraja, name: str, code: str, outcome: Outcome
) -> None:
    fake.script(STK_QUERY_PATH, fixture_response(name, 200))
    body = fixture_json(name)

    result = await client.stk_query(body["CheckoutRequestID"])

    assert result is not None
    assert result.source == "query"
    assert result.result_code == code
    assert result.outcome is outcome
    assert result.checkout_request_id == body["CheckoutRequestID"]
    assert result.merchant_request_id == body["MerchantRequestID"]
    assert result.result_desc == body["ResultDesc"]
    assert result.amount is None and result.receipt is None  # a query carries no metadata
    (sent,) = fake.sent(STK_QUERY_PATH)
    assert sent["CheckoutRequestID"] == body["CheckoutRequestID"]


async def test_query_refreshes_a_refused_token(client: DarajaClient, fake: FakeDaraja) -> None:
    fake.script(STK_QUERY_PATH, fixture_response("stkpush_error_07.json", 404))

    result = await client.stk_query(CHECKOUT)

    assert result is not None
    assert fake.count(OAUTH_PATH) == 2
    assert fake.count(STK_QUERY_PATH) == 2


async def test_query_with_wrong_credentials_is_auth_error(
    client: DarajaClient, fake: FakeDaraja
) -> None:
    fake.script(STK_QUERY_PATH, fixture_response("stkpush_error_06.json", 500))

    with pytest.raises(AuthError):
        await client.stk_query(CHECKOUT)


async def test_query_timeout_is_raised(client: DarajaClient, fake: FakeDaraja) -> None:
    fake.script(STK_QUERY_PATH, timeout_error())

    with pytest.raises(TimedOut):
        await client.stk_query(CHECKOUT)
    assert fake.count(STK_QUERY_PATH) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"ResponseCode": "1", "ResponseDescription": "failed"}),
        httpx.Response(200, json={"ResponseCode": "0", "CheckoutRequestID": CHECKOUT}),
    ],
)
async def test_unusable_query_answer_is_unavailable(
    client: DarajaClient, fake: FakeDaraja, answer: httpx.Response
) -> None:
    fake.script(STK_QUERY_PATH, answer)

    with pytest.raises(Unavailable):
        await client.stk_query(CHECKOUT)
    assert client.stats.errors == 1


async def test_other_500_001_1001_on_query_is_not_pending(
    client: DarajaClient, fake: FakeDaraja
) -> None:
    fake.script(STK_QUERY_PATH, envelope("500.001.1001", "Merchant does not exist"))

    with pytest.raises(AuthError):
        await client.stk_query(CHECKOUT)


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
async def test_query_needs_a_checkout_id(
    client: DarajaClient, fake: FakeDaraja, bad: object
) -> None:
    with pytest.raises(ValueError):
        await client.stk_query(bad)  # type: ignore[arg-type]
    assert fake.seen == []


def test_parse_stk_query_accepts_a_numeric_result_code() -> None:
    body = {**fixture_json("stkquery_1032_01.json"), "ResultCode": 1032}
    result = parse_stk_query(body)
    assert result is not None and result.result_code == "1032"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ([], "body"),
        ({"errorCode": "500.003.1001", "errorMessage": "Internal Server Error"}, "errorCode"),
        ({**fixture_json("stkquery_1032_01.json"), "ResultCode": None}, "ResultCode"),
        ({**fixture_json("stkquery_1032_01.json"), "CheckoutRequestID": ""}, "CheckoutRequestID"),
    ],
)
def test_parse_stk_query_rejects_what_is_not_a_result(body: object, path: str) -> None:
    with pytest.raises(CallbackError, match=path):
        parse_stk_query(body)
