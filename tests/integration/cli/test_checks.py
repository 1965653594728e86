"""`check`: findings for good and bad configurations, and the command's exit code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from cli.checks import Finding, check_database, check_settings, has_errors
from daraja.config import SANDBOX_PASSKEY
from tests.support.settings import TEST_BOT_TOKEN, TEST_CALLBACK_TOKEN, make_settings

ROOT = Path(__file__).resolve().parents[3]
LIVE = {
    "mpesa_env": "production",
    "mpesa_consumer_key": SecretStr("live-key"),
    "mpesa_consumer_secret": SecretStr("live-secret"),
    "mpesa_shortcode": "600123",
    "mpesa_passkey": SecretStr("live-passkey-from-safaricom-email"),
}


def _errors(findings: list[Finding]) -> list[str]:
    return [f"{f.name}: {f.text}" for f in findings if f.level == "error"]


def test_a_good_production_configuration_has_no_errors() -> None:
    findings = check_settings(make_settings(**LIVE), "serve")
    assert _errors(findings) == []
    rendered = "\n".join(f.render() for f in findings)
    assert "CallBackURL: https://lipabot.test/payments/callback/<token>" in rendered
    # Secrets are only ever "set".
    for secret in ("live-key", "live-secret", "live-passkey", TEST_BOT_TOKEN, TEST_CALLBACK_TOKEN):
        assert secret not in rendered
    assert "MPESA_CONSUMER_KEY: set" in rendered


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"public_url": "http://lipabot.test"}, "CallBackURL: is not https"),
        ({"public_url": "https://abc.ngrok.io"}, "host contains 'ngrok'"),
        ({"public_url": "https://mpesa-shop.example"}, "the URL contains 'mpesa'"),
        ({"mpesa_callback_url": "https://x.example/query/cb"}, "the URL contains 'query'"),
        (
            {"mpesa_callback_token": SecretStr("aaaaEXEbbbbbbbbbbbbbbbbbbbbbb")},
            "the token contains",
        ),
        ({"mpesa_callback_token": SecretStr("short")}, "too short"),
        ({"mpesa_callback_token": None}, "MPESA_CALLBACK_TOKEN: missing"),
        ({"mpesa_transaction_type": "CustomerBuyGoodsOnline"}, "MPESA_PARTY_B: missing"),
        ({"mpesa_shortcode": "174379"}, "sandbox shortcode"),
        ({"mpesa_passkey": SecretStr(SANDBOX_PASSKEY)}, "sandbox passkey in production"),
        ({"mpesa_consumer_secret": None}, "MPESA_CONSUMER_SECRET: missing"),
        ({"telegram_bot_token": None}, "TELEGRAM_BOT_TOKEN: missing"),
        ({"telegram_webhook_secret": None}, "TELEGRAM_WEBHOOK_SECRET: missing"),
        ({"public_url": None}, "PUBLIC_URL: missing"),
    ],
)
def test_each_problem_is_an_error(overrides: dict[str, object], expected: str) -> None:
    findings = check_settings(make_settings(**{**LIVE, **overrides}), "serve")
    assert has_errors(findings)
    assert any(expected in line for line in _errors(findings)), _errors(findings)


def test_buy_goods_with_a_till_is_fine() -> None:
    settings = make_settings(
        **LIVE, mpesa_transaction_type="CustomerBuyGoodsOnline", mpesa_party_b="5123456"
    )
    assert _errors(check_settings(settings, "serve")) == []


def test_sandbox_over_http_is_only_a_warning() -> None:
    settings = make_settings(
        mpesa_consumer_key=SecretStr("k"),
        mpesa_consumer_secret=SecretStr("s"),
        public_url="http://lipabot.test",
    )
    findings = check_settings(settings, "run")
    assert any(f.level == "warn" and "not https" in f.text for f in findings)
    assert not has_errors(findings)


def test_run_in_emulator_mode_needs_only_the_bot_token() -> None:
    settings = make_settings(
        telegram_webhook_secret=None, public_url=None, mpesa_callback_token=None
    )
    assert _errors(check_settings(settings, "run")) == []
    assert has_errors(check_settings(settings, "serve"))


async def test_database_reachability(tmp_path: Path, _sqlite_template: Path) -> None:
    path = tmp_path / "db.sqlite3"
    shutil.copyfile(_sqlite_template, path)
    good = await check_database(f"sqlite://{path}")
    assert (good.level, good.name) == ("ok", "DATABASE_URL")
    assert good.text.endswith("reachable, migrated")
    missing = await check_database(f"sqlite://{tmp_path / 'none.sqlite3'}", "run")
    assert missing.level == "info" and not (tmp_path / "none.sqlite3").exists()
    down = await check_database("postgres://postgres:pw@127.0.0.1:1/nothing")
    assert down.level == "error"
    assert "unreachable: ConnectionRefusedError" in down.text
    assert ":pw@" not in down.text and "\n" not in down.text


def _run_check(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_command_exit_codes(tmp_path: Path, _sqlite_template: Path) -> None:
    database = tmp_path / "live.sqlite3"
    shutil.copyfile(_sqlite_template, database)
    good = {
        "TELEGRAM_BOT_TOKEN": TEST_BOT_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": "tg-secret",
        "PUBLIC_URL": "https://shop.example",
        "MPESA_ENV": "production",
        "MPESA_CONSUMER_KEY": "live-key",
        "MPESA_CONSUMER_SECRET": "live-secret",
        "MPESA_SHORTCODE": "600123",
        "MPESA_PASSKEY": "live-passkey-from-safaricom-email",
        "MPESA_CALLBACK_TOKEN": TEST_CALLBACK_TOKEN,
        "DATABASE_URL": f"sqlite://{database}",
    }
    ok = _run_check(good, tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"ok    DATABASE_URL: sqlite://{database}: reachable, migrated" in ok.stdout
    assert TEST_BOT_TOKEN not in ok.stdout + ok.stderr

    bad = _run_check({**good, "MPESA_SHORTCODE": "174379", "PUBLIC_URL": ""}, tmp_path)
    assert bad.returncode == 1
    assert "error MPESA_SHORTCODE: is the sandbox shortcode 174379 in production" in bad.stdout
    assert "error PUBLIC_URL: missing" in bad.stdout


def test_serve_on_the_emulator_only_when_asked_and_loudly() -> None:
    # Without Daraja credentials `serve` would take simulated payments: refuse unless asked.
    refused = check_settings(make_settings(), "serve")
    assert any(f.level == "error" and "moves no money" in f.text for f in refused)
    assert "ALLOW_EMULATOR=1" in "\n".join(f.text for f in refused)
    allowed = check_settings(make_settings(allow_emulator=True), "serve")
    assert not has_errors(allowed)
    assert any(f.level == "warn" and "no money moves" in f.text for f in allowed)
    assert not any("no money moves" in f.text for f in check_settings(make_settings(), "run"))
    live = check_settings(make_settings(**LIVE), "serve")
    assert not any("no money moves" in f.text for f in live)


# ---------------------------------------------------------------------------- issue 15 cases

GOOD_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"


def _verdicts(findings: list[Finding]) -> dict[str, tuple[str, str]]:
    names = [f.name for f in findings]
    assert len(names) == len(set(names)), f"more than one verdict for a setting: {names}"
    return {f.name: (f.level, f.text) for f in findings}


@pytest.mark.parametrize(
    ("overrides", "name", "expected"),
    [
        ({"telegram_bot_token": SecretStr("123456:short")}, "TELEGRAM_BOT_TOKEN", "not shaped"),
        ({"telegram_bot_token": SecretStr("bot" + GOOD_TOKEN)}, "TELEGRAM_BOT_TOKEN", "shaped"),
        ({"telegram_webhook_secret": SecretStr("has space")}, "TELEGRAM_WEBHOOK_SECRET", "A-Z"),
        ({"telegram_webhook_secret": SecretStr("x" * 257)}, "TELEGRAM_WEBHOOK_SECRET", "1-256"),
        ({"log_level": "LOUD"}, "LOG_LEVEL", "unknown level 'LOUD'"),
        ({"pay_min_amount": 500, "pay_max_amount": 100}, "PAY_MIN_AMOUNT", "above PAY_MAX"),
        ({"pay_min_amount": 0}, "PAY_MIN_AMOUNT", "1 shilling or more"),
        (
            {"mpesa_callback_url": "https://lipabot.test/payments/callback/other"},
            "MPESA_CALLBACK_URL",
            "must end in /<MPESA_CALLBACK_TOKEN>",
        ),
        ({"database_url": "postgres://u:p@db:port/x"}, "DATABASE_URL", "Port is not an integer"),
        ({"database_url": "mysql://x/y"}, "DATABASE_URL", "not a database URL"),
        (
            {"database_url": "sqlite:///nonexistent-folder-15/lipabot.sqlite3"},
            "DATABASE_URL",
            "folder /nonexistent-folder-15 of the SQLite file does not exist",
        ),
    ],
)
def test_each_refused_setting_is_one_error_naming_the_variable(
    overrides: dict[str, object], name: str, expected: str
) -> None:
    settings = make_settings(**{**LIVE, "telegram_bot_token": SecretStr(GOOD_TOKEN), **overrides})
    level, text = _verdicts(check_settings(settings, "serve"))[name]
    assert level == "error" and expected in text, text
    assert "p@" not in text  # no password from a DATABASE_URL


def test_a_good_bot_token_and_a_callback_url_ending_in_the_token_pass() -> None:
    settings = make_settings(
        **LIVE,
        telegram_bot_token=SecretStr(GOOD_TOKEN),
        telegram_webhook_secret=SecretStr("A-z_0-9" * 30),
        mpesa_callback_url=f"https://proxy.example/lipa/{TEST_CALLBACK_TOKEN}/",
        log_level="debug",
    )
    verdicts = _verdicts(check_settings(settings, "serve"))
    assert verdicts["TELEGRAM_BOT_TOKEN"] == ("ok", "set")
    assert verdicts["TELEGRAM_WEBHOOK_SECRET"] == ("ok", "set")
    assert verdicts["LOG_LEVEL"] == ("ok", "DEBUG")
    assert "MPESA_CALLBACK_URL" not in verdicts


@pytest.mark.parametrize(
    ("overrides", "name", "expected"),
    [
        ({"merchant_name": "lipabot merchant"}, "MERCHANT_NAME", "left at the default"),
        ({"mpesa_account_reference": "lipabot"}, "MPESA_ACCOUNT_REFERENCE", "the default"),
        (
            {"mpesa_account_reference": "Duka la Mama Njeri"},
            "MPESA_ACCOUNT_REFERENCE",
            "Daraja takes 12, so customers see 'Duka la Mama'",
        ),
        (
            {"mpesa_transaction_desc": "Payment for goods"},
            "MPESA_TRANSACTION_DESC",
            "Daraja takes 13",
        ),
        (
            {"forwarded_allow_ips": ["*"], "mpesa_allowed_ips": ["196.201.214.0/24"]},
            "FORWARDED_ALLOW_IPS",
            "only safe behind a router that appends",
        ),
    ],
)
def test_warnings(overrides: dict[str, object], name: str, expected: str) -> None:
    base = {**LIVE, "telegram_bot_token": SecretStr(GOOD_TOKEN), "mpesa_account_reference": "DUKA"}
    verdicts = _verdicts(check_settings(make_settings(**{**base, **overrides}), "serve"))
    level, text = verdicts[name]
    assert level == "warn" and expected in text, text
    assert not has_errors(check_settings(make_settings(**{**base, **overrides}), "serve"))


def test_star_alone_or_allowlist_alone_is_no_warning() -> None:
    for overrides in ({"forwarded_allow_ips": ["*"]}, {"mpesa_allowed_ips": ["196.201.214.1"]}):
        verdicts = _verdicts(check_settings(make_settings(**LIVE, **overrides), "serve"))
        assert verdicts["FORWARDED_ALLOW_IPS"][0] == "ok"


def test_one_verdict_per_setting_even_with_several_problems() -> None:
    # PUBLIC_URL used to print "ok" and then "error"; now the worst verdict, once.
    settings = make_settings(**LIVE, public_url="http://lipabot.test")
    verdicts = _verdicts(check_settings(settings, "serve"))
    assert verdicts["PUBLIC_URL"][0] == "error"
    assert "Telegram webhooks need https" in verdicts["PUBLIC_URL"][1]


def test_public_url_from_heroku_dyno_metadata() -> None:
    settings = make_settings(
        **LIVE, public_url=None, heroku_app_default_domain_name="shop-4f2a9c1b.herokuapp.com"
    )
    assert settings.public_url == "https://shop-4f2a9c1b.herokuapp.com"
    level, text = _verdicts(check_settings(settings, "serve"))["PUBLIC_URL"]
    assert level == "ok" and "from HEROKU_APP_DEFAULT_DOMAIN_NAME" in text
    missing = _verdicts(check_settings(make_settings(**LIVE, public_url=None), "serve"))
    assert "heroku apps:info" in missing["PUBLIC_URL"][1]


async def test_an_unmigrated_database_names_migrate(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    finding = await check_database(f"sqlite://{empty}", "serve")
    assert finding.level == "error"
    assert "not migrated" in finding.text and "python -m bot migrate" in finding.text
    absent = await check_database(f"sqlite://{tmp_path / 'absent.sqlite3'}", "serve")
    assert absent.level == "error" and "python -m bot migrate" in absent.text
    assert not (tmp_path / "absent.sqlite3").exists()


@pytest.mark.postgres
async def test_postgres_url_options_such_as_sslmode(postgres_db: Any) -> None:
    # `?sslmode=...` reaches asyncpg as ssl=...: disable connects; require is refused by this
    # server (it has no TLS) with the real cause, not a TypeError about the keyword.
    url = postgres_db.url + ("&" if "?" in postgres_db.url else "?")
    ok = await check_database(url + "sslmode=disable")
    assert ok.level == "ok", ok.text
    refused = await check_database(url + "sslmode=require")
    assert refused.level == "error" and "TypeError" not in refused.text
    assert "SSL" in refused.text, refused.text


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "PYTHONPATH": str(ROOT)}
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_unparsable_variables_are_named_without_traceback(tmp_path: Path) -> None:
    env = {
        "PAY_MAX_AMOUNT": "lots",
        "FORWARDED_ALLOW_IPS": "10.0.0.1, proxy.example",
        "MPESA_ENV": "live",
        "DATABASE_URL": "postgres://u:secretpw@db:notaport/x",
    }
    result = _cli(["check"], env, tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Traceback" not in out and "pay_max_amount" not in out
    assert "error PAY_MAX_AMOUNT: Input should be a valid integer" in out
    assert "error FORWARDED_ALLOW_IPS: 'proxy.example' does not appear" in out
    assert "error MPESA_ENV: Input should be 'emulator', 'sandbox' or 'production'" in out
    assert "error DATABASE_URL: cannot be read: Port is not an integer" in out
    assert "secretpw" not in out
    # The other settings still get their verdict.
    assert "TELEGRAM_BOT_TOKEN: missing" in out


def test_migrate_into_a_missing_folder_fails_at_once(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'no' / 'such' / 'lipabot.sqlite3'}"
    result = _cli(["migrate"], {"DATABASE_URL": url}, tmp_path)
    assert result.returncode == 1
    assert f"the folder {tmp_path / 'no' / 'such'} of the SQLite file does not exist" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_migrate_an_unreachable_database_says_why_in_one_line(tmp_path: Path) -> None:
    result = _cli(["migrate"], {"DATABASE_URL": "postgres://u:pw@127.0.0.1:1/x"}, tmp_path)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert errors == [
        "error DATABASE_URL: postgres://u:***@127.0.0.1:1/x: cannot migrate: "
        "ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 1)"
    ]


def test_serve_on_an_unmigrated_database_exits_naming_migrate(tmp_path: Path) -> None:
    database = tmp_path / "fresh.sqlite3"
    env = {
        "TELEGRAM_BOT_TOKEN": GOOD_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": "tg-secret",
        "PUBLIC_URL": "https://shop.example",
        "ALLOW_EMULATOR": "1",
        "MERCHANT_NAME": "Duka",
        "DATABASE_URL": f"sqlite://{database}",
        "PORT": "0",
    }
    result = _cli(["serve", "--host", "127.0.0.1"], env, tmp_path)
    assert result.returncode == 1
    assert "run `python -m bot migrate` first" in result.stdout
    assert "configuration has errors: serve would not start" in result.stderr
    assert "no such table" not in result.stdout + result.stderr


def test_version_and_help(tmp_path: Path) -> None:
    version = _cli(["--version"], {}, tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("lipabot ")
    for command in ("serve", "run", "migrate", "emulator", "check", "demo", "chat"):
        shown = _cli([command, "--help"], {}, tmp_path)
        assert shown.returncode == 0 and f"usage: lipabot {command}" in shown.stdout
        assert len(shown.stdout.split("\n\n")[1]) > 40  # a description, not just the usage
