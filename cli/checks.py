"""`python -m bot check`: what the configuration says, what is missing, and what is wrong.

Each finding is one line: `ok`, `info`, `warn` or `error`, the setting, and what about it.
Secrets are only ever shown as "set". `serve` runs these checks first and refuses to start on any
error; `run` needs far less (a bot token), so the checks take the mode into account.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from config import Settings
from config.settings import DarajaEnv, TransactionType
from daraja.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE
from payments import db
from webhooks.wiring import (
    MIN_CALLBACK_TOKEN_LENGTH,
    c2b_urls,
    callback_url,
    telegram_webhook_url,
)

Mode = Literal["serve", "run"]
Level = Literal["ok", "info", "warn", "error"]

#: Daraja refuses callback URLs containing these words (Daraja 3.0 URL rules; docs/DARAJA.md §7).
REFUSED_WORDS = ("m-pesa", "mpesa", "safaricom", "exec", "exe", "cmd", "sql", "query")
#: Tunnelling and request-bin hosts Daraja refuses.
REFUSED_HOSTS = ("ngrok", "mockbin", "requestbin")
C2B_URL_NAMES = ("C2B ConfirmationURL", "C2B ValidationURL")
DATABASE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Finding:
    level: Level
    name: str
    text: str

    def render(self) -> str:
        return f"{self.level:<5} {self.name}: {self.text}"


def _secret(settings: Settings, field: str) -> bool:
    value = getattr(settings, field)
    return value is not None and bool(value.get_secret_value())


def check_settings(settings: Settings, mode: Mode = "serve") -> list[Finding]:
    """Every finding about `settings` for `mode`, without touching the network."""
    found: list[Finding] = []
    found += _telegram(settings, mode)
    found += _daraja(settings, mode)
    found += _callback(settings, mode)
    found += _service(settings, mode)
    return found


def _telegram(settings: Settings, mode: Mode) -> list[Finding]:
    out: list[Finding] = []
    if _secret(settings, "telegram_bot_token"):
        out.append(Finding("ok", "TELEGRAM_BOT_TOKEN", "set"))
    else:
        out.append(Finding("error", "TELEGRAM_BOT_TOKEN", "missing: get one from @BotFather"))
    if _secret(settings, "telegram_webhook_secret"):
        out.append(Finding("ok", "TELEGRAM_WEBHOOK_SECRET", "set"))
    elif mode == "serve":
        out.append(
            Finding("error", "TELEGRAM_WEBHOOK_SECRET", "missing: serve refuses unsigned updates")
        )
    else:
        out.append(Finding("info", "TELEGRAM_WEBHOOK_SECRET", "not set (not needed by run)"))
    if settings.admin_ids:
        ids = ", ".join(str(i) for i in settings.admin_ids)
        out.append(Finding("ok", "ADMIN_IDS", ids))
    else:
        out.append(Finding("warn", "ADMIN_IDS", "empty: nobody can use /status, /pending"))
    return out


def _daraja(settings: Settings, mode: Mode) -> list[Finding]:
    env = settings.daraja_env
    out = [Finding("ok", "MPESA_ENV", f"{env}" + ("" if settings.mpesa_env else " (default)"))]
    if env == DarajaEnv.EMULATOR:
        where = settings.mpesa_base_url or "in-process, mounted at /daraja"
        out.append(Finding("info", "Daraja", f"emulator ({where}); no credentials needed"))
        if mode == "serve":
            out.append(
                Finding(
                    "warn",
                    "Daraja",
                    "serving on the emulator: payments are simulated and no money moves "
                    "(set MPESA_CONSUMER_KEY/SECRET for sandbox or production)",
                )
            )
        return out
    for name in ("mpesa_consumer_key", "mpesa_consumer_secret"):
        if _secret(settings, name):
            out.append(Finding("ok", name.upper(), "set"))
        else:
            out.append(Finding("error", name.upper(), f"missing: required for MPESA_ENV={env}"))
    out.append(Finding("ok", "MPESA_SHORTCODE", settings.mpesa_shortcode))
    passkey = settings.mpesa_passkey.get_secret_value()
    out.append(
        Finding("ok", "MPESA_PASSKEY", "sandbox passkey" if passkey == SANDBOX_PASSKEY else "set")
    )
    if env == DarajaEnv.PRODUCTION:
        if settings.mpesa_shortcode == SANDBOX_SHORTCODE:
            out.append(
                Finding("error", "MPESA_SHORTCODE", "is the sandbox shortcode 174379 in production")
            )
        if passkey == SANDBOX_PASSKEY:
            out.append(
                Finding(
                    "error",
                    "MPESA_PASSKEY",
                    "is the sandbox passkey in production: use the one Safaricom e-mailed",
                )
            )
    kind = settings.mpesa_transaction_type
    out.append(Finding("ok", "MPESA_TRANSACTION_TYPE", str(kind)))
    if kind == TransactionType.BUY_GOODS and not (settings.mpesa_party_b or "").strip():
        out.append(
            Finding(
                "error",
                "MPESA_PARTY_B",
                "missing: Buy Goods needs the till number (MPESA_SHORTCODE is the store number)",
            )
        )
    return out


def _callback(settings: Settings, mode: Mode) -> list[Finding]:
    env = settings.daraja_env
    token = settings.mpesa_callback_token
    out: list[Finding] = []
    if token is None or not token.get_secret_value():
        if env == DarajaEnv.EMULATOR:
            out.append(Finding("info", "MPESA_CALLBACK_TOKEN", "not set: a random one per run"))
            return out
        out.append(Finding("error", "MPESA_CALLBACK_TOKEN", "missing: required outside emulator"))
        return out
    value = token.get_secret_value()
    if len(value) < MIN_CALLBACK_TOKEN_LENGTH:
        out.append(
            Finding(
                "error",
                "MPESA_CALLBACK_TOKEN",
                f"too short ({len(value)} characters; at least {MIN_CALLBACK_TOKEN_LENGTH})",
            )
        )
    else:
        out.append(Finding("ok", "MPESA_CALLBACK_TOKEN", "set"))
    if not settings.public_url and not settings.mpesa_callback_url:
        if env != DarajaEnv.EMULATOR:
            out.append(
                Finding(
                    "error",
                    "CallBackURL",
                    "cannot be built: set PUBLIC_URL (or MPESA_CALLBACK_URL)",
                )
            )
        return out
    url = callback_url(settings, value)
    shown = url.replace(value, "<token>")
    out.append(Finding("ok", "CallBackURL", shown))
    urls = [(url, shown, "CallBackURL")]
    if settings.public_url or env == DarajaEnv.EMULATOR:
        # The C2B URLs `register-c2b` registers (docs/DARAJA.md §11.2): the same rules.
        for name, c2b_url in zip(C2B_URL_NAMES, c2b_urls(settings, value), strict=True):
            c2b_shown = c2b_url.replace(value, "<token>")
            out.append(Finding("ok", name, c2b_shown))
            urls.append((c2b_url, c2b_shown, name))
    else:
        out.append(Finding("warn", "C2B URLs", "cannot be built without PUBLIC_URL"))
    out.append(
        Finding(
            "ok",
            "MPESA_C2B_VERSION",
            f"{settings.mpesa_c2b_version} (C2B_VALIDATION={settings.c2b_validation})",
        )
    )
    if env == DarajaEnv.EMULATOR:
        return out
    for checked, checked_shown, name in urls:
        out += _callback_url_problems(
            checked, checked_shown, production=env == DarajaEnv.PRODUCTION, name=name
        )
    return out


def _callback_url_problems(
    url: str, shown: str, *, production: bool, name: str = "CallBackURL"
) -> list[Finding]:
    out: list[Finding] = []
    parts = urlsplit(url)
    if parts.scheme != "https":
        level: Level = "error" if production else "warn"
        out.append(Finding(level, name, "is not https (production requires https)"))
    host = (parts.hostname or "").lower()
    for bad in REFUSED_HOSTS:
        if bad in host:
            out.append(Finding("error", name, f"host contains {bad!r}: Daraja refuses it"))
    lowered = url.lower()
    for word in REFUSED_WORDS:
        if word in lowered:
            where = "the token" if word not in shown.lower() else "the URL"
            hint = "; generate a new token" if where == "the token" else ""
            out.append(
                Finding("error", name, f"{where} contains {word!r}: Daraja refuses it{hint}")
            )
            break
    return out


def _service(settings: Settings, mode: Mode) -> list[Finding]:
    out: list[Finding] = []
    if settings.public_url:
        out.append(Finding("ok", "PUBLIC_URL", settings.public_url))
        if mode == "serve":
            if not settings.public_url.startswith("https://"):
                out.append(Finding("error", "PUBLIC_URL", "Telegram webhooks need https"))
            out.append(Finding("info", "Telegram webhook", telegram_webhook_url(settings)))
    elif mode == "serve":
        out.append(
            Finding("error", "PUBLIC_URL", "missing: serve registers PUBLIC_URL/telegram/webhook")
        )
    else:
        out.append(Finding("info", "PUBLIC_URL", "not set (run polls Telegram)"))
    allowed = ", ".join(settings.mpesa_allowed_ips) or "any address (the token guards the route)"
    out.append(Finding("ok", "MPESA_ALLOWED_IPS", allowed))
    out.append(Finding("ok", "FORWARDED_ALLOW_IPS", ", ".join(settings.forwarded_allow_ips)))
    out.append(Finding("ok", "DATABASE_URL", _safe_database_url(settings.database_url)))
    return out


def _safe_database_url(url: str) -> str:
    """The database URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


async def check_database(database_url: str) -> Finding:
    """Connect and run `SELECT 1`; never raises."""
    if database_url.startswith("sqlite://"):
        path = Path(database_url.removeprefix("sqlite://").split("?", 1)[0])
        if str(path) != ":memory:" and not os.path.exists(path):  # noqa: ASYNC240 - one stat
            # Connecting would create an empty file; say what will happen instead.
            return Finding(
                "info", "database", f"SQLite file {path} not there yet: migrate makes it"
            )
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
            await db.init_db(database_url)
            try:
                healthy = await db.ping()
            finally:
                await db.close_db()
    except Exception as exc:  # any failure to connect is the finding itself
        return Finding("error", "database", f"unreachable: {type(exc).__name__}: {_short(exc)}")
    if not healthy:
        return Finding("error", "database", "unreachable: SELECT 1 failed")
    return Finding("ok", "database", "reachable")


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else ""


def has_errors(findings: list[Finding]) -> bool:
    return any(f.level == "error" for f in findings)
