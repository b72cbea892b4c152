"""Process settings come from REVBRIDGE_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from revbridge.config import Settings
from revbridge.config.settings import Durability


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("REVBRIDGE_"):
            monkeypatch.delenv(name)


def test_defaults_run_on_sqlite_on_localhost() -> None:
    settings = Settings()

    assert settings.database_url.get_secret_value() == "sqlite:///./revbridge.db"
    assert settings.policy_file == Path("revbridge.yaml")
    assert settings.durability is Durability.STRICT
    assert settings.nats_url is None
    assert (settings.api_host, settings.api_port, settings.log_level) == ("127.0.0.1", 8700, "INFO")


def test_environment_overrides_and_secrets_stay_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://revbridge:pa55@db:5432/revbridge"
    monkeypatch.setenv("REVBRIDGE_DATABASE_URL", url)
    monkeypatch.setenv("REVBRIDGE_DURABILITY", "fast")
    monkeypatch.setenv("REVBRIDGE_NATS_URL", "nats://user:pw@nats:4222")
    monkeypatch.setenv("REVBRIDGE_API_PORT", "9000")
    monkeypatch.setenv("REVBRIDGE_LOG_LEVEL", "debug")

    settings = Settings()

    assert settings.database_url.get_secret_value() == url
    assert settings.durability is Durability.FAST
    assert settings.api_port == 9000
    assert settings.log_level == "DEBUG"
    assert "pa55" not in repr(settings)
    assert "pw@" not in repr(settings)


def test_invalid_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVBRIDGE_DURABILITY", "reckless")

    with pytest.raises(ValidationError):
        Settings()
