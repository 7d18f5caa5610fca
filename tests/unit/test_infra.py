"""The deployment files (infra/*.bicep, m365agents.yml, env/.env.dev) agree with the service.

Offline and without a Bicep compiler: the Bicep is read as text. These tests catch the mistakes
that only show at deploy time — a setting the service does not read, a probe on the wrong path,
a Cosmos DB container the store does not expect, a placeholder nobody fills in.
"""

from __future__ import annotations

import re
import subprocess
import sys
import typing
import zipfile
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the dev dependencies
from pydantic import AliasChoices

from bot.config import Settings
from bot.storage import cosmos as cosmos_store

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = INFRA / "azure.bicep"
APP = INFRA / "modules" / "containerapp.bicep"
COSMOS = INFRA / "modules" / "cosmos.bicep"
STORAGE = INFRA / "modules" / "storage.bicep"
PARAMETERS = INFRA / "azure.parameters.json"
PROJECT = ROOT / "m365agents.yml"
ENV_DEV = ROOT / "env" / ".env.dev"

#: Read by a library, not by bot.config.Settings.
LIBRARY_SETTINGS = {
    # azure-identity's DefaultAzureCredential: which user-assigned identity to use.
    "AZURE_CLIENT_ID",
    # the Azure Monitor distro: no usage statistics to Microsoft's endpoint
    "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL",
}
#: Environment variables every m365agents.yml may use without defining them.
ATK_BUILTINS = {"TEAMSFX_ENV"}


def _var_block(text: str, name: str) -> str:
    """The bracketed value of ``var <name> = [ … ]`` in a Bicep file."""
    match = re.search(rf"^var {name} = \[", text, re.MULTILINE)
    assert match, f"var {name} not found"
    depth, start = 0, match.end() - 1
    for index in range(start, len(text)):
        depth += {"[": 1, "]": -1}.get(text[index], 0)
        if depth == 0:
            return text[start : index + 1]
    raise AssertionError(f"var {name} is not closed")


def _names(block: str) -> list[str]:
    return re.findall(r"\bname: '([A-Za-z_][A-Za-z0-9_]*)'", block)


def _container_env() -> dict[str, str]:
    """Every environment variable the Bicep can set on the container → the block it is in."""
    main, app = MAIN.read_text(), APP.read_text()
    blocks = {
        "serviceSettings": main,
        "graphSettingsList": main,
        "fixedEnv": app,
        "baseSecretEnv": app,
        "botPasswordEnv": app,
    }
    found: dict[str, str] = {}
    for block, text in blocks.items():
        for name in _names(_var_block(text, block)):
            assert name not in found, f"{name} is set twice ({found[name]} and {block})"
            found[name] = block
    return found


def _settings_names() -> set[str]:
    """Environment names bot.config.Settings accepts (pydantic-settings, case-insensitive)."""
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
        else:
            names.add(field_name)
    return {name.upper() for name in names}


def _env_example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", text, re.MULTILINE))


def _env_file_keys(path: Path) -> set[str]:
    return set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", path.read_text(), re.MULTILINE))


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}", text))


def _outputs(text: str) -> set[str]:
    return set(re.findall(r"^output (\w+) ", text, re.MULTILINE))


def _params(text: str) -> dict[str, bool]:
    """Bicep parameters → whether each has a default."""
    return {
        name: bool(default)
        for name, default in re.findall(r"^param (\w+) \w+( =)?", text, re.MULTILINE)
    }


# --- the container's environment ------------------------------------------------------------


def test_every_container_setting_is_one_the_service_reads() -> None:
    env = _container_env()
    known, documented = _settings_names(), _env_example_names()
    unknown = {
        name
        for name in env
        if name not in LIBRARY_SETTINGS and (name.upper() not in known or name not in documented)
    }
    assert not unknown, f"set by the Bicep but not read (or not in .env.example): {unknown}"


def test_azure_client_id_is_what_azure_identity_reads() -> None:
    from azure.identity._constants import EnvironmentVariables

    assert EnvironmentVariables.AZURE_CLIENT_ID in LIBRARY_SETTINGS


