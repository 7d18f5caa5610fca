"""Tests for the Teams app package: manifest, localisation, icons and the build script."""

from __future__ import annotations

import copy
import json
import re
import zipfile
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity
from jsonschema import Draft6Validator, FormatChecker, validators
from jsonschema.protocols import Validator
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from bot.i18n import SUPPORTED_LOCALES
from dialogs.commands import Command, recognize_command
from manifest import build
from manifest.build import ManifestError, build_package, render_manifest

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_DIR = ROOT / "manifest"
SCHEMA_ROOT = ROOT / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas"

SAMPLE_APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
SAMPLE_HOST = "videoberatung.example.org"
SAMPLE_VERSION = "1.2.3"

GERMAN_COMMANDS = [
    ("Hilfe", "Zeigt, was Sie tun können und wie Sie uns anders erreichen."),
    ("Neu starten", "Beginnt die Vorbereitung von vorn."),
    (
        "Sprache",
        "Wechselt die Sprache: Deutsch, English, Українська, Русский, العربية, دری / فارسی, "
        "Türkçe.",
    ),
    ("Einwilligung widerrufen", "Widerruft Ihre Einwilligung zum Videogespräch."),
    ("Meine Daten", "Zeigt, was wir über Sie gespeichert haben, auch als Datei."),
    ("Meine Daten löschen", "Löscht Ihre Angaben in diesem Chat."),
    ("Dolmetscher", "Wünscht für das Gespräch eine Dolmetscherin oder einen Dolmetscher."),
]
#: what each command of the list does in the bot, in order
COMMANDS = [
    Command.HELP,
    Command.RESTART,
    Command.LANGUAGE,
    Command.WITHDRAW,
    Command.MY_DATA,
    Command.DELETE,
    Command.INTERPRETER,
]
#: language tag → localization file: every chat language but German (the manifest's own)
LOCALIZATIONS = {
    "en-us": "en.json",
    "uk": "uk.json",
    "ru": "ru.json",
    "ar": "ar.json",
    "fa": "fa.json",
    "tr": "tr.json",
}
PACKAGE_FILES = {"manifest.json", *LOCALIZATIONS.values(), "color.png", "outline.png"}

_COMMAND_KEY = re.compile(r"^bots\[0\]\.commandLists\[(\d+)\]\.commands\[(\d+)\]\.(\w+)$")


# --------------------------------------------------------------------------- helpers


