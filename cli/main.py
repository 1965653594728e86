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
from typing import Any

from pydantic import ValidationError

from cli.checks import Mode, check_database, check_settings, has_errors
from config import Settings, load_settings
from config.logging import configure_logging

log = logging.getLogger("lipabot")


def _settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        # pydantic's message names the variable and the problem; values of secrets are not in it
        # because SecretStr fields only fail on type, which a string never does.
        print(f"configuration error:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _report(settings: Settings, mode: Mode, *, database: bool = True) -> bool:
    """Print the findings; True when there is no error."""
    findings = check_settings(settings, mode)
    if database:
        findings.append(asyncio.run(check_database(settings.database_url)))
    for finding in findings:
        print(finding.render())
    if has_errors(findings):
        print(f"configuration has errors: {mode} would not start", file=sys.stderr)
        return False
    return True


# ---------------------------------------------------------------------------- commands


def cmd_check(args: argparse.Namespace) -> int:
    settings = _settings()
    configure_logging(settings, "WARNING")
    return 0 if _report(settings, args.mode) else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from webhooks.app import create_app

    settings = _settings()
    configure_logging(settings)
    if not _report(settings, "serve"):
        return 1
    _run_uvicorn(
        create_app(settings, register_webhook=True, tune_gc=True), args.host, settings.port
    )
    return 0


def _run_uvicorn(app: Any, host: str, port: int) -> None:
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
    )


def cmd_run(args: argparse.Namespace) -> int:
    from webhooks.app import create_app

    settings = _settings()
    configure_logging(settings)
    if not _report(settings, "run", database=False):
        return 1
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
    from payments.db import migrate

    settings = _settings()
    configure_logging(settings)
    asyncio.run(migrate(settings.database_url))
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lipabot", description="A Telegram bot that takes M-Pesa payments (Daraja STK push)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="production: webhook mode on $PORT (Procfile web)")
    serve.add_argument("--host", default="0.0.0.0", help="default 0.0.0.0")  # noqa: S104
    serve.set_defaults(func=cmd_serve)

    run = sub.add_parser("run", help="development: long polling, emulator unless credentials")
    run.add_argument("--host", default="127.0.0.1")
    run.set_defaults(func=cmd_run)

    migrate = sub.add_parser("migrate", help="apply database migrations (Procfile release)")
    migrate.set_defaults(func=cmd_migrate)

    emulator = sub.add_parser("emulator", help="the Daraja emulator alone")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8001)
    emulator.set_defaults(func=cmd_emulator)

    check = sub.add_parser("check", help="explain the configuration; non-zero exit on errors")
    check.add_argument("--mode", choices=["serve", "run"], default="serve")
    check.set_defaults(func=cmd_check)

    register_c2b = sub.add_parser(
        "register-c2b", help="register the C2B (M-Pesa menu payment) URLs with Daraja, once"
    )
    register_c2b.set_defaults(func=cmd_register_c2b)

    demo = sub.add_parser("demo", help="offline scripted demo: three payments and /status")
    demo.set_defaults(func=cmd_demo)

    chat = sub.add_parser("chat", help="offline: talk to the bot in this terminal")
    chat.set_defaults(func=cmd_chat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
