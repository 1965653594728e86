"""`check`: findings for good and bad configurations, and the command's exit code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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
    assert (await check_database(f"sqlite://{path}")).level == "ok"
    missing = await check_database(f"sqlite://{tmp_path / 'none.sqlite3'}")
    assert missing.level == "info" and not (tmp_path / "none.sqlite3").exists()
    down = await check_database("postgres://postgres:pw@127.0.0.1:1/nothing")
    assert down.level == "error" and down.text.startswith("unreachable")
    assert "pw" not in down.text


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
    assert "ok    database: reachable" in ok.stdout
    assert TEST_BOT_TOKEN not in ok.stdout + ok.stderr

    bad = _run_check({**good, "MPESA_SHORTCODE": "174379", "PUBLIC_URL": ""}, tmp_path)
    assert bad.returncode == 1
    assert "error MPESA_SHORTCODE: is the sandbox shortcode 174379 in production" in bad.stdout
    assert "error PUBLIC_URL: missing" in bad.stdout


def test_serve_on_the_emulator_warns_that_no_money_moves() -> None:
    # Without Daraja credentials `serve` would take simulated payments: say so loudly.
    findings = check_settings(make_settings(), "serve")
    assert any(f.level == "warn" and "no money moves" in f.text for f in findings)
    assert not any("no money moves" in f.text for f in check_settings(make_settings(), "run"))
    live = check_settings(make_settings(**LIVE), "serve")
    assert not any("no money moves" in f.text for f in live)
