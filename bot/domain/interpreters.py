"""An interpreter for the consultation: which language, and whether it is arranged.

Any language may be asked for — the list only saves typing: a client whose language is not on
it writes it in their own words, which the counsellor reads as written. Language names come
from CLDR (Babel), in the reader's language: the client reads "البشتو", the counsellor
"Paschtu".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from babel import Locale

#: the languages offered on the card (most asked for in SGB II job centres first); ``fa_AF`` is
#: Dari, the Persian of Afghanistan
INTERPRETER_LANGUAGES = (
    "ar", "fa_AF", "fa", "ps", "uk", "ru", "tr", "ku", "ckb",
    "ti", "so", "sq", "ro", "bg", "pl", "en", "fr",
)  # fmt: skip
#: how long the client's own words for a language may be
WRITTEN_MAX = 60
#: the language's own name where CLDR's is not what its speakers call it
_OWN_NAMES = {"fa_AF": "دری"}


class InterpreterStatus(StrEnum):
    REQUESTED = "requested"
    ARRANGED = "arranged"


@dataclass
class InterpreterRequest:
    """``language``: one of ``INTERPRETER_LANGUAGES``, or empty when only ``written`` says it."""

    language: str = ""
    written: str = ""
    status: str = InterpreterStatus.REQUESTED

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> InterpreterRequest | None:
        """A request from what a card sent or a record holds; ``None`` when it names no
        language (nothing, or a code not on the list, and no words of the client's)."""
        data = data or {}
        language = str(data.get("language") or "")
        language = language if language in INTERPRETER_LANGUAGES else ""
        written = clean_written(data.get("written"))
        if not (language or written):
            return None
        status = InterpreterStatus(data.get("status") or InterpreterStatus.REQUESTED)
        return cls(language=language, written=written, status=status)

    def as_dict(self) -> dict[str, str]:
        return {"language": self.language, "written": self.written, "status": self.status}

    def name(self, reader_locale: str) -> str:
        """The client's own words for the language when they wrote any (they say more than a
        list entry that was merely preselected), else the language in the reader's words."""
        return self.written or language_name(self.language, reader_locale)

    @staticmethod
    def same_wish(first: InterpreterRequest | None, second: InterpreterRequest | None) -> bool:
        """The same language asked for (whatever has been arranged meanwhile)."""
        if first is None or second is None:
            return first is second
        return (first.language, first.written) == (second.language, second.written)


def clean_written(text: object) -> str:
    """The client's own words for a language: one line, at most ``WRITTEN_MAX`` characters."""
    return " ".join(str(text or "").split())[:WRITTEN_MAX]


def language_name(code: str, reader_locale: str) -> str:
    """``ps`` for a German reader → "Paschtu"; for an Arabic reader → "البشتو"."""
    return Locale.parse(reader_locale).languages.get(code) or code


def own_name(code: str) -> str:
    """The language in its own words: "پښتو", "Türkçe", "دری"."""
    return _OWN_NAMES.get(code) or Locale.parse(code).get_language_name(code) or code


def choice_title(code: str, reader_locale: str) -> str:
    """ "Paschtu (پښتو)" — the reader's name and the language's own, when they differ."""
    name, own = language_name(code, reader_locale), own_name(code)
    return name if name.casefold() == own.casefold() else f"{name} ({own})"
