"""Settings from the environment and an optional ``.env`` file.

Bot Framework credentials keep their well-known names (``MicrosoftAppId`` …) so that the
usual Azure Bot deployment templates work unchanged.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property
from typing import Literal
from urllib.parse import urlparse

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class ConfigurationError(ValueError):
    """The configuration cannot be used; the message says what to change."""


class Settings(BaseSettings):
    """Every setting of the service. ``.env.example`` documents each one."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    app_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppId", "app_id"))
    app_password: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("MicrosoftAppPassword", "app_password")
    )
    app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = Field(
        "MultiTenant", validation_alias=AliasChoices("MicrosoftAppType", "app_type")
    )
    app_tenant_id: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppTenantId", "app_tenant_id")
    )

    host: str = "127.0.0.1"
    port: int = Field(3978, ge=0, le=65535)
    # Telemetry (bot/hosting/telemetry.py) and the log's format
    applicationinsights_connection_string: SecretStr = SecretStr("")
    otel_exporter_otlp_endpoint: str = ""
    log_format: Literal["text", "json"] = "text"
    # on SIGTERM: how long requests in flight and background jobs may take to finish
    shutdown_grace_seconds: float = Field(15.0, gt=0, le=120)
    # … of which this long new requests are still served (the load balancer lets go of the
    # replica at about the same time as it sends SIGTERM)
    shutdown_deregister_seconds: float = Field(3.0, ge=0, le=30)
    storage_url: str = Field(
        "sqlite:///./data/videoberatung.db",
        validation_alias=AliasChoices("BOT_STORAGE", "storage_url"),
    )
    # Azure Cosmos DB (BOT_STORAGE=cosmos://…); see bot/storage/cosmos.py.
    cosmos_endpoint: str = ""
    cosmos_key: SecretStr = SecretStr("")
    cosmos_database: str = Field("videoberatung", min_length=1)
    cosmos_create_if_missing: bool = True
    cosmos_allow_insecure: bool = False
    upload_dir: str = Field(
        "./data/uploads", validation_alias=AliasChoices("BOT_UPLOAD_DIR", "upload_dir")
    )
    blob_connection_string: SecretStr = SecretStr("")
    blob_account_url: str = ""
    blob_container: str = "consent-forms"
    max_request_bytes: int = Field(
        256 * 1024,
        gt=0,
        validation_alias=AliasChoices("BOT_MAX_REQUEST_BYTES", "max_request_bytes"),
    )
    max_upload_bytes: int = Field(
        10 * 1024 * 1024,
        gt=0,
        validation_alias=AliasChoices("BOT_MAX_UPLOAD_BYTES", "max_upload_bytes"),
    )
    download_hosts: str = Field(
        ".sharepoint.com",
        validation_alias=AliasChoices("ATTACHMENT_DOWNLOAD_HOSTS", "download_hosts"),
    )
    token_hosts: str = Field(
        "", validation_alias=AliasChoices("ATTACHMENT_TOKEN_HOSTS", "token_hosts")
    )
    default_locale: Literal["de", "en"] = Field(
        "de", validation_alias=AliasChoices("BOT_DEFAULT_LOCALE", "default_locale")
    )
    state_ttl_days: int = Field(
        30, gt=0, validation_alias=AliasChoices("BOT_STATE_TTL_DAYS", "state_ttl_days")
    )
    # How long records are kept (docs/privacy/deletion-concept.md; bot/domain/retention.py).
    retention_profile_days: int = Field(180, ge=1, le=3650)
    retention_handoff_days: int = Field(180, ge=1, le=3650)
    retention_form_days: int = Field(30, ge=1, le=3650)
    retention_consent_days: int = Field(1095, ge=1, le=3650)
    retention_purge_hours: float = Field(24.0, gt=0, le=168)

    counsellor_tenant_ids: str = ""
    counsellor_object_ids: str = ""
    counsellor_group_ids: str = ""
    counsellor_queue_ids: str = ""
    stats_object_ids: str = ""
    stats_group_ids: str = ""
    invitation_pepper: SecretStr = SecretStr("")
    invitation_valid_days: int = Field(
        14,
        ge=1,
        le=90,
    )
    meeting_minutes: int = Field(45, ge=10, le=180)
    meeting_links: str = ""
    meeting_default_link: str = ""
    graph_tenant_id: str = ""
    graph_client_id: str = ""
    graph_client_secret: SecretStr = SecretStr("")
    # Graph tokens from the service's managed identity (or workload identity), no secret
    graph_use_managed_identity: bool = False
    reminder_interval_seconds: int = Field(
        30,
        ge=1,
        le=3600,
    )
    jobcenter_name: str = "Jobcenter"
    jobcenter_phone: str = ""
    jobcenter_address: str = ""
    privacy_url: str = "https://www.arbeitsagentur.de/datenschutz"
    data_protection_contact: str = ""

    techcheck_secret: SecretStr = SecretStr("")
    public_url: str = Field("", validation_alias=AliasChoices("BOT_PUBLIC_URL", "public_url"))
    techcheck_link_minutes: int = Field(
        30,
        ge=5,
        le=240,
    )

    @field_validator(
        "app_id", "app_tenant_id", "host", "jobcenter_phone", "public_url", mode="before"
    )
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @staticmethod
    def split(value: str) -> list[str]:
        """A comma-separated setting as a list."""
        return [item.strip() for item in value.split(",") if item.strip()]

    def meeting_link_map(self) -> dict[str, str]:
        """``MEETING_LINKS=objectid=https://…,objectid=https://…``"""
        pairs = (item.partition("=") for item in self.split(self.meeting_links))
        return {key.strip().lower(): link.strip() for key, _, link in pairs if link.strip()}

    @property
    def graph_configured(self) -> bool:
        """Graph is used with a managed identity, or with an app registration's secret."""
        if self.graph_use_managed_identity:
            return True
        return bool(
            self.graph_tenant_id
            and self.graph_client_id
            and self.graph_client_secret.get_secret_value()
        )

    @cached_property
    def local_mode(self) -> bool:
        """No Bot Framework credentials: only local clients (Playground, tests) can talk to us."""
        return not self.app_id and not self.app_password.get_secret_value()

    def check(self) -> None:
        """Refuse combinations that would expose an unauthenticated bot or half-configure auth."""
        if bool(self.app_id) != bool(self.app_password.get_secret_value()) and (
            self.app_type != "UserAssignedMSI"
        ):
            raise ConfigurationError(
                "MicrosoftAppId and MicrosoftAppPassword must be set together "
                "(or both left empty for local mode)."
            )
        if self.graph_use_managed_identity and self.graph_client_secret.get_secret_value():
            raise ConfigurationError(
                "GRAPH_USE_MANAGED_IDENTITY=true and GRAPH_CLIENT_SECRET exclude each other: "
                "remove the secret (the managed identity needs none)."
            )
        if self.app_type == "UserAssignedMSI" and not (self.app_id and self.app_tenant_id):
            raise ConfigurationError(
                "MicrosoftAppType=UserAssignedMSI needs MicrosoftAppId (the managed identity's "
                "client id) and MicrosoftAppTenantId."
            )
        if self.app_type == "UserAssignedMSI" and self.app_password.get_secret_value():
            raise ConfigurationError(
                "MicrosoftAppType=UserAssignedMSI uses no MicrosoftAppPassword; remove it."
            )
        if self.app_type == "SingleTenant" and not self.app_tenant_id:
            raise ConfigurationError("MicrosoftAppType=SingleTenant needs MicrosoftAppTenantId.")
        staff_listed = self.counsellor_object_ids or self.stats_object_ids
        if not self.local_mode and staff_listed and not self.counsellor_tenant_ids:
            raise ConfigurationError(
                "COUNSELLOR_TENANT_IDS must name the job centre's tenant when counsellors or team "
                "leads are configured; otherwise anyone from any tenant with a listed object id "
                "would count."
            )
        if not self.local_mode and len(self.invitation_pepper.get_secret_value()) < 16:
            raise ConfigurationError(
                "INVITATION_PEPPER must be a secret of at least 16 characters "
                '(python -c "import secrets; print(secrets.token_urlsafe(32))").'
            )
        if self.retention_consent_days < max(
            self.retention_profile_days, self.retention_handoff_days
        ):
            raise ConfigurationError(
                "RETENTION_CONSENT_DAYS must be at least RETENTION_PROFILE_DAYS and "
                "RETENTION_HANDOFF_DAYS: the proof of consent has to outlive what it allowed."
            )
        if self.shutdown_deregister_seconds >= self.shutdown_grace_seconds:
            raise ConfigurationError(
                "SHUTDOWN_DEREGISTER_SECONDS must be shorter than SHUTDOWN_GRACE_SECONDS: the "
                "requests still served need time to finish."
            )
        secret = self.techcheck_secret.get_secret_value()
        if secret and len(secret) < 16:
            raise ConfigurationError(
                "TECHCHECK_SECRET must be at least 16 characters long (or left empty to derive "
                "it from INVITATION_PEPPER)."
            )
        if self.public_url:
            _check_public_url(self.public_url)
        if self.local_mode and not is_loopback(self.host):
            raise ConfigurationError(
                f"Local mode (no MicrosoftAppId/MicrosoftAppPassword) only listens on loopback; "
                f"HOST={self.host!r} is not a loopback address. Set the credentials or use "
                "HOST=127.0.0.1."
            )


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_public_url(url: str) -> None:
    """Links to the tech-check page need https, except on loopback (a secure context, too)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigurationError(f"BOT_PUBLIC_URL must be an http(s) URL, not {url!r}.")
    if parsed.scheme == "http" and not is_loopback(parsed.hostname):
        raise ConfigurationError(
            "BOT_PUBLIC_URL must use https (browsers allow camera and microphone only there); "
            "plain http is accepted for loopback addresses only."
        )
