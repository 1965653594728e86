"""Which Kenyan network a mobile number belongs to: only Safaricom lines get an M-Pesa prompt.

Source of the table: Google libphonenumber's carrier file for +254 at commit f7e3e88 (release
9.0.35, 2026-07-16),
https://github.com/google/libphonenumber/blob/f7e3e88/resources/carrier/en/254.txt
read with its longest-prefix rule; checked against the Communications Authority's allocations
and other published lists in the project's C2B research notes (section 8, "Safaricom prefixes",
which records where the sources disagree):

    Safaricom  070x 071x 072x, 0740-0743 0745 0746 0748 0749, 0757-0759, 0768 0769, 079x,
               0110-0119, 014x, 018x
    Airtel     073x, 0750-0756, 0761 0762, 078x, 0100-0109
    Telkom     077x, 0120
    others     0121 Infura, 0124 Finserve, 013x NRG Media, 0744 Homeland Media, 0747 JTL,
               0760 Mobile Pay, 0763-0766 Finserve (Equitel), 0767 Sema Mobile

0749, 0112-0119, 014x and 018x are Safaricom in libphonenumber only (the notes find no other
source for them); they are accepted, because refusing a real Safaricom customer is worse
than a prompt Daraja refuses. A number ported into Safaricom from another network keeps its old
prefix and is refused here (no source says whether M-Pesa works on one; uptake of number
portability in Kenya is very low).
"""

from __future__ import annotations

from enum import StrEnum


class Network(StrEnum):
    SAFARICOM = "Safaricom"
    AIRTEL = "Airtel"
    TELKOM = "Telkom"
    OTHER = "other"


_S, _A, _T, _O = Network.SAFARICOM, Network.AIRTEL, Network.TELKOM, Network.OTHER

# Prefixes of the national significant number (the number without 0 or 254), longest wins.
PREFIXES: dict[str, Network] = {
    "70": _S,
    "71": _S,
    "72": _S,
    "73": _A,
    "74": _S,
    "744": _O,  # Homeland Media
    "747": _O,  # JTL
    "75": _A,
    "757": _S,
    "758": _S,
    "759": _S,
    "760": _O,  # Mobile Pay
    "761": _A,
    "762": _A,
    "763": _O,  # Finserve (Equitel), 0763-0766
    "764": _O,
    "765": _O,
    "766": _O,
    "767": _O,  # Sema Mobile
    "768": _S,
    "769": _S,
    "77": _T,
    "78": _A,
    "79": _S,
    "10": _A,
    "11": _S,
    "120": _T,
    "121": _O,  # Infura
    "124": _O,  # Finserve
    "13": _O,  # NRG Media
    "14": _S,
    "18": _S,
}


def network_of(msisdn: str) -> Network | None:
    """The network of `254…` (or a national number), None when no block is allocated."""
    national = msisdn[3:] if msisdn.startswith("254") else msisdn.lstrip("0")
    for length in (3, 2):
        network = PREFIXES.get(national[:length])
        if network is not None:
            return network
    return None


def is_safaricom(msisdn: str) -> bool:
    return network_of(msisdn) is Network.SAFARICOM


def display_number(msisdn: str) -> str:
    """`254712345678` → `0712 345 678`: the customer's own number, as they write it."""
    national = "0" + msisdn[3:] if msisdn.startswith("254") else msisdn
    if len(national) != 10:
        return national
    return f"{national[:4]} {national[4:7]} {national[7:]}"
