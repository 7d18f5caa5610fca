"""Untrusted text as Markdown that shows exactly that text.

Teams renders Markdown in Adaptive Card TextBlocks and FactSets, so a client's display name
such as ``[Termin bestätigen](https://evil.example)`` would become a link on a counsellor's
card. Every value a client supplies (display name, phone number …) goes through
:func:`literal` before it is bound into a card or a message; texts from the catalogs do not
(they may use Markdown on purpose, e.g. ``- `` lists).

Teams honours CommonMark backslash escapes in TextBlocks (microsoft/AdaptiveCards #4677,
#5590): ``\\[`` shows ``[``. Any ASCII punctuation may be escaped that way, so escaping a
character too many is harmless to what the reader sees; escaping one too few is not.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["literal", "not_a_list"]

#: Characters escaped wherever they stand. Each can start or close a Markdown construct:
#: ``\\`` (escapes), `` ` `` (code), ``* _ ~`` (emphasis, strikethrough, thematic breaks),
#: ``[ ] ( ) !`` (links, images), ``< > &`` (HTML, autolinks, entities), ``#`` (headings),
#: ``+`` (lists), ``|`` (tables), ``{ }`` (Adaptive Cards' ``{{DATE(…)}}`` functions),
#: ``:`` and ``.`` (bare autolinks ``https://x.y``, ``www.x.y``, ``x@y.z``; ``1.`` lists).
#: Hyphens, apostrophes, quotes, commas and slashes stay: they are harmless inline and
#: common in names (``Müller-Lüdenscheidt``, ``O'Brien``).
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&:.])")

#: A leading ``-`` starts a list or a thematic break, a leading ``=`` a setext heading line.
_LEADING = re.compile(r"^([-=])")

#: Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they reorder
#: the text after them, so a name could make the rest of the line read differently.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_break(char: str) -> bool:
    """Control characters (``\\r \\n \\t`` NUL, NEL …), line and paragraph separators."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS


def literal(text: str) -> str:
    """``text`` as Markdown that renders as exactly ``text``, on one line.

    * Control characters, line breaks (``\\r``, ``\\n``, U+2028, U+2029 …) and bidi controls
      become a space; runs of whitespace become one space; the ends are trimmed. Without
      line breaks no block (heading, list, code block, table) can start inside the value,
      and without leading spaces it cannot become an indented code block.
    * Other invisible format characters (zero-width joiner and non-joiner, soft hyphen) are
      kept: they belong to emoji and to names in scripts like Persian, and cannot form
      Markdown. They cannot weaken the escapes below either, as every special character is
      escaped on its own.
    * Every character in ``_SPECIAL`` is backslash-escaped, and so is a leading ``-`` or
      ``=``.

    A plain name (letters, umlauts, spaces, hyphens, apostrophes) comes back unchanged.
    """
    if not text:
        return ""
    one_line = "".join(" " if _is_break(char) else char for char in text)
    one_line = " ".join(one_line.split())
    return _LEADING.sub(r"\\\1", _SPECIAL.sub(r"\\\1", one_line))


#: the start of an ordered list item: "2. " or "2) " (a date such as "2. Dez. 2026" is one)
_ORDERED_ITEM = re.compile(r"^(\d{1,9})([.)])(\s)")


def not_a_list(text: str) -> str:
    """A catalog line that begins like an ordered list item — in German a date does: "2. Dez.
    2026, 07:43: …" — would show as a numbered list starting at 2; its marker is escaped."""
    return _ORDERED_ITEM.sub(r"\1\\\2\3", text)
