"""app.json, Procfile and the deploy docs: what a Heroku (or Render, Railway, Fly.io, Koyeb) user
gets is a configuration `check` accepts with only a bot token, and the docs say the right URL."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import Settings

ROOT = Path(__file__).resolve().parents[2]
APP = json.loads((ROOT / "app.json").read_text(encoding="utf-8"))
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"


def test_only_the_bot_token_is_required() -> None:
    required = [name for name, spec in APP["env"].items() if spec.get("required")]
    assert required == ["TELEGRAM_BOT_TOKEN"]


def test_every_variable_in_app_json_is_a_setting() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    assert set(APP["env"]) <= fields


def test_the_emulator_is_labelled_as_moving_no_money() -> None:
    spec = APP["env"]["ALLOW_EMULATOR"]
    assert spec["value"] == "1" and "NO MONEY MOVES" in spec["description"]
    assert "go live" in APP["description"].lower()
    for name in ("MPESA_CONSUMER_KEY", "MPESA_CONSUMER_SECRET", "MPESA_PASSKEY"):
        assert "TO GO LIVE" in APP["env"][name]["description"]


def test_procfile_runs_migrate_on_release_and_serve_on_web() -> None:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    assert lines == ["release: python -m bot migrate", "web: python -m bot serve"]


def _app_json_env(**extra: str) -> dict[str, str]:
    """The config vars a Heroku Button deploy sets: values, generated secrets, the bot token."""
    env = {"TELEGRAM_BOT_TOKEN": BOT_TOKEN}
    for name, spec in APP["env"].items():
        if "value" in spec:
            env[name] = spec["value"]
        elif spec.get("generator") == "secret":
            # Like Heroku's generator: hex, so no word Daraja refuses can appear in it.
            env[name] = hashlib.sha256(name.encode()).hexdigest()[:40]
    env.update(extra)
    return env


def _check(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
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


@pytest.fixture
def migrated(tmp_path: Path, _sqlite_template: Path) -> str:
    path = tmp_path / "heroku.sqlite3"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite://{path}"


def test_a_button_deploy_with_only_a_bot_token_passes_check(tmp_path: Path, migrated: str) -> None:
    env = _app_json_env(
        DATABASE_URL=migrated, HEROKU_APP_DEFAULT_DOMAIN_NAME="my-shop-4f2a9c1b.herokuapp.com"
    )
    result = _check(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PUBLIC_URL: https://my-shop-4f2a9c1b.herokuapp.com" in result.stdout
    assert "no money moves" in result.stdout


def test_without_dyno_metadata_check_says_how_to_find_the_url(
    tmp_path: Path, migrated: str
) -> None:
    result = _check(_app_json_env(DATABASE_URL=migrated), tmp_path)
    assert result.returncode == 1
    assert "heroku apps:info" in result.stdout
    assert "runtime-dyno-metadata" in result.stdout


def test_adding_daraja_credentials_goes_to_the_sandbox(tmp_path: Path, migrated: str) -> None:
    env = _app_json_env(
        DATABASE_URL=migrated,
        HEROKU_APP_DEFAULT_DOMAIN_NAME="my-shop-4f2a9c1b.herokuapp.com",
        MPESA_CONSUMER_KEY="key",
        MPESA_CONSUMER_SECRET="secret",
    )
    result = _check(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MPESA_ENV: sandbox" in result.stdout
    assert "no money moves" not in result.stdout


@pytest.mark.parametrize("path", ["README.md", "app.json", "docs/DEPLOY.md"])
def test_docs_give_heroku_urls_as_heroku_makes_them(path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    assert "<app>-<random>.herokuapp.com" in text
    assert "<app-name>.herokuapp.com" not in text and "<app>.herokuapp.com" not in text


def test_docs_cover_the_other_platforms() -> None:
    text = (ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    for platform in ("Render", "Railway", "Fly.io", "Koyeb"):
        assert f"## {platform}" in text
    assert text.count("python -m bot migrate") >= 4 and text.count("python -m bot serve") >= 4


def test_readme_has_the_deploy_button_and_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "https://www.herokucdn.com/deploy/button.svg" in text
    head = text[:1500]
    assert "bash scripts/demo.sh" in head and "bash scripts/test.sh" in head
    assert (ROOT / "scripts" / "demo.sh").exists() and (ROOT / "scripts" / "test.sh").exists()


def test_there_is_a_license() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "2026 lipabot contributors" in text


def test_every_setting_is_in_the_configuration_table_and_env_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for field in Settings.model_fields:
        name = field.upper()
        assert f"| `{name}` |" in readme, name
        assert name in example, name
