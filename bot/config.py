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

    host: str = Field("127.0.0.1", validation_alias=AliasChoices("HOST", "host"))
    port: int = Field(3978, ge=0, le=65535, validation_alias=AliasChoices("PORT", "port"))
    storage_url: str = Field(
        "sqlite:///./data/videoberatung.db",
        validation_alias=AliasChoices("BOT_STORAGE", "storage_url"),
    )
    # Azure Cosmos DB (BOT_STORAGE=cosmos://…); see bot/storage/cosmos.py.
    cosmos_endpoint: str = Field(
        "", validation_alias=AliasChoices("COSMOS_ENDPOINT", "cosmos_endpoint")
    )
    cosmos_key: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("COSMOS_KEY", "cosmos_key")
    )
    cosmos_database: str = Field(
        "videoberatung",
        min_length=1,
        validation_alias=AliasChoices("COSMOS_DATABASE", "cosmos_database"),
    )
    cosmos_create_if_missing: bool = Field(
        True,
        validation_alias=AliasChoices("COSMOS_CREATE_IF_MISSING", "cosmos_create_if_missing"),
    )
    cosmos_allow_insecure: bool = Field(
        False, validation_alias=AliasChoices("COSMOS_ALLOW_INSECURE", "cosmos_allow_insecure")
    )
    upload_dir: str = Field(
        "./data/uploads", validation_alias=AliasChoices("BOT_UPLOAD_DIR", "upload_dir")
    )
    blob_connection_string: SecretStr = Field(
        SecretStr(""),
        validation_alias=AliasChoices("BLOB_CONNECTION_STRING", "blob_connection_string"),
    )
    blob_account_url: str = Field(
        "", validation_alias=AliasChoices("BLOB_ACCOUNT_URL", "blob_account_url")
    )
    blob_container: str = Field(
        "consent-forms", validation_alias=AliasChoices("BLOB_CONTAINER", "blob_container")
    )
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

    counsellor_tenant_ids: str = Field(
        "", validation_alias=AliasChoices("COUNSELLOR_TENANT_IDS", "counsellor_tenant_ids")
    )
    counsellor_object_ids: str = Field(
        "", validation_alias=AliasChoices("COUNSELLOR_OBJECT_IDS", "counsellor_object_ids")
    )
    counsellor_group_ids: str = Field(
        "", validation_alias=AliasChoices("COUNSELLOR_GROUP_IDS", "counsellor_group_ids")
    )
    counsellor_queue_ids: str = Field(
        "", validation_alias=AliasChoices("COUNSELLOR_QUEUE_IDS", "counsellor_queue_ids")
    )
    invitation_pepper: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("INVITATION_PEPPER", "invitation_pepper")
    )
    invitation_valid_days: int = Field(
        14,
        ge=1,
        le=90,
        validation_alias=AliasChoices("INVITATION_VALID_DAYS", "invitation_valid_days"),
    )
    meeting_minutes: int = Field(
        45, ge=10, le=180, validation_alias=AliasChoices("MEETING_MINUTES", "meeting_minutes")
    )
    meeting_links: str = Field("", validation_alias=AliasChoices("MEETING_LINKS", "meeting_links"))
    meeting_default_link: str = Field(
        "", validation_alias=AliasChoices("MEETING_DEFAULT_LINK", "meeting_default_link")
    )
    graph_tenant_id: str = Field(
        "", validation_alias=AliasChoices("GRAPH_TENANT_ID", "graph_tenant_id")
    )
    graph_client_id: str = Field(
        "", validation_alias=AliasChoices("GRAPH_CLIENT_ID", "graph_client_id")
    )
    graph_client_secret: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("GRAPH_CLIENT_SECRET", "graph_client_secret")
    )
    reminder_interval_seconds: int = Field(
        30,
        ge=1,
        le=3600,
        validation_alias=AliasChoices("REMINDER_INTERVAL_SECONDS", "reminder_interval_seconds"),
    )
    jobcenter_name: str = Field(
        "Jobcenter", validation_alias=AliasChoices("JOBCENTER_NAME", "jobcenter_name")
    )
    jobcenter_phone: str = Field(
        "", validation_alias=AliasChoices("JOBCENTER_PHONE", "jobcenter_phone")
    )
    jobcenter_address: str = Field(
        "", validation_alias=AliasChoices("JOBCENTER_ADDRESS", "jobcenter_address")
    )
    privacy_url: str = Field(
        "https://www.arbeitsagentur.de/datenschutz",
        validation_alias=AliasChoices("PRIVACY_URL", "privacy_url"),
    )
    data_protection_contact: str = Field(
        "", validation_alias=AliasChoices("DATA_PROTECTION_CONTACT", "data_protection_contact")
    )

    techcheck_secret: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("TECHCHECK_SECRET", "techcheck_secret")
    )
    public_url: str = Field("", validation_alias=AliasChoices("BOT_PUBLIC_URL", "public_url"))
    techcheck_link_minutes: int = Field(
        30,
        ge=5,
        le=240,
        validation_alias=AliasChoices("TECHCHECK_LINK_MINUTES", "techcheck_link_minutes"),
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
        if self.app_type == "SingleTenant" and not self.app_tenant_id:
            raise ConfigurationError("MicrosoftAppType=SingleTenant needs MicrosoftAppTenantId.")
        if not self.local_mode and self.counsellor_object_ids and not self.counsellor_tenant_ids:
            raise ConfigurationError(
                "COUNSELLOR_TENANT_IDS must name the job centre's tenant when counsellors are "
                "configured; otherwise anyone from any tenant with a listed object id would count."
            )
        if not self.local_mode and len(self.invitation_pepper.get_secret_value()) < 16:
            raise ConfigurationError(
                "INVITATION_PEPPER must be a secret of at least 16 characters "
                '(python -c "import secrets; print(secrets.token_urlsafe(32))").'
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
