"""The network of every Kenyan mobile prefix, against libphonenumber 9.0.35's carrier file.

The expectation below is written out range by range from the C2B research notes' table
(section 8), independently of the lookup table in payments/msisdn.py, and every 4-digit prefix
0100-0199 and 0700-0799 is checked.
"""

from __future__ import annotations

import pytest

from payments.errors import InvalidPhone, NotSafaricom
from payments.msisdn import Network, display_number, is_safaricom, network_of
from payments.rules import normalize_phone, safaricom_phone

S, A, T, OTH = Network.SAFARICOM, Network.AIRTEL, Network.TELKOM, Network.OTHER


def _span(first: int, last: int, network: Network) -> dict[str, Network]:
    return {f"0{n}": network for n in range(first, last + 1)}


EXPECTED: dict[str, Network | None] = {
    **_span(700, 729, S),  # 070x 071x 072x
    **_span(730, 739, A),  # 073x
    **_span(740, 743, S),
    "0744": OTH,  # Homeland Media
    **_span(745, 746, S),
    "0747": OTH,  # JTL
    **_span(748, 749, S),  # 0749: libphonenumber only (UNVERIFIED elsewhere)
    **_span(750, 756, A),
    **_span(757, 759, S),
    "0760": OTH,  # Mobile Pay
    **_span(761, 762, A),
    **_span(763, 766, OTH),  # Finserve (Equitel)
    "0767": OTH,  # Sema Mobile
    **_span(768, 769, S),
    **_span(770, 779, T),  # 077x
    **_span(780, 789, A),  # 078x
    **_span(790, 799, S),  # 079x
    **_span(100, 109, A),  # 010x
    **_span(110, 119, S),  # 011x
    "0120": T,
    "0121": OTH,  # Infura
    **{f"0{n}": None for n in (122, 123, 125, 126, 127, 128, 129)},
    "0124": OTH,  # Finserve
    **_span(130, 139, OTH),  # NRG Media
    **_span(140, 149, S),  # 014x (release 9.0.15)
    **{f"0{n}": None for n in range(150, 180)},
    **_span(180, 189, S),  # 018x (release 9.0.35)
    **{f"0{n}": None for n in range(190, 200)},
}


def test_the_expectation_covers_every_prefix() -> None:
    assert sorted(EXPECTED) == [f"0{n}" for n in [*range(100, 200), *range(700, 800)]]


@pytest.mark.parametrize(("prefix", "network"), sorted(EXPECTED.items()))
def test_every_prefix_maps_to_its_network(prefix: str, network: Network | None) -> None:
    national = prefix + "123456"
    assert network_of("254" + national[1:]) is network
    assert network_of(national) is network
    assert is_safaricom("254" + national[1:]) is (network is S)


@pytest.mark.parametrize(("prefix", "network"), sorted(EXPECTED.items()))
def test_only_safaricom_numbers_pass_the_phone_step(prefix: str, network: Network | None) -> None:
    typed = f"{prefix} 123 456"
    if network is S:
        assert safaricom_phone(typed) == "254" + prefix[1:] + "123456"
    elif network is None:
        with pytest.raises(InvalidPhone) as caught:
            safaricom_phone(typed)
        assert not isinstance(caught.value, NotSafaricom)
    else:
        with pytest.raises(NotSafaricom) as refused:
            safaricom_phone(typed)
        assert refused.value.network == str(network)
        # Still a Kenyan mobile number: /status <phone> finds payments made from it.
        assert normalize_phone(typed) == "254" + prefix[1:] + "123456"


@pytest.mark.parametrize(
    ("msisdn", "shown"),
    [
        ("254712345678", "0712 345 678"),
        ("254110000001", "0110 000 001"),
        ("0712345678", "0712 345 678"),
    ],
)
def test_display_number_is_the_local_form_in_groups(msisdn: str, shown: str) -> None:
    assert display_number(msisdn) == shown
