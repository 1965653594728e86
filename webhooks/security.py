"""Who is calling: constant-time secret checks, the real client address, and the IP allowlist.

Behind Heroku's router (or any proxy) the TCP peer is the proxy; the caller is in
`X-Forwarded-For`. Each proxy *appends* the address it saw, so only the right-hand end of the
header is trustworthy: we walk it from the right, skipping proxies we trust, and take the first
address we do not trust. Anything to the left of that was written by the caller and may be a lie.

The header is read only when the direct peer is a trusted proxy (`FORWARDED_ALLOW_IPS`, as
uvicorn names it). `"*"` trusts every direct peer (Heroku's router addresses are not published),
but unlike uvicorn's `"*"` it does not trust the addresses *inside* the header: uvicorn then takes
the left-most entry, which any caller can set, and an allowlist built on that is no allowlist.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Where the peer address as the socket saw it is kept once ForwardedMiddleware rewrote `client`.
PEER_SCOPE_KEY = "lipabot.peer"


def secrets_match(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; a missing expected secret never matches anything."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def parse_networks(items: Iterable[str]) -> list[IPNetwork]:
    """Addresses or CIDR ranges as networks (a bare address is a /32 or /128)."""
    return [ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip()]


@functools.lru_cache(maxsize=4096)
def _address(text: str) -> IPAddress | None:
    # Cached: the same few addresses (Safaricom's callers, the router) arrive on every request.
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "1.2.3.4:5678"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class TrustedProxies:
    """The `FORWARDED_ALLOW_IPS` list: which direct peers may tell us who the client is."""

    def __init__(self, items: Sequence[str]) -> None:
        cleaned = [item.strip() for item in items if item.strip()]
        self.trust_any_peer = "*" in cleaned
        self.networks = parse_networks(item for item in cleaned if item != "*")

    def trusts(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in net for net in self.networks)

    def client_address(self, peer: str | None, forwarded_for: Sequence[str]) -> str | None:
        """The real client's address given the TCP peer and the X-Forwarded-For header values."""
        if not forwarded_for:
            return peer
        peer_ip = _address(peer) if peer else None
        if not (self.trust_any_peer or self.trusts(peer_ip)):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        hops = [hop for hop in hops if hop]
        if not hops:
            return peer
        for hop in reversed(hops):
            hop_ip = _address(hop)
            if hop_ip is None:
                # Garbage where an address should be: whoever wrote it is not a proxy of ours,
                # so the request cannot be attributed to anything we could allow.
                return hop
            if not self.trusts(hop_ip):
                return str(hop_ip)
        # Every hop is one of our proxies: the left-most is as close to the client as we get.
        first = _address(hops[0])
        return str(first) if first else hops[0]


class IpAllowlist:
    """`MPESA_ALLOWED_IPS`: empty allows everyone; otherwise the address must be in a range."""

    def __init__(self, items: Sequence[str]) -> None:
        self.networks = parse_networks(items)

    def allows(self, address: str | None) -> bool:
        if not self.networks:
            return True
        ip = _address(address) if address else None
        return ip is not None and any(ip in net for net in self.networks)


class ForwardedMiddleware:
    """Rewrites `scope["client"]` (and the scheme) from trusted proxy headers.

    lipabot does this itself rather than with uvicorn's `proxy_headers`, so the rule above holds
    whatever server runs the app (uvicorn, tests through httpx.ASGITransport) and the socket peer
    stays available under `scope["lipabot.peer"]` for logging.
    """

    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            peer = client[0] if client else None
            scope[PEER_SCOPE_KEY] = peer
            forwarded = [
                value.decode("latin-1")
                for name, value in scope.get("headers", [])
                if name == b"x-forwarded-for"
            ]
            real = self.proxies.client_address(peer, forwarded)
            if real is not None and real != peer:
                scope["client"] = (real, 0)
                proto = _header(scope, b"x-forwarded-proto")
                if proto in ("http", "https"):
                    scope["scheme"] = proto
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1").strip().lower()
    return None
