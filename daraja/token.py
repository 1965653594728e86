"""The OAuth access-token cache: one client-credentials token, shared, refreshed early.

Daraja tokens live 3600 s (`expires_in` says "3599", a string in real traffic, a number in the
docs). We refresh a minute before expiry, and an `asyncio.Lock` makes concurrent callers wait
for the one refresh in flight instead of each fetching a token (the docs say a new token may
invalidate the previous one, so a stampede could even break requests already in flight).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from daraja.config import DarajaConfig
from daraja.errors import AuthError, ConnectFailed, DarajaError
from daraja.http_errors import decode_json, error_from_oauth_response, error_from_transport

logger = logging.getLogger(__name__)

OAUTH_PATH = "/oauth/v1/generate"
#: Used when `expires_in` is missing or not a positive number (Daraja's documented lifetime).
DEFAULT_EXPIRES_IN = 3599.0
#: Refresh this long before the token expires, so a request never carries a dying token.
REFRESH_MARGIN_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str
    refresh_at: datetime

    def __repr__(self) -> str:  # the token is a credential: never show it
        return f"AccessToken(refresh_at={self.refresh_at.isoformat()})"


class TokenCache:
    """Hands out a valid bearer token, fetching at most one at a time."""

    def __init__(
        self,
        config: DarajaConfig,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], datetime],
        on_request: Callable[[], None] = lambda: None,
    ) -> None:
        self._config = config
        self._http = http
        self._clock = clock
        self._on_request = on_request
        self._token: AccessToken | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        """A token valid for at least the refresh margin; fetches one when needed."""
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token.value
        async with self._lock:
            # Whoever held the lock before us may have refreshed already.
            token = self._token
            if token is not None and self._clock() < token.refresh_at:
                return token.value
            self._token = await self._fetch()
            return self._token.value

    def invalidate(self, value: str) -> None:
        """Forget `value` if it is still the cached token (Daraja refused it)."""
        if self._token is not None and self._token.value == value:
            self._token = None

    async def _fetch(self) -> AccessToken:
        self._on_request()
        try:
            response = await self._http.get(
                self._config.base_url + OAUTH_PATH,
                params={"grant_type": "client_credentials"},
                auth=httpx.BasicAuth(self._config.consumer_key, self._config.consumer_secret),
                timeout=self._config.timeout,
            )
        except httpx.HTTPError as exc:
            # Whatever happened to the token request, the API call it was for was not sent.
            mapped = error_from_transport(exc, what="OAuth token request")
            raise ConnectFailed(mapped.message) from exc
        if response.status_code != 200:
            error: DarajaError = error_from_oauth_response(response)
            logger.warning("Daraja OAuth failed: %s", error)
            raise error
        return self._parse(response)

    def _parse(self, response: httpx.Response) -> AccessToken:
        body = decode_json(response)
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value.strip():
            raise AuthError("OAuth answer carries no access_token", http_status=200)
        expires_in = _expires_in(body.get("expires_in"))
        margin = min(REFRESH_MARGIN_SECONDS, expires_in / 2)
        refresh_at = self._clock() + timedelta(seconds=expires_in - margin)
        logger.info("Daraja access token fetched; valid for %.0f s", expires_in)
        return AccessToken(value=value.strip(), refresh_at=refresh_at)


def _expires_in(raw: object) -> float:
    """`expires_in` as seconds: "3599" and 3599 both occur; anything else gets the default."""
    seconds: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        seconds = float(raw)
    elif isinstance(raw, str):
        try:
            seconds = float(raw.strip())
        except ValueError:
            seconds = None
    if seconds is None or not seconds > 0 or seconds == float("inf"):
        logger.warning(
            "Daraja OAuth expires_in %r is not a positive number; assuming %.0f s",
            raw,
            DEFAULT_EXPIRES_IN,
        )
        return DEFAULT_EXPIRES_IN
    return seconds