def test_the_production_essentials_are_set() -> None:
    env = _container_env()
    required = {
        "MicrosoftAppId",
        "MicrosoftAppType",
        "MicrosoftAppTenantId",
        "HOST",
        "PORT",
        "BOT_STORAGE",
        "COSMOS_ENDPOINT",
        "COSMOS_CREATE_IF_MISSING",
        "BLOB_ACCOUNT_URL",
        "BLOB_CONTAINER",
        "BOT_PUBLIC_URL",
        "COUNSELLOR_TENANT_IDS",
        "INVITATION_PEPPER",
        "TECHCHECK_SECRET",
        "AZURE_CLIENT_ID",
    }
    assert required <= set(env), required - set(env)
    main = MAIN.read_text()
    assert "{ name: 'BOT_STORAGE', value: 'cosmos://' }" in main
    assert "{ name: 'COSMOS_CREATE_IF_MISSING', value: 'false' }" in main


def test_secrets_come_from_key_vault_never_as_values() -> None:
    app = APP.read_text()
    secret_env = _var_block(app, "baseSecretEnv") + _var_block(app, "botPasswordEnv")
    for name in ("INVITATION_PEPPER", "TECHCHECK_SECRET", "MicrosoftAppPassword"):
        entry = re.search(rf"name: '{name}'\s*\n\s*(\w+): '([\w-]+)'", secret_env)
        assert entry, name
        assert entry.group(1) == "secretRef", f"{name} must be a secretRef"
        secret = entry.group(2)
        definition = re.search(
            rf"name: '{secret}'\s*\n\s*keyVaultUrl: '\$\{{keyVaultUri\}}secrets/{secret}'", app
        )
        assert definition, f"secret {secret} must be a Key Vault reference"
    plain = _var_block(MAIN.read_text(), "serviceSettings") + _var_block(app, "fixedEnv")
    for name in ("INVITATION_PEPPER", "TECHCHECK_SECRET", "MicrosoftAppPassword", "COSMOS_KEY"):
        assert f"'{name}'" not in plain


def test_bot_app_types_are_ones_the_service_accepts() -> None:
    accepted = set(typing.get_args(Settings.model_fields["app_type"].annotation))
    for path in (MAIN, INFRA / "botRegistration" / "azurebot.bicep"):
        block = re.search(
            r"@allowed\(\[([^\]]*)\]\)\s*(?:@description\([^\n]*\)\s*)?param botAppType",
            path.read_text(),
        )
        assert block, path
        values = set(re.findall(r"'(\w+)'", block.group(1)))
        assert values
        assert values <= accepted, values - accepted  # case matters: UserAssignedMSI


# --- ports and probes -----------------------------------------------------------------------


def test_probes_point_at_healthz_and_readyz_on_the_container_port() -> None:
    app = APP.read_text()
    assert "var targetPort = 8080" in app
    assert "targetPort: targetPort" in app
    probes = re.findall(
        r"type: '(Startup|Liveness|Readiness)'\s*\n\s*httpGet: \{\s*path: '([^']+)'\s*port: (\w+)",
        app,
    )
    by_type = {kind: (path, port) for kind, path, port in probes}
    assert by_type == {
        "Startup": ("/healthz", "targetPort"),
        "Liveness": ("/healthz", "targetPort"),
        "Readiness": ("/readyz", "targetPort"),
    }
    routes = (ROOT / "bot" / "hosting" / "routes.py").read_text()
    for path in ("/healthz", "/readyz"):
        assert f'add_get("{path}"' in routes
    fixed = _var_block(app, "fixedEnv")
    assert re.search(r"name: 'PORT'\s*\n\s*value: string\(targetPort\)", fixed)
    assert re.search(r"name: 'HOST'\s*\n\s*value: '0.0.0.0'", fixed)


def test_ingress_is_https_only() -> None:
    app = APP.read_text()
    assert "allowInsecure: false" in app
    assert "external: true" in app


# --- data -----------------------------------------------------------------------------------


