"""`python -m bot check`: what the configuration says, what is missing, and what is wrong.

Each finding is one line: `ok`, `info`, `warn` or `error`, the environment variable, and what
about it; `one_per_setting` folds several findings about one variable into one verdict. Secrets
are only ever shown as "set". `serve` runs these checks first and refuses to start on any error;
`run` needs far less (a bot token), so the checks take the mode into account. Settings that do
not even parse are findings too (`load_settings_for_check`), never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import ValidationError

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
DATABASE_TIMEOUT_SECONDS = 10.0
#: What @BotFather hands out: the bot's id, a colon, and at least 35 characters.
BOT_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]{35,}")
#: Telegram's rule for setWebhook's secret_token.
WEBHOOK_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
DEFAULT_MERCHANT_NAME = "lipabot merchant"
DEFAULT_ACCOUNT_REFERENCE = "lipabot"
#: Daraja's limits (the client cuts longer values).
ACCOUNT_REFERENCE_MAX = 12
TRANSACTION_DESC_MAX = 13
_LEVELS: tuple[Level, ...] = ("ok", "info", "warn", "error")
C2B_URL_NAMES = ("C2B ConfirmationURL", "C2B ValidationURL")


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
    found += _shop(settings)
    return one_per_setting(found)


def one_per_setting(findings: list[Finding]) -> list[Finding]:
    """One finding per name, in order of first mention: the worst level, every text but "ok"'s
    plain value when something is wrong with it."""
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.name, []).append(finding)
    out: list[Finding] = []
    for name, group in grouped.items():
        worst = max(group, key=lambda f: _LEVELS.index(f.level)).level
        texts = [f.text for f in group if f.level != "ok" or worst in ("ok", "info")]
        # A text another one already contains (the URL, then the URL and its state) goes.
        texts = [t for i, t in enumerate(texts) if not any(t in o for o in texts[i + 1 :])]
        out.append(Finding(worst, name, "; ".join(dict.fromkeys(texts))))
    return out


# ---------------------------------------------------------------------------- loading


def load_settings_for_check(**overrides: Any) -> tuple[Settings, list[Finding]]:
    """The settings, and an error per environment variable that does not parse.

    Variables that do not parse are replaced by their defaults so that everything else can
    still be checked; their findings name the variable, never pydantic's field name.
    """
    from config import load_settings

    try:
        return load_settings(**overrides), []
    except ValidationError as exc:
        errors = exc.errors()
    findings: list[Finding] = []
    defaults: dict[str, Any] = {}
    for error in errors:
        field = str(error["loc"][0]) if error["loc"] else ""
        findings.append(_validation_finding(field, error))
        if field in Settings.model_fields:
            defaults[field] = Settings.model_fields[field].get_default(call_default_factory=True)
    try:
        return load_settings(**{**overrides, **defaults}), findings
    except ValidationError:  # pragma: no cover - the defaults themselves are valid
        return Settings(_env_file=None), findings  # type: ignore[call-arg]


def _validation_finding(field: str, error: Any) -> Finding:
    name = field.upper() or "configuration"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    value = error.get("input")
    secret = field in Settings.model_fields and "SecretStr" in str(
        Settings.model_fields[field].annotation
    )
    if isinstance(value, str) and not secret:
        shown = value if len(value) <= 60 else value[:57] + "..."
        message += f" (got {shown!r})"
    return Finding("error", name, message)


def _telegram(settings: Settings, mode: Mode) -> list[Finding]:
    out: list[Finding] = []
    token = settings.telegram_bot_token
    if token is None or not token.get_secret_value():
        out.append(Finding("error", "TELEGRAM_BOT_TOKEN", "missing: get one from @BotFather"))
    elif not BOT_TOKEN_SHAPE.fullmatch(token.get_secret_value().strip()):
        out.append(
            Finding(
                "error",
                "TELEGRAM_BOT_TOKEN",
                "not shaped like a bot token (<digits>:<35 or more letters, digits, _ or ->): "
                "copy it again from @BotFather",
            )
        )
    else:
        out.append(Finding("ok", "TELEGRAM_BOT_TOKEN", "set"))
    secret = settings.telegram_webhook_secret
    if secret is not None and secret.get_secret_value():
        if WEBHOOK_SECRET_SHAPE.fullmatch(secret.get_secret_value()):
            out.append(Finding("ok", "TELEGRAM_WEBHOOK_SECRET", "set"))
        else:
            out.append(
                Finding(
                    "error",
                    "TELEGRAM_WEBHOOK_SECRET",
                    "Telegram accepts only 1-256 of A-Z a-z 0-9 _ - "
                    '(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")',
                )
            )
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
        where = settings.mpesa_base_url or "in-process, not served over HTTP"
        out.append(Finding("info", "Daraja", f"emulator ({where}); no credentials needed"))
        if mode == "serve" and not settings.allow_emulator:
            out.append(
                Finding(
                    "error",
                    "MPESA_ENV",
                    "serve on the emulator takes simulated payments and moves no money: "
                    "set MPESA_CONSUMER_KEY/SECRET to go live, or ALLOW_EMULATOR=1 "
                    "(or serve --emulator) to try it",
                )
            )
        elif mode == "serve":
            out.append(
                Finding(
                    "warn",
                    "ALLOW_EMULATOR",
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
            if settings.mpesa_callback_url:
                out.append(
                    Finding(
                        "error",
                        "MPESA_CALLBACK_URL",
                        "set, but MPESA_CALLBACK_TOKEN is not: the URL must end in that token",
                    )
                )
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
    if settings.mpesa_callback_url and not _path_ends_in(url, value):
        out.append(
            Finding(
                "error",
                "MPESA_CALLBACK_URL",
                "its path must end in /<MPESA_CALLBACK_TOKEN> (the callback route is "
                "/payments/callback/<token>): Daraja's callbacks would get 404",
            )
        )
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


def _path_ends_in(url: str, token: str) -> bool:
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    return path.rstrip("/").endswith("/" + token)


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
        source = (
            " (from HEROKU_APP_DEFAULT_DOMAIN_NAME)"
            if settings.heroku_app_default_domain_name
            and settings.public_url == f"https://{settings.heroku_app_default_domain_name}"
            else ""
        )
        out.append(Finding("ok", "PUBLIC_URL", settings.public_url + source))
        if mode == "serve":
            if not settings.public_url.startswith("https://"):
                out.append(Finding("error", "PUBLIC_URL", "Telegram webhooks need https"))
            out.append(Finding("info", "Telegram webhook", telegram_webhook_url(settings)))
    elif mode == "serve":
        out.append(
            Finding(
                "error",
                "PUBLIC_URL",
                "missing: serve registers PUBLIC_URL/telegram/webhook. On Heroku: "
                "`heroku apps:info` shows the Web URL (https://<app>-<random>.herokuapp.com); "
                "`heroku config:set PUBLIC_URL=<it>`, or `heroku labs:enable "
                "runtime-dyno-metadata` to have it found",
            )
        )
    else:
        out.append(Finding("info", "PUBLIC_URL", "not set (run polls Telegram)"))
    allowed = ", ".join(settings.mpesa_allowed_ips) or "any address (the token guards the route)"
    out.append(Finding("ok", "MPESA_ALLOWED_IPS", allowed))
    out.append(Finding("ok", "FORWARDED_ALLOW_IPS", ", ".join(settings.forwarded_allow_ips)))
    if "*" in settings.forwarded_allow_ips and settings.mpesa_allowed_ips:
        out.append(
            Finding(
                "warn",
                "FORWARDED_ALLOW_IPS",
                "* with MPESA_ALLOWED_IPS: the right-most X-Forwarded-For entry decides who "
                "may post callbacks, which is only safe behind a router that appends that "
                "header (Heroku's, Render's); anyone reaching this port directly could claim "
                "to be Safaricom",
            )
        )
    if settings.log_level.strip().upper() in LOG_LEVELS:
        out.append(Finding("ok", "LOG_LEVEL", settings.log_level.strip().upper()))
    else:
        out.append(
            Finding(
                "error",
                "LOG_LEVEL",
                f"unknown level {settings.log_level!r}: use one of {', '.join(LOG_LEVELS)}",
            )
        )
    problem = db.url_problem(settings.database_url)
    level: Level = "error" if problem else "ok"
    out.append(Finding(level, "DATABASE_URL", problem or db.safe_url(settings.database_url)))
    if settings.metrics_token is not None and settings.metrics_token.get_secret_value():
        out.append(Finding("ok", "METRICS_TOKEN", "set: /metrics and health details need it"))
    else:
        out.append(Finding("info", "METRICS_TOKEN", "not set: /metrics is not served"))
    return out


def _shop(settings: Settings) -> list[Finding]:
    out: list[Finding] = []
    low, high = settings.pay_min_amount, settings.pay_max_amount
    if low < 1:
        out.append(Finding("error", "PAY_MIN_AMOUNT", f"{low}: M-Pesa takes 1 shilling or more"))
    elif low > high:
        out.append(Finding("error", "PAY_MIN_AMOUNT", f"{low} is above PAY_MAX_AMOUNT ({high})"))
    else:
        out.append(Finding("ok", "PAY_MIN_AMOUNT", f"KES {low} to {high} (PAY_MAX_AMOUNT)"))
    name = settings.merchant_name.strip()
    if not name or name == DEFAULT_MERCHANT_NAME:
        out.append(
            Finding(
                "warn",
                "MERCHANT_NAME",
                f"left at the default {DEFAULT_MERCHANT_NAME!r}: customers see it before "
                "they pay; set your shop's name",
            )
        )
    else:
        out.append(Finding("ok", "MERCHANT_NAME", name))
    out += _daraja_text(
        "MPESA_ACCOUNT_REFERENCE",
        settings.mpesa_account_reference,
        ACCOUNT_REFERENCE_MAX,
        DEFAULT_ACCOUNT_REFERENCE,
    )
    out += _daraja_text(
        "MPESA_TRANSACTION_DESC", settings.mpesa_transaction_desc, TRANSACTION_DESC_MAX, None
    )
    return out


def _daraja_text(name: str, value: str, limit: int, default: str | None) -> list[Finding]:
    text = value.strip()
    if len(text) > limit:
        cut = text[:limit].strip()
        return [
            Finding(
                "warn",
                name,
                f"{len(text)} characters: Daraja takes {limit}, so customers see {cut!r}",
            )
        ]
    if default is not None and text == default:
        return [
            Finding(
                "warn",
                name,
                f"left at the default {default!r}: customers see it in the M-Pesa prompt "
                "(PayBill: the account number)",
            )
        ]
    return [Finding("ok", name, text)]


async def check_database(database_url: str, mode: Mode = "serve") -> Finding:
    """Can `mode` use this database: parsable, reachable, migrated? Never raises."""
    shown = db.safe_url(database_url)
    problem = db.url_problem(database_url)
    if problem is not None:
        return Finding("error", "DATABASE_URL", problem)
    migrates_itself = mode == "run" and database_url.startswith("sqlite://")
    path = db.sqlite_path(database_url)
    if path is not None and not path.exists():
        # Connecting would create an empty file; say what will happen instead.
        if migrates_itself:
            return Finding("info", "DATABASE_URL", f"{shown}: not there yet, run creates it")
        return Finding(
            "error",
            "DATABASE_URL",
            f"{shown}: the SQLite file does not exist yet: run `python -m bot migrate` first",
        )
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
            pending = await _quietly(db.pending_migrations(database_url))
    except db.DatabaseUnavailable as exc:
        return Finding("error", "DATABASE_URL", f"{shown}: unreachable: {exc}")
    except Exception as exc:  # any failure to connect is the finding itself
        return Finding("error", "DATABASE_URL", f"{shown}: unreachable: {db.one_line(exc)}")
    if pending and migrates_itself:
        return Finding("info", "DATABASE_URL", f"{shown}: run applies {len(pending)} migrations")
    if pending:
        return Finding(
            "error",
            "DATABASE_URL",
            f"{shown}: not migrated ({len(pending)} pending: {', '.join(pending)}): "
            "run `python -m bot migrate` first (the release phase does it on Heroku)",
        )
    return Finding("ok", "DATABASE_URL", f"{shown}: reachable, migrated")


async def _quietly(awaitable: Any) -> Any:
    """Await with tortoise's and asyncpg's own error logging held back: the finding says it."""
    loggers = [logging.getLogger(name) for name in ("tortoise", "asyncpg", "aiosqlite")]
    before = [logger.disabled for logger in loggers]
    for logger in loggers:
        logger.disabled = True
    try:
        return await awaitable
    finally:
        for logger, was in zip(loggers, before, strict=True):
            logger.disabled = was


def has_errors(findings: list[Finding]) -> bool:
    return any(f.level == "error" for f in findings)
