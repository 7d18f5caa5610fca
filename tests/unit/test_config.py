"""Settings: documented, safe by default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ConfigurationError, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(re.findall(r"^([A-Za-z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    names = {field.validation_alias.choices[0] for field in Settings.model_fields.values()}
    assert names == documented


def test_local_mode_refuses_to_listen_beyond_loopback() -> None:
    Settings(_env_file=None, host="127.0.0.1").check()
    Settings(_env_file=None, host="::1").check()
    Settings(_env_file=None, host="localhost").check()
    with pytest.raises(ConfigurationError, match="loopback"):
        Settings(_env_file=None, host="0.0.0.0").check()


def test_credentials_come_in_pairs_and_allow_any_interface() -> None:
    with pytest.raises(ConfigurationError, match="together"):
        Settings(_env_file=None, app_id="7e0c7a4e-0000-4000-8000-000000000001").check()
    configured = Settings(
        _env_file=None,
        app_id="7e0c7a4e-0000-4000-8000-000000000001",
        app_password="secret",
        app_tenant_id="tenant",
        app_type="SingleTenant",
        host="0.0.0.0",
    )
    configured.check()
    assert not configured.local_mode
    assert "secret" not in repr(configured)


def test_bot_framework_names_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "7e0c7a4e-0000-4000-8000-000000000001")
    monkeypatch.setenv("MicrosoftAppPassword", "secret")
    monkeypatch.setenv("PORT", "4000")
    settings = Settings(_env_file=None)
    assert (settings.app_id, settings.port, settings.local_mode) == (
        "7e0c7a4e-0000-4000-8000-000000000001",
        4000,
        False,
    )
