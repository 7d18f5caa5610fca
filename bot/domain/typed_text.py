"""What a client typed, made comparable: case, punctuation, and the spellings one letter has.

Keyboards and habits differ: Arabic and Persian keyboards give ي or ی, ك or ک; people type أ, إ
or ا; Turkish phones capitalise "İ"; Russian writers drop "ё". Typed answers and the catalog's
synonyms are folded alike before they are compared.
"""

from __future__ import annotations

import re
from functools import cache

_FOLD = str.maketrans(
    {
        "İ": "i",
        "ي": "ی",
        "ى": "ی",
        "ك": "ک",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ۀ": "ه",
        "ё": "е",
        "Ё": "е",
        "’": "'",
        "ʼ": "'",
        "\u200c": " ",  # zero-width non-joiner (Persian): as a space
        "\u200e": None,  # direction marks and isolates
        "\u200f": None,
        "\u2066": None,
        "\u2067": None,
        "\u2068": None,
        "\u2069": None,
        "ـ": None,  # tatweel
    }
)
#: Arabic vowel marks, superscript alef, and the dot "İ".lower() leaves behind
_MARKS = re.compile("[\u064b-\u065f\u0670\u0307]")
_PUNCTUATION = re.compile(r"[\s.!?,;:؟،؛]+")


def normalise(text: str | None) -> str:
    folded = _MARKS.sub("", (text or "").translate(_FOLD).lower())
    return _PUNCTUATION.sub(" ", folded).strip()


def mentions(normalised: str, phrase: str) -> bool:
    """Whether the (normalised) text has ``phrase`` as whole words: "montag vormittag" has
    "vormittag", "п'ятниця" is one word, "після обіду" a phrase."""
    pattern = word_pattern(phrase)
    return pattern is not None and pattern.search(normalised) is not None


@cache
def word_pattern(phrase: str) -> re.Pattern[str] | None:
    """A phrase as whole words in normalised text; a trailing ``*`` also takes longer words
    (German compounds: "miet*" finds "Mietkosten"). ``None`` for a phrase of nothing."""
    stem = normalise(phrase.rstrip("*"))
    if not stem:
        return None
    tail = r"\w*" if phrase.endswith("*") else ""
    return re.compile(rf"(?<!\w){re.escape(stem)}{tail}(?!\w)")