def test_cosmos_containers_match_the_store() -> None:
    text = COSMOS.read_text()
    assert tuple(re.findall(r"'(\w+)'", _var_block(text, "containerNames"))) == (
        cosmos_store.CONTAINERS
    )
    assert f"'{cosmos_store.PARTITION_KEY_PATH}'" in text
    assert "defaultTtl: -1" in text
    main = MAIN.read_text()
    assert f"databaseName: '{Settings.model_fields['cosmos_database'].default}'" in main


def test_cosmos_role_has_item_rights_but_no_container_management() -> None:
    text = COSMOS.read_text()
    actions = set(re.findall(r"'(Microsoft\.DocumentDB/databaseAccounts/[\w/*]+)'", text))
    items = "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/"
    assert {items + verb for verb in ("read", "create", "replace", "upsert", "delete")} <= actions
    assert "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery" in actions
    assert not [action for action in actions if action.endswith("*")]
    assert "disableLocalAuth: true" in text
    assert "type: 'Continuous'" in text
    assert "name: 'EnableServerless'" in text


def test_blob_container_is_the_service_default_and_private() -> None:
    default = Settings.model_fields["blob_container"].default
    assert f"containerName: '{default}'" in MAIN.read_text()
    assert f"BLOB_CONTAINER={default}" in (ROOT / ".env.example").read_text()
    storage = STORAGE.read_text()
    assert "publicAccess: 'None'" in storage
    assert "allowSharedKeyAccess: false" in storage
    assert "isVersioningEnabled: false" in storage  # a delete must erase the form


def test_storage_account_name_fits_the_naming_rule() -> None:
    main, storage = MAIN.read_text(), STORAGE.read_text()
    assert re.search(r"@maxLength\(16\)\s*\n[^\n]*\nparam resourceBaseName", main)
    suffix = re.search(
        r"name: toLower\(replace\('\$\{resourceBaseName\}(\w+)', '-', ''\)\)", storage
    )
    assert suffix, "storage account name expression changed; recheck CKV_AZURE_43's skip"
    assert re.fullmatch(r"[a-z0-9]+", suffix.group(1))
    assert 16 + len(suffix.group(1)) <= 24


def test_consent_form_backstop_outlives_the_service_retention() -> None:
    main = MAIN.read_text()
    assert "param consentFormBackstopDays int = retentionHandoffDays + retentionFormDays" in main
    handoff = Settings.model_fields["retention_handoff_days"].default
    assert f"param retentionHandoffDays int = {handoff}" in main


# --- parameters and the Agents Toolkit project ----------------------------------------------


def test_parameters_file_matches_the_template() -> None:
    import json

    values = json.loads(PARAMETERS.read_text())["parameters"]
    params = _params(MAIN.read_text())
    assert set(values) <= set(params), set(values) - set(params)
    required = {name for name, has_default in params.items() if not has_default}
    assert required <= set(values), required - set(values)


def test_every_placeholder_has_a_value_source() -> None:
    defined = _env_file_keys(ENV_DEV) | _outputs(MAIN.read_text()) | ATK_BUILTINS
    for path in (PARAMETERS, PROJECT):
        missing = {
            name
            for name in _placeholders(path.read_text())
            if name not in defined and not name.startswith("SECRET_")
        }
        assert not missing, f"{path.name}: no value source for {missing}"
    # secrets must come from the gitignored .env.dev.user, never from the committed file
    assert not {key for key in _env_file_keys(ENV_DEV) if key.startswith("SECRET_")}
    assert "env/.env.*.user" in (ROOT / ".gitignore").read_text().splitlines()


def _steps(lifecycle: str) -> list[dict[str, typing.Any]]:
    project = yaml.safe_load(PROJECT.read_text())
    return project[lifecycle]


