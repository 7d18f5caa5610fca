"""docs/deploy.md stays true to the repository: the files it points to exist, every setting it
names is one the service, the template or a library reads, and the permissions and policies the
issue asks for are there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "deploy.md").read_text()
#: read by libraries or written by the toolkit, not settings of the service
OTHER_NAMES = {
    "AZURE_IDENTITY_CLIENT_ID",
    "AZURE_IDENTITY_PRINCIPAL_ID",
    "BOT_ID",
    "BOT_DOMAIN",
    "OTEL_TRACES_SAMPLER",
    "SECRET_INVITATION_PEPPER",
    "SECRET_TECHCHECK_SECRET",
    "RESOURCE_SUFFIX",
    "CONTAINER_IMAGE",
    "CONTAINER_REGISTRY_SERVER",
    "ACR_NAME",
    "IMAGE_TAG",
    "HEALTHCHECK",  # the Dockerfile instruction
    "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL",  # read by the Azure Monitor distro
}
#: files the guide tells you to create
CREATED_BY_YOU = {"env/.env.dev.user"}


def known_names() -> set[str]:
    names = set(
        re.findall(r"^#?\s*([A-Za-z][A-Za-z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )
    names |= set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / "env" / ".env.dev").read_text(), re.M))
    names |= set(re.findall(r"^output (\w+) ", (ROOT / "infra" / "azure.bicep").read_text(), re.M))
    return names | OTHER_NAMES


def test_every_file_the_guide_points_to_exists() -> None:
    paths = set(
        re.findall(
            r"`((?:infra|env|bench|tests|docs|bot|manifest)/[^`\s]+|Dockerfile|m365agents\.yml)`",
            GUIDE,
        )
    )
    assert len(paths) > 5
    missing = [
        path for path in sorted(paths - CREATED_BY_YOU) if not (ROOT / path.rstrip("/")).exists()
    ]
    assert missing == []


def test_every_setting_the_guide_names_is_read_somewhere() -> None:
    named = set(re.findall(r"`([A-Z][A-Z0-9_]{3,})(?:=[^`]*)?`", GUIDE))
    named |= {name for name in re.findall(r"`(Microsoft[A-Za-z]+)", GUIDE)}
    assert len(named) > 20
    assert sorted(named - known_names()) == []


def test_the_permissions_and_policies_are_spelled_out() -> None:
    for needed in (
        "Calendars.ReadWrite",
        "OnlineMeetings.ReadWrite.All",
        "GroupMember.Read.All",
        "New-CsApplicationAccessPolicy",
        "Grant-CsApplicationAccessPolicy",
        "New-MgServicePrincipalAppRoleAssignment",
        "Guest access",
        "continuous backup",
        "/readyz",
    ):
        assert needed in GUIDE, needed
