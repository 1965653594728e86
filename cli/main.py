"""lipabot's command line: `python -m bot serve|run|migrate|emulator|check|register-c2b|demo|chat`.

Also installed as `lipabot`. Each command reads the settings once, sets up logging once (with
the secret-redacting filter from `config.logging`), and hands over to the module that does
the work: `webhooks.app` (serve, run), `payments.db` (migrate), `daraja.emulator` (emulator),
`cli.checks` (check), `cli.register_c2b` (register-c2b), `offline.demo` (demo), `offline.chat`
(chat).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from pydantic import ValidationError

from cli.checks import (
    Finding,
    Mode,
    check_database,
    check_settings,
    has_errors,
    load_settings_for_check,
    one_per_setting,
)
from config import Settings, load_settings
from config.logging import configure_logging

log = logging.getLogger("lipabot")


def _settings() -> Settings:
    """The settings, or exit 2 with one line per variable that does not parse."""
    try:
        return load_settings()
    except ValidationError:
        _, findings = load_settings_for_check()
        for finding in findings:
            print(finding.render(), file=sys.stderr)
        raise SystemExit(2) from None


def _report(mode: Mode, *, database: bool = True, **overrides: object) -> Settings | None:
    """Print one verdict per setting; the settings when there is no error, else None."""
    settings, findings = load_settings_for_check(**overrides)
    unparsed = {f.name for f in findings}
    findings += [f for f in check_settings(settings, mode) if f.name not in unparsed]
    if database and "DATABASE_URL" not in unparsed:
        findings.append(asyncio.run(check_database(settings.database_url, mode)))
    findings = one_per_setting(findings)
    for finding in findings:
        print(finding.render())
    if has_errors(findings):
        print(f"configuration has errors: {mode} would not start", file=sys.stderr)
        return None
    return settings


def _fail(finding: Finding) -> int:
    print(finding.render(), file=sys.stderr)
    return 1


# ---------------------------------------------------------------------------- commands


def cmd_check(args: argparse.Namespace) -> int:
    # Only errors of the libraries reach the terminal: the findings say what went wrong.
    configure_logging(None, "CRITICAL")
    overrides = {"allow_emulator": True} if args.emulator else {}
    return 0 if _report(args.mode, **overrides) else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from webhooks.app import create_app
    from webhooks.limits import server_options

    configure_logging(None, "CRITICAL")
    settings = _report("serve", **({"allow_emulator": True} if args.emulator else {}))
    if settings is None:
        return 1
    configure_logging(settings)
    if settings.daraja_env == "emulator":
        log.warning(
            "SERVING ON THE DARAJA EMULATOR: payments are simulated and NO MONEY MOVES. "
            "Set MPESA_CONSUMER_KEY and MPESA_CONSUMER_SECRET to take real payments."
        )
    _run_uvicorn(
        create_app(settings, register_webhook=True, tune_gc=True),
        args.host,
        settings.port,
        **server_options(),
    )
    return 0


def _run_uvicorn(app: Any, host: str, port: int, **options: Any) -> None:
    import uvicorn

    # Proxy headers are resolved by the app itself (webhooks.security, FORWARDED_ALLOW_IPS):
    # uvicorn's "*" takes the left-most X-Forwarded-For entry, which the caller controls.
    # uvicorn's access log is off because it would print the callback token in the path.
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=False,
        access_log=False,
        log_config=None,
        workers=1,
        lifespan="on",
        ws="none",
        **options,
    )


def cmd_run(args: argparse.Namespace) -> int:
    from webhooks.app import create_app

    configure_logging(None, "CRITICAL")
    settings = _report("run")
    if settings is None:
        return 1
    configure_logging(settings)
    app = create_app(
        settings,
        telegram_mode="polling",
        run_migrations=not settings.is_postgres,
        tune_gc=True,
    )
    if settings.is_postgres:
        log.info("PostgreSQL: migrations are not run by `run`; use `python -m bot migrate`")
    _run_uvicorn(app, args.host, settings.port)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from payments.db import DatabaseUnavailable, migrate, safe_url

    settings = _settings()
    configure_logging(settings)
    try:
        asyncio.run(migrate(settings.database_url))
    except DatabaseUnavailable as exc:
        shown = safe_url(settings.database_url)
        return _fail(Finding("error", "DATABASE_URL", f"{shown}: cannot migrate: {exc}"))
    print(f"ok    DATABASE_URL: {safe_url(settings.database_url)} migrated")
    return 0


def cmd_emulator(args: argparse.Namespace) -> int:
    import uvicorn

    from daraja.emulator import create_emulator_app

    settings = _settings()
    configure_logging(settings)
    app = create_emulator_app(
        shortcode=settings.mpesa_shortcode,
        passkey=settings.mpesa_passkey.get_secret_value(),
        callback_delay=settings.emulator_callback_delay_seconds,
    )
    log.info("Daraja emulator on http://%s:%d", args.host, args.port)
    # access log off: callback URLs in control requests carry a secret token.
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_config=None, ws="none")
    return 0


def cmd_register_c2b(args: argparse.Namespace) -> int:
    from cli.register_c2b import register

    settings = _settings()
    configure_logging(settings, "WARNING")
    return asyncio.run(register(settings))


def cmd_demo(args: argparse.Namespace) -> int:
    from offline.demo import run_demo

    configure_logging(None, "WARNING")
    return 0 if asyncio.run(run_demo()) else 1


def cmd_chat(args: argparse.Namespace) -> int:
    from offline.chat import run_chat

    configure_logging(None, "WARNING")
    return asyncio.run(run_chat())


# ---------------------------------------------------------------------------- parser


def _version() -> str:
    try:
        return metadata.version("lipabot")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


#: (name, one-line help, what it does in full) for every subcommand.
COMMANDS = {
    "serve": (
        "production: Telegram webhook and Daraja callbacks on $PORT (Procfile web)",
        "Checks the configuration (as `check` does), registers the Telegram webhook at "
        "PUBLIC_URL/telegram/webhook and serves it and the Daraja callback route on $PORT. "
        "Refuses to start on any configuration error, on a database that is not migrated, "
        "and on the Daraja emulator unless --emulator or ALLOW_EMULATOR=1 is given.",
    ),
    "run": (
        "on your laptop: polls Telegram, Daraja emulator unless credentials are set",
        "Long polling (no public URL needed), SQLite migrated on start. Without Daraja "
        "credentials the payments go to the built-in emulator: no money moves.",
    ),
    "migrate": (
        "create or update the database tables (Procfile release)",
        "Applies every migration the database at DATABASE_URL has not seen yet. Fails with the "
        "cause in one line when the database cannot be opened.",
    ),
    "emulator": (
        "the Daraja emulator alone, on its own port (for tests and tinkering)",
        "Serves the Daraja emulator (OAuth, STK push and query, control API). Never expose it: "
        "its control API shows customers' phone numbers.",
    ),
    "check": (
        "explain the configuration; exit 1 on errors",
        "One verdict per setting (ok, info, warn, error) for the given mode, the database "
        "reached and its migrations compared. Secrets are only ever shown as 'set'.",
    ),
    "register-c2b": (
        "register the C2B (M-Pesa menu payment) URLs with Daraja, once",
        "Registers the confirmation and validation URLs (MPESA_C2B_VERSION, falling back to the "
        "other version on 'no apiproduct match') and prints Daraja's answer in words.",
    ),
    "demo": (
        "offline scripted demo: three payments and /status (no token, no network)",
        "Runs the real bot against a fake Telegram and the Daraja emulator, in memory.",
    ),
    "chat": (
        "offline: talk to the bot in this terminal (no token, no network)",
        "Type messages as a customer would; /quit ends.",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lipabot",
        description="A Telegram bot that takes M-Pesa payments (Daraja STK push).",
        epilog="`lipabot COMMAND --help` says more about each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str) -> argparse.ArgumentParser:
        short, long = COMMANDS[name]
        return sub.add_parser(name, help=short, description=f"{short}. {long}")

    serve = add("serve")
    serve.add_argument(
        "--host",
        default="0.0.0.0",  # noqa: S104 - a dyno's port is reached through its router
        help="address to listen on (default 0.0.0.0)",
    )
    serve.add_argument(
        "--emulator",
        action="store_true",
        help="allow the Daraja emulator (simulated payments, no money moves); ALLOW_EMULATOR=1",
    )
    serve.set_defaults(func=cmd_serve)

    run = add("run")
    run.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    run.set_defaults(func=cmd_run)

    add("migrate").set_defaults(func=cmd_migrate)

    emulator = add("emulator")
    emulator.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    emulator.add_argument("--port", type=int, default=8001, help="default 8001")
    emulator.set_defaults(func=cmd_emulator)

    check = add("check")
    check.add_argument(
        "--mode", choices=["serve", "run"], default="serve", help="what to check for (serve)"
    )
    check.add_argument(
        "--emulator", action="store_true", help="as `serve --emulator` would be started"
    )
    check.set_defaults(func=cmd_check)

    add("register-c2b").set_defaults(func=cmd_register_c2b)
    add("demo").set_defaults(func=cmd_demo)
    add("chat").set_defaults(func=cmd_chat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
