"""Settings: documented, safe by default."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigurationError, Settings
from bot.domain.retention import RECORD_KINDS, RetentionPolicy

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(re.findall(r"^([A-Za-z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    names = {
        field.validation_alias.choices[0] if field.validation_alias else name.upper()
        for name, field in Settings.model_fields.items()
    }
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
        app_password="pw-Geheim-123",
        app_tenant_id="tenant",
        app_type="SingleTenant",
        host="0.0.0.0",
        invitation_pepper="a-long-enough-secret-pepper",
    )
    configured.check()
    assert not configured.local_mode
    assert "pw-Geheim-123" not in repr(configured)


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


def test_production_needs_a_pepper_and_a_tenant_for_counsellors() -> None:
    production = {
        "app_id": "7e0c7a4e-0000-4000-8000-000000000001",
        "app_password": "secret",
        "app_tenant_id": "tenant",
        "app_type": "SingleTenant",
    }
    with pytest.raises(ConfigurationError, match="INVITATION_PEPPER"):
        Settings(_env_file=None, **production).check()
    with pytest.raises(ConfigurationError, match="COUNSELLOR_TENANT_IDS"):
        Settings(
            _env_file=None,
            **production,
            invitation_pepper="a-long-enough-secret-pepper",
            counsellor_object_ids="c1",
        ).check()


def test_meeting_links_are_read_per_counsellor() -> None:
    settings = Settings(
        _env_file=None, meeting_links="ABC=https://teams.example/a, def=https://teams.example/d"
    )
    assert settings.meeting_link_map() == {
        "abc": "https://teams.example/a",
        "def": "https://teams.example/d",
    }


def test_every_retention_rule_names_a_real_setting_and_the_periods_reach_the_stores() -> None:
    names = {
        field.validation_alias.choices[0] if field.validation_alias else name.upper()
        for name, field in Settings.model_fields.items()
    }
    assert {rule.setting for rule in RECORD_KINDS if rule.setting} <= names
    policy = RetentionPolicy.from_settings(
        Settings(_env_file=None, retention_profile_days=90, retention_consent_days=400)
    )
    assert (policy.profile, policy.handoff, policy.consent) == (
        timedelta(days=90),
        timedelta(days=180),
        timedelta(days=400),
    )


def test_the_consent_proof_must_outlive_what_it_allowed() -> None:
    Settings(_env_file=None, retention_consent_days=180).check()
    with pytest.raises(ConfigurationError, match="RETENTION_CONSENT_DAYS"):
        Settings(_env_file=None, retention_consent_days=179).check()
    with pytest.raises(ConfigurationError, match="RETENTION_CONSENT_DAYS"):
        Settings(_env_file=None, retention_consent_days=365, retention_handoff_days=400).check()
