"""MPESA_ALLOWED_IPS against the real client address, directly and through proxies."""

from __future__ import annotations

import pytest

from tests.support.webhooks import CALLBACK, ServiceFactory
from webhooks.security import TrustedProxies

SAFARICOM = "196.201.214.200"
ATTACKER = "203.0.113.9"
HEROKU_ROUTER = "10.1.2.3"


def _unknown_id_body() -> dict[str, object]:
    return {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": "m-1",
                "CheckoutRequestID": "ws_CO_unknown_for_ip_tests",
                "ResultCode": 1032,
                "ResultDesc": "Request cancelled by user",
            }
        }
    }


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "expected"),
    [
        # Direct calls: the TCP peer is the client.
        (["127.0.0.1"], SAFARICOM, None, 200),
        (["127.0.0.1"], ATTACKER, None, 403),
        # Through a trusted proxy: the right-most entry is who the proxy saw.
        ([HEROKU_ROUTER], HEROKU_ROUTER, SAFARICOM, 200),
        ([HEROKU_ROUTER], HEROKU_ROUTER, ATTACKER, 403),
        # A caller who writes Safaricom's address into the header gets nowhere: the proxy
        # appends the real address on the right.
        ([HEROKU_ROUTER], HEROKU_ROUTER, f"{SAFARICOM}, {ATTACKER}", 403),
        (["10.0.0.0/8"], HEROKU_ROUTER, f"{ATTACKER}, {SAFARICOM}, 10.9.9.9", 200),
        # "*" trusts any direct peer, but still reads the header from the right.
        (["*"], HEROKU_ROUTER, SAFARICOM, 200),
        (["*"], HEROKU_ROUTER, f"{SAFARICOM}, {ATTACKER}", 403),
        # An untrusted peer's header is ignored: it could say anything.
        (["127.0.0.1"], ATTACKER, SAFARICOM, 403),
        (["127.0.0.1"], SAFARICOM, ATTACKER, 200),
        # Garbage in the header is not an address we could allow.
        ([HEROKU_ROUTER], HEROKU_ROUTER, "not-an-ip", 403),
    ],
)
async def test_callback_address_checks(
    make_service: ServiceFactory,
    trusted: list[str],
    peer: str,
    forwarded: str | None,
    expected: int,
) -> None:
    overrides = {"mpesa_allowed_ips": ["196.201.214.0/24"], "forwarded_allow_ips": trusted}
    async with make_service(**overrides) as service:
        headers = {"x-forwarded-for": forwarded} if forwarded else {}
        async with service.client_for(peer) as client:
            response = await client.post(CALLBACK, json=_unknown_id_body(), headers=headers)
    assert response.status_code == expected, response.text


async def test_wrong_token_from_a_refused_address_is_still_404(
    make_service: ServiceFactory,
) -> None:
    async with make_service(mpesa_allowed_ips=[SAFARICOM]) as service:
        async with service.client_for(ATTACKER) as client:
            response = await client.post("/payments/callback/guess", json=_unknown_id_body())
    assert response.status_code == 404


def test_trusted_proxies_rules() -> None:
    proxies = TrustedProxies(["10.0.0.0/8", "192.168.1.1"])
    assert proxies.client_address("10.0.0.5", ["1.1.1.1, 10.0.0.7"]) == "1.1.1.1"
    assert proxies.client_address("10.0.0.5", ["1.1.1.1", "2.2.2.2"]) == "2.2.2.2"
    assert proxies.client_address("10.0.0.5", ["10.0.0.8, 10.0.0.7"]) == "10.0.0.8"
    assert proxies.client_address("8.8.8.8", ["1.1.1.1"]) == "8.8.8.8"
    assert proxies.client_address("10.0.0.5", []) == "10.0.0.5"
    assert proxies.client_address("10.0.0.5", ["[2001:db8::1]:443"]) == "2001:db8::1"
    assert proxies.client_address("10.0.0.5", ["1.2.3.4:5678"]) == "1.2.3.4"
