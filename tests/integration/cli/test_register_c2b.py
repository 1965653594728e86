"""`python -m bot register-c2b` against the emulator: both versions, both error cases, in words."""

from __future__ import annotations

import io

import httpx
import pytest
from pydantic import SecretStr

from cli.main import build_parser
from cli.register_c2b import register
from daraja.emulator import Emulator
from tests.support.daraja import EMULATOR_BASE_URL, make_emulator_app
from tests.support.settings import TEST_CALLBACK_TOKEN, make_settings


@pytest.fixture
def emulator_app():  # type: ignore[no-untyped-def]
    return make_emulator_app()


@pytest.fixture
def emulator(emulator_app) -> Emulator:  # type: ignore[no-untyped-def]
    return emulator_app.state.emulator  # type: ignore[no-any-return]


async def _run(emulator_app, **overrides: object) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    settings = make_settings(mpesa_env="emulator", mpesa_base_url=EMULATOR_BASE_URL, **overrides)
    out = io.StringIO()
    code = await register(settings, transport=httpx.ASGITransport(app=emulator_app), out=out)
    return code, out.getvalue()


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_registers_each_version_and_says_so(
    emulator_app, emulator: Emulator, version: str
) -> None:  # type: ignore[no-untyped-def]
    code, out = await _run(emulator_app, mpesa_c2b_version=version)
    assert code == 0, out
    registration = emulator.c2b.registration
    assert registration is not None and registration.version == version
    assert registration.confirmation_url == (
        f"https://lipabot.test/payments/c2b/confirmation/{TEST_CALLBACK_TOKEN}"
    )
    assert registration.validation_url.endswith(f"/payments/c2b/validation/{TEST_CALLBACK_TOKEN}")
    assert registration.response_type == "Completed"
    assert f"Registered ({version}): Daraja answered" in out
    assert TEST_CALLBACK_TOKEN not in out  # the token is a secret: shown as <token>
    assert "/payments/c2b/confirmation/<token>" in out
    assert ("Masked phone numbers" if version == "v2" else "Hashed phone numbers") in out


@pytest.mark.parametrize(("asked", "product"), [("v2", "v1"), ("v1", "v2")])
async def test_no_apiproduct_match_falls_back_and_explains(
    emulator_app, emulator: Emulator, asked: str, product: str
) -> None:  # type: ignore[no-untyped-def]
    emulator.c2b.configure(product=product)  # type: ignore[arg-type]
    code, out = await _run(emulator_app, mpesa_c2b_version=asked)
    assert code == 0, out
    assert emulator.c2b.registration is not None
    assert emulator.c2b.registration.version == product
    assert f"{asked} is not a product of this app" in out
    assert f"MPESA_C2B_VERSION={product}" in out


@pytest.mark.parametrize("env", ["emulator", "production"])
async def test_already_registered_is_explained(emulator_app, emulator: Emulator, env: str) -> None:  # type: ignore[no-untyped-def]
    emulator.c2b.configure(register_once=True)
    assert (await _run(emulator_app))[0] == 0
    overrides: dict[str, object] = {}
    if env == "production":
        overrides = {
            "mpesa_consumer_key": SecretStr("emulator"),
            "mpesa_consumer_secret": SecretStr("emulator"),
        }
    settings = make_settings(mpesa_env=env, mpesa_base_url=EMULATOR_BASE_URL, **overrides)
    out = io.StringIO()
    code = await register(settings, transport=httpx.ASGITransport(app=emulator_app), out=out)
    text = out.getvalue()
    assert code == 1
    assert "already registered" in text and "Urls are already registered." in text
    if env == "production":
        assert "URL Management" in text and "apisupport@safaricom.co.ke" in text


async def test_refused_url_words_are_reported(emulator_app) -> None:  # type: ignore[no-untyped-def]
    code, out = await _run(emulator_app, public_url="https://shop.example/mpesa")
    assert code == 1
    assert "Daraja refused the registration" in out and "Invalid ConfirmationURL" in out


async def test_needs_a_token_and_an_external_daraja() -> None:
    out = io.StringIO()
    settings = make_settings(mpesa_env="emulator", mpesa_callback_token=None)
    assert await register(settings, out=out) == 1
    assert "MPESA_CALLBACK_TOKEN is not set" in out.getvalue()
    out = io.StringIO()
    assert await register(make_settings(mpesa_env="emulator"), out=out) == 1
    assert "needs no registration" in out.getvalue()


def test_the_command_exists() -> None:
    args = build_parser().parse_args(["register-c2b"])
    assert args.func.__name__ == "cmd_register_c2b"