def test_provision_deploys_the_template_then_builds_the_package_it_uploads() -> None:
    steps = _steps("provision")
    uses = [step["uses"] for step in steps]
    assert uses.index("arm/deploy") < uses.index("teamsApp/create")  # TEAMS_APP_ID = BOT_ID
    template = steps[uses.index("arm/deploy")]["with"]["templates"][0]
    assert (ROOT / template["path"]).resolve() == MAIN
    assert (ROOT / template["parameters"]).resolve() == PARAMETERS
    script = steps[uses.index("script")]["with"]["run"]
    out = re.search(r"python -m manifest\.build .*--out (\S+)", script)
    assert out, script
    assert "--app-id ${{BOT_ID}}" in script
    assert "--host ${{BOT_DOMAIN}}" in script
    for action in ("teamsApp/validateAppPackage", "teamsApp/update"):
        path = steps[uses.index(action)]["with"]["appPackagePath"]
        assert Path(path) == Path(out.group(1)), action
    unpacked = re.search(r"python -m zipfile -e (\S+) (\S+)", script)
    assert unpacked
    assert unpacked.group(1) == out.group(1)
    manifest = steps[uses.index("teamsApp/validateManifest")]["with"]["manifestPath"]
    assert Path(manifest) == Path(unpacked.group(2)) / "manifest.json"
    assert {"BOT_ID", "BOT_DOMAIN", "TEAMS_APP_ID"} <= _outputs(MAIN.read_text())


def test_deploy_rolls_out_to_the_provisioned_container_app() -> None:
    runs = " ".join(step["with"]["run"] for step in _steps("deploy") if step["uses"] == "script")
    assert "az containerapp update --name ${{AZURE_CONTAINER_APP_NAME}}" in runs
    assert "AZURE_CONTAINER_APP_NAME" in _outputs(MAIN.read_text())
    assert "::set-teamsfx-env CONTAINER_IMAGE=" in runs


@pytest.mark.parametrize("lifecycle", ["provision", "publish"])
def test_the_package_script_runs(lifecycle: str, tmp_path: Path) -> None:
    """The command m365agents.yml runs, with the values arm/deploy would fill in."""
    script = next(step for step in _steps(lifecycle) if step["uses"] == "script")["with"]["run"]
    values = {"BOT_ID": "0b7c2a1e-3f4d-4e5a-9b6c-7d8e9f0a1b2c", "BOT_DOMAIN": "vb-app.example.net"}
    command = re.sub(r"\$\{\{(\w+)\}\}", lambda match: values[match.group(1)], script)
    command = command.replace("build/", f"{tmp_path}/").replace("python ", f"{sys.executable} ")
    subprocess.run(command, shell=True, check=True, cwd=ROOT, capture_output=True, timeout=120)
    with zipfile.ZipFile(tmp_path / "videoberatung-app.zip") as package:
        assert "manifest.json" in package.namelist()
    manifest = (tmp_path / "appPackage" / "manifest.json").read_text()
    assert values["BOT_ID"] in manifest
    assert values["BOT_DOMAIN"] in manifest


#: Container Apps' limits for probes (Microsoft.App/containerApps, probes)
PROBE_LIMITS = {
    "initialDelaySeconds": (0, 60),
    "periodSeconds": (1, 240),
    "timeoutSeconds": (1, 240),
    "failureThreshold": (1, 10),
    "successThreshold": (1, 10),
}


def test_probe_settings_are_within_what_container_apps_accepts() -> None:
    values = re.findall(r"^\s*(\w+Seconds|\w+Threshold): (\d+)", APP.read_text(), re.MULTILINE)
    probe_values = [(name, int(value)) for name, value in values if name in PROBE_LIMITS]
    assert len(probe_values) >= 9
    for name, value in probe_values:
        low, high = PROBE_LIMITS[name]
        assert low <= value <= high, (name, value)


def test_the_shutdown_fits_in_the_termination_grace_period() -> None:
    """Draining (SHUTDOWN_GRACE_SECONDS) plus the clean-up after it (telemetry flush at most
    bot.hosting.telemetry.FLUSH_SECONDS, storage close) must end before Container Apps kills."""
    from bot.hosting.telemetry import FLUSH_SECONDS

    text = APP.read_text()
    grace = int(re.search(r"terminationGracePeriodSeconds: (\d+)", text).group(1))  # type: ignore[union-attr]
    drain = float(
        re.search(r"name: 'SHUTDOWN_GRACE_SECONDS'\s+value: '(\d+)'", text).group(1)  # type: ignore[union-attr]
    )
    assert drain + FLUSH_SECONDS + 5 <= grace
