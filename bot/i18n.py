"""Translation catalogs: one gettext PO file per language under ``dialogs/locales``.

Message ids are symbolic keys (``welcome.title``); the German catalog is the reference. PO is
the format translators' tools already speak; Babel reads it.

Clients chat in any of ``SUPPORTED_LOCALES``. Staff (counsellors, team leads) read German or
English: their texts live in ``dialogs/locales/staff`` and only those two languages have them,
so a counsellor whose Teams speaks Turkish reads German (``staff_translator``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "dialogs" / "locales"
STAFF_LOCALES_DIR = LOCALES_DIR / "staff"
DEFAULT_LOCALE = "de"
#: the order of the language card
SUPPORTED_LOCALES = ("de", "en", "uk", "ru", "ar", "fa", "tr")
STAFF_LOCALES = ("de", "en")
#: written right to left: cards set ``rtl``, the tech-check page ``dir="rtl"``
RTL_LOCALES = frozenset({"ar", "fa"})
#: language tags that mean one of ours: Dari (``prs``, ``fa-AF``) is written like Persian
_ALIASES = {"prs": "fa", "pes": "fa", "ua": "uk"}

log = logging.getLogger(__name__)


class Translator:
    """Looks up texts of one language, with the default language as fallback."""

    #: tests set this so that a missing key fails loudly instead of showing the key
    strict = False

    def __init__(self, locale: str, messages: dict[str, str], fallback: dict[str, str]) -> None:
        self.locale = locale
        self._messages = messages
        self._fallback = fallback

    def __call__(self, key: str, **params: object) -> str:
        """The text as it is shown: in a right-to-left language with its figures isolated."""
        text = self.plain(key, **params)
        return isolate_figures(text) if is_rtl(self.locale) else text

    def plain(self, key: str, **params: object) -> str:
        """The text as the catalog has it, filled in: what a fingerprint is taken of, and what
        the tech-check page's script isolates itself."""
        text = self._messages.get(key) or self._fallback.get(key)
        if text is None:
            if Translator.strict:
                raise KeyError(f"missing translation key {key}")
            log.error("missing translation key %s", key)
            return key
        return text.format(**params) if params else text

    def has(self, key: str) -> bool:
        return key in self._messages or key in self._fallback

    def variants(self, key: str) -> list[str]:
        """A ``|``-separated synonym list (e.g. typed forms of an answer)."""
        return [part.strip() for part in self(key).split("|") if part.strip()]


@cache
def load_catalog(locale: str) -> dict[str, str]:
    """The client texts of ``locale``."""
    return read_catalog(LOCALES_DIR / f"{locale}.po")


@cache
def load_staff_catalog(locale: str) -> dict[str, str]:
    """The client texts and the staff texts of ``locale`` (German or English)."""
    return {**load_catalog(locale), **read_catalog(STAFF_LOCALES_DIR / f"{locale}.po")}


def read_catalog(path: Path) -> dict[str, str]:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {str(message.id): str(message.string) for message in catalog if message.id}


def translator(locale: str) -> Translator:
    """A client's texts: no staff text, not even through the German fallback."""
    locale = match_locale(locale)
    return Translator(locale, load_catalog(locale), load_catalog(DEFAULT_LOCALE))


def staff_translator(tag: str | None) -> Translator:
    """A counsellor's or team lead's texts: German or English, with the client texts their
    cards quote (topics, consultation types)."""
    locale = match_locale(tag, supported=STAFF_LOCALES)
    return Translator(locale, load_staff_catalog(locale), load_staff_catalog(DEFAULT_LOCALE))


def all_translators() -> Iterable[Translator]:
    return (translator(locale) for locale in SUPPORTED_LOCALES)


def match_locale(
    tag: str | None, default: str = DEFAULT_LOCALE, supported: Iterable[str] = SUPPORTED_LOCALES
) -> str:
    """``en-US`` → ``en``, ``fa-AF`` and ``prs`` → ``fa``; anything else → the default."""
    if not tag:
        return default
    language = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    language = _ALIASES.get(language, language)
    return language if language in tuple(supported) else default


def is_rtl(locale: str) -> bool:
    return locale in RTL_LOCALES


#: a figure as it is written left to right — "1100 MB", "1280 × 720", "8–12", "0171 2345678" —
#: where a word can start (group 1: the start, a space or an opening mark; group 2: the
#: figure), so that digits inside a code, a version or a web address are left alone. No
#: lookbehind: the tech-check page's script uses the same pattern, also in older Safari.
FIGURE_PATTERN = (
    r"(^|[\s(«“\"'])"
    r"(\d[\d.,٫]*(?:[ \u00a0]?[×x–\-/:][ \u00a0]?\d[\d.,٫]*|[ \u00a0]\d[\d.,٫]*)*"
    r"(?:[ \u00a0]?(?:[KMG]B|kbit/s|Mbit/s|ms|px|%))?)(?![A-Za-z0-9/=_-])"
)
_FIGURE = re.compile(FIGURE_PATTERN)


def isolate_figures(text: str) -> str:
    """Each figure in a left-to-right isolate (LRI … PDI), with no-break spaces, so that inside
    Arabic or Persian text "1280 × 720" and "1100 MB" keep their order instead of being
    reversed around the "×" or split from their unit."""
    return _FIGURE.sub(lambda m: f"{m.group(1)}\u2066{_unbroken(m.group(2))}\u2069", text)


def _unbroken(figure: str) -> str:
    """A figure is not broken across lines: "7 ms" keeps its unit."""
    return figure.replace(" ", "\u00a0")


def text_direction(locale: str) -> str:
    """HTML's ``dir``: ``rtl`` or ``ltr``."""
    return "rtl" if is_rtl(locale) else "ltr"