def _load_json(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _template() -> dict[str, Any]:
    return _load_json(MANIFEST_DIR / "manifest.template.json")


def _en() -> dict[str, Any]:
    return _load_json(MANIFEST_DIR / "en.json")


def _rendered() -> dict[str, Any]:
    return render_manifest(SAMPLE_APP_ID, SAMPLE_HOST, SAMPLE_VERSION)


def _schema_dir() -> Path:
    """Folder of the official schemas matching the template's manifestVersion."""
    if not SCHEMA_ROOT.is_dir():
        pytest.fail(
            f"Teams manifest schemas not found at {SCHEMA_ROOT}. "
            "Run `npm install` in the repository root to install @microsoft/app-manifest.",
            pytrace=False,
        )
    folder = SCHEMA_ROOT / "teams" / f"v{_template()['manifestVersion']}"
    if not folder.is_dir():
        pytest.fail(
            f"No schema folder {folder} in @microsoft/app-manifest; "
            "run `npm install` or pick a manifestVersion that the package ships.",
            pytrace=False,
        )
    return folder


def _retrieve(uri: str) -> Resource:
    """Load sibling schema files referenced by a relative file URI."""
    if not uri.startswith("file://"):
        raise LookupError(f"refusing to fetch remote schema {uri}")
    path = Path(url2pathname(urlsplit(uri).path))
    return Resource.from_contents(_load_json(path), default_specification=DRAFT4)


@cache
def _validator(schema_file: str) -> Validator:
    """Validator for an official schema, using the class its $schema declares.

    The Teams schemas declare draft-04 but use the ``const`` keyword (draft-06), which the
    official tooling (ajv) enforces; jsonschema's draft-04 validator would silently ignore it,
    so ``const`` is added to the draft-04 class.
    """
    path = _schema_dir() / schema_file
    schema = _load_json(path)
    base_cls = validators.validator_for(schema)
    assert base_cls.META_SCHEMA["$schema"].rstrip("#") == schema["$schema"].rstrip("#")
    # Structural check against the draft's meta-schema. Formats are not checked there: some
    # patterns use ECMAScript-only syntax (\\p{L}) that Python's re cannot compile; none of them
    # apply to the parts of the manifest this app uses.
    base_cls(base_cls.META_SCHEMA).validate(schema)
    cls = validators.extend(base_cls, {"const": Draft6Validator.VALIDATORS["const"]})
    uri = path.as_uri()
    resource = Resource.from_contents(schema, default_specification=DRAFT4)
    registry: Registry = Registry(retrieve=_retrieve).with_resource(uri, resource)
    # Anchor the schema at its file URI so that every $ref resolves through the registry.
    anchored = {**schema, "id": uri}
    return cls(anchored, registry=registry, format_checker=FormatChecker())


def _errors(schema_file: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in _validator(schema_file).iter_errors(instance)
    ]


def _manifest_errors(instance: Any) -> list[str]:
    return _errors("MicrosoftTeams.schema.json", instance)


def _localization_errors(instance: Any) -> list[str]:
    return _errors("MicrosoftTeams.Localization.schema.json", instance)


# --------------------------------------------------------------------------- schema


@pytest.mark.node
def test_rendered_manifest_matches_official_schema() -> None:
    assert _manifest_errors(_rendered()) == []


@pytest.mark.node
def test_schema_version_is_at_least_1_22_and_consistent() -> None:
    template = _template()
    major, minor = (int(part) for part in template["manifestVersion"].split("."))
    assert (major, minor) >= (1, 22)
    assert template["$schema"] == (
        "https://developer.microsoft.com/en-us/json-schemas/teams/"
        f"v{template['manifestVersion']}/MicrosoftTeams.schema.json"
    )
    assert _en()["$schema"] == template["$schema"].replace(
        "MicrosoftTeams.schema.json", "MicrosoftTeams.Localization.schema.json"
    )
    assert _schema_dir().is_dir()


@pytest.mark.node
@pytest.mark.parametrize(
    "field",
    ["manifestVersion", "version", "id", "developer", "name", "description", "icons"],
)
def test_schema_rejects_manifest_without_required_field(field: str) -> None:
    manifest = _rendered()
    del manifest[field]
    assert any("is a required property" in err for err in _manifest_errors(manifest))


@pytest.mark.node
@pytest.mark.parametrize(
    ("path", "key"),
    [
        (("developer",), "privacyUrl"),
        (("name",), "short"),
        (("bots", 0, "commandLists", 0), "scopes"),
        (("localizationInfo",), "defaultLanguageTag"),
    ],
)
def test_schema_rejects_missing_nested_required_field(path: tuple[Any, ...], key: str) -> None:
    manifest = _rendered()
    node: Any = manifest
    for step in path:
        node = node[step]
    del node[key]
    assert any(f"'{key}' is a required property" in err for err in _manifest_errors(manifest))


@pytest.mark.node
def test_schema_checks_referenced_definitions_and_const() -> None:
    manifest = _rendered()
    manifest["bots"][0]["botId"] = "not-a-guid"  # checked via $ref "#/definitions/guid"
    manifest["accentColor"] = "blue"  # checked via $ref "#/definitions/hexColor"
    manifest["manifestVersion"] = "1.0"  # checked via "const"
    errors = _manifest_errors(manifest)
    assert any(err.startswith("bots/0/botId:") for err in errors), errors
    assert any(err.startswith("accentColor:") for err in errors), errors
    assert any(err.startswith("manifestVersion:") for err in errors), errors


@pytest.mark.node
@pytest.mark.parametrize("file", LOCALIZATIONS.values())
def test_localization_file_matches_official_schema(file: str) -> None:
    assert _localization_errors(_load_json(MANIFEST_DIR / file)) == []


def test_every_chat_language_but_german_has_a_localization_file() -> None:
    tags = {tag.split("-")[0] for tag in LOCALIZATIONS}
    assert tags == set(SUPPORTED_LOCALES) - {"de"}


@pytest.mark.node
def test_localization_schema_rejects_bad_keys() -> None:
    en = _en()
    del en["name.short"]
    en["bots[0].commands[0].title"] = "Help"
    errors = _localization_errors(en)
    assert any("'name.short' is a required property" in err for err in errors), errors
    assert any("bots[0].commands[0].title" in err for err in errors), errors


# --------------------------------------------------------------------------- content


def test_manifest_content() -> None:
    manifest = _rendered()
    assert manifest["id"] == SAMPLE_APP_ID
    assert manifest["version"] == SAMPLE_VERSION
    assert manifest["name"] == {
        "short": "Videoberatung",
        "full": "Videoberatung – Vorbereitung auf Ihr Videogespräch mit dem Jobcenter",
    }
    assert manifest["developer"]["name"] == "Jobcenter (Betreiber)"
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert manifest["developer"][key].startswith(f"https://{SAMPLE_HOST}/")
    assert manifest["validDomains"] == [SAMPLE_HOST]
    assert manifest["localizationInfo"] == {
        "defaultLanguageTag": "de-de",
        "additionalLanguages": [
            {"languageTag": tag, "file": file} for tag, file in LOCALIZATIONS.items()
        ],
    }
    (bot,) = manifest["bots"]
    assert bot["botId"] == SAMPLE_APP_ID
    assert bot["scopes"] == ["personal"]
    assert bot["supportsFiles"] is True
    assert bot["isNotificationOnly"] is False
    (command_list,) = bot["commandLists"]
    assert command_list["scopes"] == ["personal"]
    assert [(c["title"], c["description"]) for c in command_list["commands"]] == GERMAN_COMMANDS


def test_template_placeholders() -> None:
    text = (MANIFEST_DIR / "manifest.template.json").read_text(encoding="utf-8")
    assert set(re.findall(r"\{\{(\w+)\}\}", text)) == {"APP_ID", "PUBLIC_HOST", "VERSION"}
    template = _template()
    assert template["id"] == template["bots"][0]["botId"] == "{{APP_ID}}"
    assert template["validDomains"] == ["{{PUBLIC_HOST}}"]
    assert template["version"] == "{{VERSION}}"


@pytest.mark.parametrize(("tag", "file"), LOCALIZATIONS.items())
def test_each_localization_lists_the_commands_the_bot_knows_in_that_language(
    tag: str, file: str
) -> None:
    """A command tapped in Teams' list arrives as its title: the bot must read it as the same
    command in that language."""
    localized = _load_json(MANIFEST_DIR / file)
    german = _template()["bots"][0]["commandLists"]
    titles: dict[int, str] = {}
    for key, value in localized.items():
        match = _COMMAND_KEY.match(key)
        if not match:
            continue
        list_index, command_index, field = int(match[1]), int(match[2]), match[3]
        assert list_index < len(german), key
        assert command_index < len(german[list_index]["commands"]), key
        assert field in german[list_index]["commands"][command_index], key
        assert value.strip(), key
        if field == "title":
            titles[command_index] = value
    assert sorted(titles) == list(range(len(GERMAN_COMMANDS)))
    for index, command in enumerate(COMMANDS):
        recognised = recognize_command(_typed(titles[index], tag))
        assert recognised is not None, (tag, titles[index])
        assert recognised[0] == command, (tag, titles[index])
    for key in ("name.short", "name.full", "description.short", "description.full"):
        assert localized[key].strip()


def test_the_german_command_titles_are_the_bots_commands() -> None:
    for (title, _), command in zip(GERMAN_COMMANDS, COMMANDS, strict=True):
        recognised = recognize_command(_typed(title, "de-de"))
        assert recognised is not None, title
        assert recognised[0] == command, title


def _typed(text: str, locale: str) -> TurnContext:
    return TurnContext(TestAdapter(), Activity(type="message", text=text, locale=locale))


# --------------------------------------------------------------------------- package


def test_build_package_contains_exactly_its_files(tmp_path: Path) -> None:
    out = build_package(SAMPLE_APP_ID, SAMPLE_HOST, SAMPLE_VERSION, tmp_path / "sub" / "app.zip")
    assert out.is_file()
    with zipfile.ZipFile(out) as zf:
        assert set(zf.namelist()) == PACKAGE_FILES
        raw = zf.read("manifest.json").decode("utf-8")
        manifest = json.loads(raw)
        for file in LOCALIZATIONS.values():
            assert json.loads(zf.read(file)) == _load_json(MANIFEST_DIR / file)
        assert zf.read("color.png") == (MANIFEST_DIR / "color.png").read_bytes()
    assert "{{" not in raw
    assert "}}" not in raw
    assert manifest["id"] == SAMPLE_APP_ID
    assert manifest["bots"][0]["botId"] == SAMPLE_APP_ID
    assert manifest == _rendered()
    referenced = {manifest["icons"]["color"], manifest["icons"]["outline"]}
    referenced |= {lang["file"] for lang in manifest["localizationInfo"]["additionalLanguages"]}
    assert referenced | {"manifest.json"} == PACKAGE_FILES


def test_cli_uses_environment_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MicrosoftAppId", SAMPLE_APP_ID)
    monkeypatch.setenv("BOT_PUBLIC_HOST", SAMPLE_HOST)
    out = tmp_path / "app.zip"
    assert build.main(["--out", str(out)]) == 0
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["id"] == SAMPLE_APP_ID
    assert manifest["validDomains"] == [SAMPLE_HOST]
    assert manifest["version"] == build.default_version()
    assert str(out) in capsys.readouterr().out


def test_default_host_is_localhost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_PUBLIC_HOST", raising=False)
    out = tmp_path / "app.zip"
    assert build.main(["--app-id", SAMPLE_APP_ID, "--version", "2.0.0", "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["validDomains"] == ["localhost"]
    assert manifest["version"] == "2.0.0"


@pytest.mark.parametrize("app_id", ["", "not-a-guid", "3f2504e0-4f89-41d3-9a0c", "{{APP_ID}}"])
def test_non_guid_app_id_is_refused(
    app_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    with pytest.raises(ManifestError, match="GUID"):
        render_manifest(app_id, SAMPLE_HOST, SAMPLE_VERSION)
    out = tmp_path / "app.zip"
    assert build.main(["--app-id", app_id, "--out", str(out)]) == 2
    assert "GUID" in capsys.readouterr().err
    assert not out.exists()


def test_missing_app_id_env_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    assert build.main(["--out", str(tmp_path / "app.zip")]) == 2
    assert "MicrosoftAppId" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["https://example.org", "example.org/path", 'ex"ample.org'])
def test_invalid_host_is_refused(host: str) -> None:
    with pytest.raises(ManifestError, match="host"):
        render_manifest(SAMPLE_APP_ID, host, SAMPLE_VERSION)


def test_substitution_happens_in_values_not_raw_text() -> None:
    template = {"a": ["x {{VERSION}} y", {"b": "{{VERSION}}"}], "n": 1, "t": True}
    values = {"VERSION": 'quote" and \\ backslash'}
    result = build._substitute(copy.deepcopy(template), values)
    assert result == {
        "a": ['x quote" and \\ backslash y', {"b": 'quote" and \\ backslash'}],
        "n": 1,
        "t": True,
    }
    with pytest.raises(ManifestError, match="Unknown placeholder"):
        build._substitute({"a": "{{NOPE}}"}, values)


# --------------------------------------------------------------------------- icons


def test_color_icon_is_192_square() -> None:
    with Image.open(MANIFEST_DIR / "color.png") as img:
        assert img.format == "PNG"
        assert img.size == (192, 192)
        colours = img.convert("RGB").getcolors(maxcolors=192 * 192) or []
        assert len(colours) > 2  # full colour, not a blank square


def test_outline_icon_is_white_on_transparent() -> None:
    with Image.open(MANIFEST_DIR / "outline.png") as img:
        assert img.format == "PNG"
        assert img.size == (32, 32)
        assert img.mode == "RGBA"
        pixels = [img.getpixel((x, y)) for y in range(32) for x in range(32)]
    not_white = [p for p in pixels if p[3] != 0 and p[:3] != (255, 255, 255)]
    assert not_white == []
    assert any(p[3] == 0 for p in pixels), "outline icon needs a transparent background"
    assert any(p[3] == 255 for p in pixels), "outline icon needs an opaque white symbol"
