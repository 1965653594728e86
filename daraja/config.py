"""Plain configuration for the Daraja client: where Daraja is and which merchant we are.

`DarajaConfig` is what `DarajaClient` takes; `from_settings` is the one bridge from the app's
typed `Settings` (described here by the `DarajaSettings` protocol: this library imports nothing
from the app, the app's `config` imports from it). Secrets are plain strings here (the client
must send them) but are kept out of `repr()`, so a config object in a log line or traceback
shows no credential.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeGuard, get_args

SANDBOX_BASE_URL = "https://sandbox.safaricom.co.ke"
PRODUCTION_BASE_URL = "https://api.safaricom.co.ke"

# The Daraja sandbox's public test credentials (Daraja 3.0 docs, M-Pesa Express Simulate).
SANDBOX_SHORTCODE = "174379"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"

#: Credentials the emulator accepts when none are configured (it does not check them).
EMULATOR_CREDENTIALS = ("emulator", "emulator")

TransactionTypeName = Literal["CustomerPayBillOnline", "CustomerBuyGoodsOnline"]
TRANSACTION_TYPES: frozenset[str] = frozenset(get_args(TransactionTypeName))


def is_transaction_type(value: str) -> TypeGuard[TransactionTypeName]:
    """True for the two STK transaction types Daraja knows (PayBill, Buy Goods)."""
    return value in TRANSACTION_TYPES


class Secret(Protocol):
    def get_secret_value(self) -> str: ...


class DarajaSettings(Protocol):
    """What `DarajaConfig.from_settings` reads; the app's `config.Settings` has all of it."""

    @property
    def mpesa_base_url(self) -> str | None: ...
    @property
    def mpesa_consumer_key(self) -> Secret | None: ...
    @property
    def mpesa_consumer_secret(self) -> Secret | None: ...
    @property
    def mpesa_shortcode(self) -> str: ...
    @property
    def mpesa_passkey(self) -> Secret: ...
    @property
    def mpesa_transaction_type(self) -> str: ...
    @property
    def mpesa_party_b(self) -> str | None: ...
    @property
    def mpesa_timeout_seconds(self) -> float: ...
    @property
    def has_daraja_credentials(self) -> bool: ...
    @property
    def daraja_env(self) -> str: ...


@dataclass(frozen=True, slots=True)
class DarajaConfig:
    """One merchant on one Daraja environment."""

    base_url: str
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    shortcode: str
    passkey: str = field(repr=False)
    transaction_type: TransactionTypeName = "CustomerPayBillOnline"
    #: The receiving party: None means the shortcode (PayBill); for Buy Goods it is the till.
    party_b: str | None = None
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not is_transaction_type(self.transaction_type):
            raise ValueError(f"unknown transaction_type {self.transaction_type!r}")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        if not str(self.shortcode).strip():
            raise ValueError("shortcode is required")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        # Trailing slashes would give "//oauth/..." paths; a trailing space in the OAuth URL
        # is a known cause of "400.008.02 Invalid grant type passed".
        object.__setattr__(self, "base_url", self.base_url.strip().rstrip("/"))
        object.__setattr__(self, "shortcode", str(self.shortcode).strip())

    @property
    def receiver(self) -> str:
        """PartyB as sent: the till for Buy Goods, otherwise the shortcode."""
        return (self.party_b or "").strip() or self.shortcode

    @classmethod
    def from_settings(
        cls, settings: DarajaSettings, emulator_base_url: str | None = None
    ) -> DarajaConfig:
        """Build the config from `Settings`; the emulator needs its URL passed in."""
        base_url = settings.mpesa_base_url or _base_url_for(
            str(settings.daraja_env), emulator_base_url
        )
        if settings.has_daraja_credentials:
            assert settings.mpesa_consumer_key and settings.mpesa_consumer_secret
            key = settings.mpesa_consumer_key.get_secret_value()
            secret = settings.mpesa_consumer_secret.get_secret_value()
        elif str(settings.daraja_env) == "emulator":
            key, secret = EMULATOR_CREDENTIALS
        else:
            raise ValueError(
                f"MPESA_CONSUMER_KEY and MPESA_CONSUMER_SECRET are required for "
                f"MPESA_ENV={settings.daraja_env}"
            )
        transaction_type = str(settings.mpesa_transaction_type)
        if not is_transaction_type(transaction_type):
            raise ValueError(f"unknown MPESA_TRANSACTION_TYPE {transaction_type!r}")
        return cls(
            base_url=base_url,
            consumer_key=key,
            consumer_secret=secret,
            shortcode=settings.mpesa_shortcode,
            passkey=settings.mpesa_passkey.get_secret_value(),
            transaction_type=transaction_type,
            party_b=settings.mpesa_party_b,
            timeout=settings.mpesa_timeout_seconds,
        )


def _base_url_for(env: str, emulator_base_url: str | None) -> str:
    if env == "sandbox":
        return SANDBOX_BASE_URL
    if env == "production":
        return PRODUCTION_BASE_URL
    if env == "emulator":
        if not emulator_base_url:
            raise ValueError(
                "MPESA_ENV=emulator needs the emulator's base URL: pass emulator_base_url "
                "(e.g. http://127.0.0.1:8001) or set MPESA_BASE_URL"
            )
        return emulator_base_url
    raise ValueError(f"unknown Daraja environment {env!r}")
