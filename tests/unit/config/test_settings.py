from pydantic import SecretStr

from config import DarajaEnv, Settings
from tests.support.settings import make_settings


def test_defaults_choose_the_emulator_and_sqlite() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.daraja_env is DarajaEnv.EMULATOR
    assert s.database_url == "sqlite://lipabot.sqlite3"
    assert s.mpesa_shortcode == "174379"


def test_credentials_switch_to_sandbox_unless_env_says_otherwise() -> None:
    s = make_settings(mpesa_consumer_key=SecretStr("k"), mpesa_consumer_secret=SecretStr("s"))
    assert s.daraja_env is DarajaEnv.SANDBOX
    s = make_settings(
        mpesa_consumer_key=SecretStr("k"),
        mpesa_consumer_secret=SecretStr("s"),
        mpesa_env="production",
    )
    assert s.daraja_env is DarajaEnv.PRODUCTION


def test_secrets_are_hidden_in_repr() -> None:
    s = make_settings(mpesa_consumer_secret=SecretStr("very-secret-value"))
    text = repr(s)
    assert "very-secret-value" not in text
    assert "TEST-bot-token" not in text
    assert "bfb279f9aa9bdbcf" not in text


def test_csv_lists_and_heroku_postgres_url(monkeypatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "11, 22")
    monkeypatch.setenv("MPESA_ALLOWED_IPS", "196.201.214.200,196.201.212.0/24")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example/app")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.admin_ids == [11, 22]
    assert s.mpesa_allowed_ips == ["196.201.214.200", "196.201.212.0/24"]
    assert s.database_url == "postgres://u:p@db.example/app"
