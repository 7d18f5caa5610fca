"""The papers for the data protection officer (docs/privacy) stay true to the code: every record
kind and setting they name exists, every kind the service stores is in the deletion concept,
and the defaults they state are the code's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import Settings
from bot.domain import retention
from bot.domain.retention import RECORD_KINDS

ROOT = Path(__file__).resolve().parents[2]
PAPERS = sorted((ROOT / "docs" / "privacy").glob("*.md"))
DELETION_CONCEPT = ROOT / "docs" / "privacy" / "deletion-concept.md"
#: a setting as the papers write it: upper case with an underscore, e.g. RETENTION_FORM_DAYS
SETTING = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
#: a table row about a record kind: | `kind` | … | last cell | (the deletion concept's last
#: cell is the setting and its default)
ROW = re.compile(r"^\| `(?P<kind>[a-z_]+)` \|.*\| (?P<setting>[^|]*) \|$", re.M)


def setting_names() -> dict[str, str]:
    """Every setting's environment name → its field name."""
    return {
        field.validation_alias.choices[0] if field.validation_alias else name.upper(): name
        for name, field in Settings.model_fields.items()
    }


RECORD_OF_PROCESSING = ROOT / "docs" / "privacy" / "record-of-processing.md"
#: a relative link to another paper or doc: [text](file.md)
LINK = re.compile(r"\]\(([^)#:]+\.md)\)")


def test_the_papers_exist() -> None:
    names = {paper.name for paper in PAPERS}
    assert names == {
        "deletion-concept.md",
        "record-of-processing.md",
        "toms.md",
        "job-centre-duties.md",
        "accessibility-statement.md",
    }


@pytest.mark.parametrize("paper", PAPERS, ids=lambda path: path.name)
def test_every_record_kind_a_paper_names_exists_and_every_link_leads_somewhere(
    paper: Path,
) -> None:
    text = paper.read_text(encoding="utf-8")
    kinds = {match["kind"] for match in ROW.finditer(text)}
    assert kinds <= {rule.kind for rule in RECORD_KINDS}
    for target in LINK.findall(text):
        assert (paper.parent / target).resolve().is_file(), target


@pytest.mark.parametrize("paper", [DELETION_CONCEPT, RECORD_OF_PROCESSING], ids=lambda p: p.name)
def test_the_deletion_concept_and_the_record_name_every_kind(paper: Path) -> None:
    kinds = {match["kind"] for match in ROW.finditer(paper.read_text(encoding="utf-8"))}
    assert kinds == {rule.kind for rule in RECORD_KINDS}


@pytest.mark.parametrize("paper", PAPERS, ids=lambda path: path.name)
def test_every_setting_a_paper_names_exists(paper: Path) -> None:
    named = set(SETTING.findall(paper.read_text(encoding="utf-8")))
    code = {name for name in named if hasattr(retention, name)}  # e.g. RECORD_KINDS
    assert named - code - set(setting_names()) == set()


def test_the_deletion_concept_lists_every_kind_with_its_setting_and_default() -> None:
    rows = {
        match["kind"]: match["setting"].strip()
        for match in ROW.finditer(DELETION_CONCEPT.read_text(encoding="utf-8"))
    }
    assert set(rows) == {rule.kind for rule in RECORD_KINDS}
    defaults = Settings(_env_file=None)
    for rule in RECORD_KINDS:
        if not rule.setting:
            assert rows[rule.kind] in ("fixed", "—"), rule.kind
            continue
        default = getattr(defaults, setting_names()[rule.setting])
        assert rows[rule.kind] == f"`{rule.setting}` ({default})", rule.kind
