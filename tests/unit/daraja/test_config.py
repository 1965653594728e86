"""DarajaConfig from Settings: base URL per environment, emulator defaults, hidden secrets."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from daraja.config import PRODUCTION_BASE_URL, SANDBOX_BASE_URL, DarajaConfig
from tests.support.settings import make_settings

CREDS = {
    "mpesa_consumer_key": SecretStr("real-key-771"),
    "mpesa_consumer_secret": SecretStr("real-secret-772"),
}


def test_emulator_without_credentials_uses_emulator_credentials() -> None:
    config = DarajaConfig.from_settings(make_settings(), emulator_base_url="http://127.0.0.1:8001/")

    assert config.base_url == "http://127.0.0.1:8001"
    assert (config.consumer_key, config.consumer_secret) == ("emulator", "emulator")
    assert config.shortcode == "174379"
    assert config.transaction_type == "CustomerPayBillOnline"
    assert config.receiver == "174379"


def test_emulator_without_its_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="emulator_base_url"):
        DarajaConfig.from_settings(make_settings())


def test_credentials_select_the_sandbox() -> None:
    config = DarajaConfig.from_settings(make_settings(**CREDS))

    assert config.base_url == SANDBOX_BASE_URL
    assert config.consumer_key == "real-key-771"
    assert config.consumer_secret == "real-secret-772"
    assert "real-key-771" not in repr(config) and "real-secret-772" not in repr(config)


def test_production_buy_goods() -> None:
    settings = make_settings(
        **CREDS,
        mpesa_env="production",
        mpesa_shortcode="5150101",
        mpesa_passkey=SecretStr("prod-passkey"),
        mpesa_transaction_type="CustomerBuyGoodsOnline",
        mpesa_party_b="8812345",
        mpesa_timeout_seconds=12.5,
    )

    config = DarajaConfig.from_settings(settings)

    assert config.base_url == PRODUCTION_BASE_URL
    assert config.passkey == "prod-passkey"
    assert config.transaction_type == "CustomerBuyGoodsOnline"
    assert config.receiver == "8812345"
    assert config.timeout == 12.5
    assert "prod-passkey" not in repr(config)


def test_explicit_base_url_wins() -> None:
    settings = make_settings(mpesa_base_url="http://daraja.internal:9000")
    assert DarajaConfig.from_settings(settings).base_url == "http://daraja.internal:9000"


def test_production_without_credentials_is_refused() -> None:
    with pytest.raises(ValueError, match="MPESA_CONSUMER_KEY"):
        DarajaConfig.from_settings(make_settings(mpesa_env="production"))


@pytest.mark.parametrize(
    "override",
    [
        {"transaction_type": "CustomerPayBill"},
        {"base_url": "sandbox.safaricom.co.ke"},
        {"shortcode": " "},
        {"timeout": 0},
    ],
)
def test_invalid_config_is_refused(override: dict[str, object]) -> None:
    values: dict[str, object] = {
        "base_url": "https://x.test",
        "consumer_key": "k",
        "consumer_secret": "s",
        "shortcode": "174379",
        "passkey": "p",
    }
    with pytest.raises(ValueError):
        DarajaConfig(**{**values, **override})  # type: ignore[arg-type]
