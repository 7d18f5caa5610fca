"""Measured, not guessed: how much the client reads on the happy path, in German and English,
held to the bounds of plain language (issue 10). ``pytest -s`` prints the figures (README)."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.i18n import translator
from bot.storage import DocumentStore
from cards.reading import visible_texts
from tests.support.journey import ADAPTIVE, Chat
from tests.support.plain_language import Figures

#: the bounds: at most 12 words in a sentence, short sentences on average, and no message
#: longer than a phone screen
MAX_WORDS_PER_SENTENCE = 12
MAX_MEAN_WORDS_PER_SENTENCE = 8.0
MAX_SENTENCES_PER_CARD = 7
MAX_WORDS_PER_CARD = 60

HAPPY_PATH = [
    ("choice.topic", "application"),
    ("choice.type", "video"),
    ("tech.device", "computer"),
    ("tech.app", "app"),
    ("tech.camera_mic", "both"),
    ("tech.place", "yes"),
    ("tech.connection", "wifi"),
    ("consent.answer", "agree"),
]


def messages(chat: Chat) -> list[list[str]]:
    """Each reply's prose as the client reads it: cards without what they hide until tapped,
    and without fact lines (a receipt number or the chosen times are data, not sentences)."""
    read = []
    for reply in chat.last_replies:
        texts = [reply.text] if reply.text else []
        for attachment in reply.attachments or []:
            if attachment.content_type == ADAPTIVE:
                texts += visible_texts(attachment.content["body"], facts=False)
        if texts:
            read.append(texts)
    return read


async def happy_path(settings: Settings, store: DocumentStore, locale: str) -> Figures:
    t = translator(locale)
    chat = Chat(settings, store, locale=locale)
    read = []
    await chat.install()
    read += messages(chat)
    for question, answer in HAPPY_PATH:
        await chat.click(t(f"{question}.{answer}"))
        read += messages(chat)
    if locale != "de":  # a chat in another language is asked about an interpreter
        await chat.click(t("interpreter.no"))
        read += messages(chat)
    await chat.click(t("common.next"), days="mon,thu", parts="morning")
    read += messages(chat)
    assert chat.said(t("summary.title.consultation"))
    return Figures(read)


@pytest.mark.parametrize("locale", ["de", "en"])
async def test_the_happy_path_reads_plainly(
    settings: Settings, store: DocumentStore, locale: str
) -> None:
    figures = await happy_path(settings, store, locale)
    print(f"\n{locale}: {figures.summary()}; longest: {figures.longest_sentence!r}")
    assert figures.max_words_per_sentence <= MAX_WORDS_PER_SENTENCE, figures.longest_sentence
    assert figures.mean_words_per_sentence <= MAX_MEAN_WORDS_PER_SENTENCE
    for (sentences, words), card in zip(figures.per_card(), figures.cards, strict=True):
        assert sentences <= MAX_SENTENCES_PER_CARD, card
        assert words <= MAX_WORDS_PER_CARD, card


def test_the_figures_count_as_a_reader_would() -> None:
    figures = Figures(
        [["Ihr Ja (Einwilligung)", "- Das ist gut. Wirklich? Ja!"], ["Thema: Arbeit"]]
    )
    assert figures.all_sentences == [
        "Ihr Ja (Einwilligung)",
        "Das ist gut.",
        "Wirklich?",
        "Ja!",
        "Thema: Arbeit",
    ]
    assert figures.max_words_per_sentence == 3
    assert figures.per_card() == [(4, 8), (1, 2)]
