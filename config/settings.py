"""Every setting lipabot reads, with its default, in one typed object.

Settings are read once (`load_settings()`); tests build `Settings(...)` directly. Secrets are
`SecretStr`, so neither `repr()` nor a log line can show them.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import time
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from daraja.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE


class DarajaEnv(StrEnum):
    EMULATOR = "emulator"
    SANDBOX = "sandbox"
    PRODUCTION = "production"


class TransactionType(StrEnum):
    PAYBILL = "CustomerPayBillOnline"
    BUY_GOODS = "CustomerBuyGoodsOnline"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        # An empty `KEY=` (as in .env.example, or a blank Heroku config var) means "unset".
        env_ignore_empty=True,
    )

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_secret: SecretStr | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    merchant_name: str = "lipabot merchant"
    # Telegram answers bursts above ~30 messages/s with 429; stay under it. 0 = no limit.
    # Per instance: several instances on one bot token each get their share (bot/limiter.py).
    telegram_send_rate: float = Field(default=25.0, ge=0)
    # An acknowledged webhook update is leased to one instance this long (renewed while it
    # waits there); after a crash, another instance or the restarted one takes it after this.
    telegram_inbox_lease_seconds: float = Field(default=30.0, gt=0)
    # A customer message Telegram keeps failing (network, 5xx, 429) is retried this long, at
    # least every 10 minutes, before it is given up and the admins are told.
    telegram_delivery_give_up_hours: float = Field(default=24.0, gt=0)
    # Messages per second in one chat (Telegram: about 1; groups 20/minute). 0 = no limit.
    telegram_chat_rate: float = Field(default=1.0, ge=0)
    # Updates processed at once (never two of one chat or one user at once).
    telegram_concurrent_updates: int = Field(default=32, ge=1)
    # A chat (a staff group, say) the bot is a member of: shop reports go there too.
    admin_chat_id: int | None = None
    # Tell the admins (and ADMIN_CHAT_ID) of every paid payment; 0 turns it off.
    admin_notify_payments: bool = True
    # HH:MM, Africa/Nairobi: when the daily summary goes to the admins; unset = no summary.
    admin_daily_summary_at: time | None = None

    # Daraja
    mpesa_env: DarajaEnv | None = None
    mpesa_base_url: str | None = None
    mpesa_consumer_key: SecretStr | None = None
    mpesa_consumer_secret: SecretStr | None = None
    mpesa_shortcode: str = SANDBOX_SHORTCODE
    mpesa_passkey: SecretStr = SecretStr(SANDBOX_PASSKEY)
    mpesa_transaction_type: TransactionType = TransactionType.PAYBILL
    mpesa_party_b: str | None = None
    mpesa_account_reference: str = "lipabot"
    mpesa_transaction_desc: str = "Payment"
    mpesa_callback_token: SecretStr | None = None
    mpesa_callback_url: str | None = None
    mpesa_allowed_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)
    mpesa_timeout_seconds: float = 30.0
    # C2B (payments from the M-Pesa menu; docs/DARAJA.md §11): the Register URL version to try
    # first (the other is tried on "no apiproduct match"), and what validation requests get.
    mpesa_c2b_version: Literal["v1", "v2"] = "v2"
    c2b_validation: Literal["off", "accept", "strict"] = "off"

    # Emulator (only when MPESA_ENV=emulator)
    emulator_callback_delay_seconds: float = 2.0
    # `serve` refuses the emulator (simulated payments, no money moves) unless this is set.
    allow_emulator: bool = False

    # HTTP service
    public_url: str | None = None
    port: int = 8000
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1"]
    )
    log_level: str = "INFO"
    # Bearer token for /metrics and the details of /healthz; unset: /metrics is not served.
    metrics_token: SecretStr | None = None
    # Heroku's dyno metadata (`heroku labs:enable runtime-dyno-metadata`): PUBLIC_URL's fallback.
    heroku_app_default_domain_name: str | None = None

    # Storage
    database_url: str = "sqlite://lipabot.sqlite3"

    # Payment rules and reliability
    pay_min_amount: int = 1
    pay_max_amount: int = 250_000
    push_limit_per_hour: int = 5
    # PIN prompts one phone number may receive per hour, whoever asks for them.
    push_limit_per_phone_per_hour: int = Field(default=3, ge=1)
    reconcile_after_seconds: float = 30.0
    payment_timeout_seconds: float = 180.0
    bot_conversation_timeout_seconds: float = 600.0

    @field_validator("admin_ids", "mpesa_allowed_ips", "forwarded_allow_ips", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("admin_daily_summary_at", mode="before")
    @classmethod
    def _hh_mm(cls, value: object) -> object:
        # Only HH:MM: pydantic would also take seconds, offsets or a bare number of seconds.
        if isinstance(value, str):
            match = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", value.strip())
            if match is None:
                raise ValueError("expected HH:MM (24-hour, Africa/Nairobi), e.g. 20:00")
            return time(int(match[1]), int(match[2]))
        return value

    @field_validator("mpesa_allowed_ips")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for item in value:
            if item != "*":
                ipaddress.ip_network(item, strict=False)
        return value

    @model_validator(mode="before")
    @classmethod
    def _public_url_on_heroku(cls, data: object) -> object:
        # On a Heroku dyno with runtime metadata, the app's own domain is known: use it when
        # PUBLIC_URL is not set (apps made since 2023 live at <app>-<random>.herokuapp.com).
        if isinstance(data, dict) and not data.get("public_url"):
            domain = str(data.get("heroku_app_default_domain_name") or "").strip().strip("/")
            if domain:
                return {**data, "public_url": f"https://{domain}"}
        return data

    @field_validator("database_url", mode="before")
    @classmethod
    def _heroku_postgres(cls, value: object) -> object:
        # Heroku hands out postgresql:// URLs as well as postgres://; tortoise knows the latter.
        if isinstance(value, str) and value.startswith("postgresql://"):
            return "postgres://" + value.removeprefix("postgresql://")
        return value

    @property
    def has_daraja_credentials(self) -> bool:
        return bool(self.mpesa_consumer_key and self.mpesa_consumer_secret)

    @property
    def daraja_env(self) -> DarajaEnv:
        """The Daraja environment in use: the emulator unless credentials say otherwise."""
        if self.mpesa_env is not None:
            return self.mpesa_env
        return DarajaEnv.SANDBOX if self.has_daraja_credentials else DarajaEnv.EMULATOR

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "asyncpg://"))


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (and `.env` when present) once; pydantic validates `overrides`."""
    return Settings(**overrides)
