"""Reading figures of what the client reads: words per sentence, sentences and words per card.

A sentence ends at ".", "!" or "?" followed by a space or the end; a heading or a fact line
without a full stop counts as one sentence. List bullets ("- ") are not words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import mean

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_BULLET = re.compile(r"^\s*[-•]\s+")


def sentences(text: str) -> list[str]:
    text = _BULLET.sub("", text.strip())
    return [part for part in _SENTENCE_END.split(text) if part.strip()]


def words(sentence: str) -> int:
    return len(sentence.split())


@dataclass(frozen=True)
class Figures:
    """What one path through the chat asks the client to read."""

    cards: list[list[str]]  # each message's visible texts

    @property
    def all_sentences(self) -> list[str]:
        return [s for card in self.cards for text in card for s in sentences(text)]

    @property
    def max_words_per_sentence(self) -> int:
        return max(words(sentence) for sentence in self.all_sentences)

    @property
    def mean_words_per_sentence(self) -> float:
        return mean(words(sentence) for sentence in self.all_sentences)

    @property
    def longest_sentence(self) -> str:
        return max(self.all_sentences, key=words)

    def per_card(self) -> list[tuple[int, int]]:
        """(sentences, words) of each message."""
        return [
            (
                sum(len(sentences(text)) for text in card),
                sum(words(s) for text in card for s in sentences(text)),
            )
            for card in self.cards
        ]

    def summary(self) -> str:
        per_card = self.per_card()
        return (
            f"{len(self.cards)} messages, {len(self.all_sentences)} sentences; words per sentence "
            f"max {self.max_words_per_sentence}, mean {self.mean_words_per_sentence:.1f}; per "
            f"message at most {max(s for s, _ in per_card)} sentences and "
            f"{max(w for _, w in per_card)} words"
        )
