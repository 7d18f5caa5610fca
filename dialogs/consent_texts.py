"""The consent text: its versions, the summary on the card, and the register of fingerprints.

Every version's text stays in the catalogs (``consent.<version>.*``), in every language it was
shown in, so the text an old event names can be rendered and its SHA-256 checked. The register
(``dialogs/locales/consent_texts.json``) lists each version and language with the fingerprint
of its catalog text and whether a reviewer has approved the translation; a test fails when a
catalog text changes under a version that is already registered. ``docs/translations.md`` says
how a reviewed translation replaces a draft.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.i18n import LOCALES_DIR, SUPPORTED_LOCALES, Translator, load_catalog

REGISTER = LOCALES_DIR / "consent_texts.json"

CONSENT_VERSION = "2026-12"
#: every version's paragraphs (catalog keys ``consent.<version>.<name>``); kept for proof
CONSENT_PARAGRAPHS = {
    "2026-11": ["purpose", "voluntary", "no_recording", "teams", "withdrawal", "contact"],
    "2026-12": ["purpose", "voluntary", "no_recording", "teams", "withdrawal", "contact"],
}
#: the summary on the card (from 2026-12 on): ``consent.<version>.summary.<name>``
CONSENT_SUMMARIES = {"2026-12": ["what", "voluntary", "no_recording", "teams", "withdrawal"]}


def version_id(locale: str, version: str = CONSENT_VERSION) -> str:
    """What an event and the receipt record: the text version and its language, ``2026-12/ar``."""
    return f"{version}/{locale}"


def consent_text(
    t: Translator, settings: Settings, version: str = CONSENT_VERSION, *, plain: bool = False
) -> list[str]:
    """The full consent text of ``version``, in ``t``'s language, as the client read it;
    ``plain``: without the marks that only order figures in right-to-left text (what the
    fingerprint is taken of, so that it depends on the wording alone)."""
    lookup = t.plain if plain else t
    prefix = f"consent.{version}"
    contact = settings.data_protection_contact or lookup(f"{prefix}.contact_default")
    return [
        lookup(f"{prefix}.{name}", contact=contact, jobcenter=settings.jobcenter_name)
        for name in CONSENT_PARAGRAPHS[version]
    ]


def consent_summary(
    t: Translator, version: str = CONSENT_VERSION, *, plain: bool = False
) -> list[str]:
    """The short summary on the card, the decision's basis with the full text one tap away."""
    lookup = t.plain if plain else t
    return [lookup(f"consent.{version}.summary.{name}") for name in CONSENT_SUMMARIES[version]]


def text_fingerprint(paragraphs: list[str]) -> str:
    return hashlib.sha256("\n".join(paragraphs).encode()).hexdigest()


def consent_fingerprints(t: Translator, settings: Settings) -> tuple[str, str]:
    """What a consent event records: the SHA-256 of the full text and of the summary shown."""
    return (
        text_fingerprint(consent_text(t, settings, plain=True)),
        text_fingerprint(consent_summary(t, plain=True)),
    )


def catalog_fingerprint(locale: str, version: str = CONSENT_VERSION) -> str:
    """The SHA-256 of all of a version's catalog entries in one language (full text, default
    contact, summary), placeholders unfilled: what the register records, whatever contact a
    job centre configures."""
    prefix = f"consent.{version}."
    entries = sorted((k, v) for k, v in load_catalog(locale).items() if k.startswith(prefix))
    return text_fingerprint([f"{key}={text}" for key, text in entries])


@cache
def register() -> dict[str, dict[str, dict[str, Any]]]:
    """Version → language → ``{"sha256": …, "status": "original" | "reviewed" | "draft"}``."""
    with Path(REGISTER).open(encoding="utf-8") as handle:
        return json.load(handle)


def fingerprints() -> dict[str, dict[str, str]]:
    """Version → language → the catalogs' fingerprint now, for every registered version and
    every language: what a new register entry records (``python -m dialogs.consent_texts``)."""
    return {
        version: {
            locale: catalog_fingerprint(locale, version)
            for locale in SUPPORTED_LOCALES
            if any(key.startswith(f"consent.{version}.") for key in load_catalog(locale))
        }
        for version in CONSENT_PARAGRAPHS
    }


if __name__ == "__main__":
    print(json.dumps(fingerprints(), indent=2))
