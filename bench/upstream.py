"""How many requests lipabot sends to Daraja per payment, against the naive token-per-call way.

1,000 payments (one STK push and one STK query each) go through `daraja.client.DarajaClient`
to the Daraja emulator in-process (`httpx.ASGITransport`), and the same 1,000 through a naive
client written below, which fetches an OAuth token before every call as many tutorials do.
A counting transport under both clients counts what actually reached the emulator, so the
figures do not rest on the client's own `.stats` (which are reported beside them as a check).

Scenarios: one payment after another; 50 payments at once (a token stampede would show here);
and one after another with the client's clock moving 10 s per payment (1,000 payments spread
over ~2.8 hours, so the hourly token must be refreshed).

Goal: OAuth requests per 1,000 payments <= 2. Run: `.venv/bin/python -m bench.upstream`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.common import bench_phone, print_table, write_results
from daraja.client import STK_PUSH_PATH, STK_QUERY_PATH, DarajaClient
from daraja.config import EMULATOR_CREDENTIALS, DarajaConfig
from daraja.timestamps import daraja_timestamp, stk_password
from daraja.token import OAUTH_PATH

SHORTCODE = "174379"
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
BASE_URL = "http://daraja.emulator"
#: Where the emulator would post its callbacks; nothing listens, the bench counts requests only.
CALLBACK_URL = "http://127.0.0.1:9/payments/callback/bench"


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts every request by path before handing it to the real transport."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.counts: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.counts[request.url.path] += 1
        return await self.inner.handle_async_request(request)

    def per_kind(self) -> dict[str, int]:
        return {
            "oauth": self.counts[OAUTH_PATH],
            "push": self.counts[STK_PUSH_PATH],
            "query": self.counts[STK_QUERY_PATH],
        }


class NaiveClient:
    """The tutorial way: GET a fresh OAuth token, then make the call; for every call."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def _token(self) -> str:
        key, secret = EMULATOR_CREDENTIALS
        response = await self._http.get(
            BASE_URL + OAUTH_PATH,
            params={"grant_type": "client_credentials"},
            auth=(key, secret),
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def _credentials(self) -> dict[str, Any]:
        timestamp = daraja_timestamp(datetime.now(UTC))
        return {
            "BusinessShortCode": int(SHORTCODE),
            "Password": stk_password(SHORTCODE, PASSKEY, timestamp),
            "Timestamp": timestamp,
        }

    async def stk_push(self, phone: str, amount: int) -> str:
        token = await self._token()
        payload = {
            **self._credentials(),
            "TransactionType": "CustomerPayBillOnline",
            "Amount": amount,
            "PartyA": int(phone),
            "PartyB": int(SHORTCODE),
            "PhoneNumber": int(phone),
            "CallBackURL": CALLBACK_URL,
            "AccountReference": "lipabot",
            "TransactionDesc": "Payment",
        }
        response = await self._http.post(
            BASE_URL + STK_PUSH_PATH, json=payload, headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
        return str(response.json()["CheckoutRequestID"])

    async def stk_query(self, checkout_request_id: str) -> None:
        token = await self._token()
        payload = {**self._credentials(), "CheckoutRequestID": checkout_request_id}
        # A "still being processed" answer is an error status: the request counts all the same.
        await self._http.post(
            BASE_URL + STK_QUERY_PATH, json=payload, headers={"Authorization": f"Bearer {token}"}
        )


def _emulator_transport(clock: Callable[[], datetime]) -> httpx.AsyncBaseTransport:
    from daraja.emulator import create_emulator_app

    # The emulator's callbacks go to a sink: this bench counts requests to Daraja only.
    sink = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    app = create_emulator_app(callback_delay=0.0, http=sink, clock=clock, scenarios={})
    return httpx.ASGITransport(app=app)


class SteppingClock:
    """A clock that moves `step` seconds each time a payment starts (the bench moves it)."""

    def __init__(self, step: float) -> None:
        self.now = datetime.now(UTC)
        self.step = timedelta(seconds=step)

    def __call__(self) -> datetime:
        return self.now

    def tick(self) -> None:
        self.now += self.step


async def _pay_all(
    payments: int,
    concurrency: int,
    pay: Callable[[int], Any],
    before_each: Callable[[], None] = lambda: None,
) -> float:
    started = time.perf_counter()
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            before_each()
            await pay(index)

    await asyncio.gather(*(one(i) for i in range(payments)))
    return time.perf_counter() - started


async def scenario(name: str, payments: int, concurrency: int, naive: bool, step: float) -> dict:
    clock = SteppingClock(step)
    counting = CountingTransport(_emulator_transport(clock))
    async with httpx.AsyncClient(transport=counting) as http:
        if naive:
            client: Any = NaiveClient(http)

            async def pay(i: int) -> None:
                checkout = await client.stk_push(bench_phone(i), 10)
                await client.stk_query(checkout)

            seconds = await _pay_all(payments, concurrency, pay)
            stats = None
        else:
            config = DarajaConfig(
                base_url=BASE_URL,
                consumer_key=EMULATOR_CREDENTIALS[0],
                consumer_secret=EMULATOR_CREDENTIALS[1],
                shortcode=SHORTCODE,
                passkey=PASSKEY,
            )
            client = DarajaClient(config, http, clock=clock)

            async def pay(i: int) -> None:
                accepted = await client.stk_push(
                    phone=bench_phone(i),
                    amount=10,
                    account_reference="lipabot",
                    description="Payment",
                    callback_url=CALLBACK_URL,
                )
                await client.stk_query(accepted.checkout_request_id)

            seconds = await _pay_all(payments, concurrency, pay, clock.tick if step else _noop)
            stats = {
                "oauth": client.stats.oauth_requests,
                "push": client.stats.push_requests,
                "query": client.stats.query_requests,
            }
    counts = counting.per_kind()
    total = sum(counts.values())
    return {
        "scenario": name,
        "client": "naive" if naive else "DarajaClient",
        "payments": payments,
        "concurrency": concurrency,
        "simulated_seconds_per_payment": step,
        "requests": counts,
        "client_stats": stats,
        "oauth_per_1000_payments": round(counts["oauth"] * 1000 / payments, 2),
        "requests_per_payment": round(total / payments, 3),
        "wall_seconds": round(seconds, 2),
    }


def _noop() -> None:
    return None


async def main_async(payments: int) -> dict[str, Any]:
    runs = [
        await scenario("sequential", payments, 1, naive=False, step=0),
        await scenario("sequential", payments, 1, naive=True, step=0),
        await scenario("50 at once", payments, 50, naive=False, step=0),
        await scenario("50 at once", payments, 50, naive=True, step=0),
        await scenario("over ~2.8 h", payments, 1, naive=False, step=10.0),
    ]
    return {"payments": payments, "goal": {"oauth_per_1000_payments_max": 2}, "runs": runs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1000)
    args = parser.parse_args(argv)
    figures = asyncio.run(main_async(args.payments))
    print_table(
        f"Daraja requests for {args.payments:,} payments (push + query each)",
        ["scenario", "client", "oauth", "push", "query", "oauth/1000", "req/payment", "s"],
        [
            [
                run["scenario"],
                run["client"],
                run["requests"]["oauth"],
                run["requests"]["push"],
                run["requests"]["query"],
                run["oauth_per_1000_payments"],
                run["requests_per_payment"],
                run["wall_seconds"],
            ]
            for run in figures["runs"]
        ],
    )
    write_results("upstream", figures)


if __name__ == "__main__":
    main()
