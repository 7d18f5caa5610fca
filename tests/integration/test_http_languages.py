"""Each chat language through the whole journey over HTTP, typed as a client of that language
would type it: the replies are in that script, Arabic and Persian cards are right to left, the
consent event names the language version, and the counsellor's card — in German — shows the
chat language and the interpreter asked for (issue 11)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import STORE
from bot.devtools.connector_standin import LocalConnector
from bot.domain.consent import ConsentLog
from bot.domain.handoffs import Handoffs
from bot.i18n import RTL_LOCALES, Translator, translator
from cards.reading import card_actions, visible_texts
from dialogs.consent_texts import CONSENT_VERSION, consent_fingerprints
from tests.integration.test_counsellor_flow import (
    COUNSELLOR,
    invoke,
    newest_card_of,
    person,
)
from tests.support.http_bot import TENANT_ID, RunningBot, StartBot, TeamsClient
from tests.support.journey import TO_CONSENT_KEYS, settings_for_tests

CLIENT = "3f2504e0-4f89-41d3-9a0c-0305e82c3399"
SCRIPTS = {
    "uk": re.compile(r"[\u0400-\u04ff]"),
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "ar": re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]"),
    "fa": re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]"),
    "tr": re.compile(r"[a-zçğıöşüâî]", re.IGNORECASE),
}
#: words of the Latin script every language shows as they are
BRANDS = re.compile(
    r"Microsoft|Teams|Jobcenter|Bürgergeld|WLAN|Wi-?Fi|Chrome|Safari|Edge|Google|HD|GB|MB|JPG|PNG|PDF|"
    r"VB-[A-Z0-9-]+|\d{4}-\d{2}/[a-z]{2}|\d+",
    re.IGNORECASE,
)
MIN_SHARE = 0.9


@pytest.fixture
async def service(start_bot: StartBot, tmp_path: Path) -> RunningBot:
    settings = settings_for_tests(
        tmp_path, counsellor_tenant_ids=TENANT_ID, counsellor_object_ids=COUNSELLOR
    )
    return await start_bot(settings)  # the real Teams notifier


def typed(t: Translator, key: str) -> str:
    """What a client types for an answer: its first synonym in the language, else its label."""
    synonyms = t.variants(f"{key}.typed") if t.has(f"{key}.typed") else []
    return synonyms[0] if synonyms else t(key)


def shown_texts(reply: dict[str, Any]) -> list[str]:
    """What the client reads of a reply: its text and the cards' visible text blocks."""
    texts = [reply["text"]] if reply.get("text") else []
    for attachment in reply.get("attachments") or []:
        texts += visible_texts(attachment["content"].get("body", []))
    return texts


def script_share(locale: str, text: str) -> float:
    """The share of the text's letters (brand words left out) in the language's script."""
    letters = [c for c in BRANDS.sub(" ", text) if c.isalpha()]
    if not letters:
        return 1.0
    return sum(bool(SCRIPTS[locale].match(c)) for c in letters) / len(letters)


async def linked_client(
    service: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector, locale: str
) -> TeamsClient:
    counsellor = person(service, http, connector, COUNSELLOR, "Berater Test")
    await counsellor.deliver(counsellor.activity("installationUpdate", action="add"))
    await counsellor.say("Einladung")
    code = newest_card_of(counsellor)["body"][1]["text"]
    client = TeamsClient(http, service, connector, aad_object_id=CLIENT, locale=f"{locale}-XX")
    await client.install()
    await client.say(code)
    return client


@pytest.mark.parametrize("locale", sorted(SCRIPTS))
async def test_the_whole_journey_typed_in_the_clients_language(
    service: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector, locale: str
) -> None:
    t = translator(locale)
    client = await linked_client(service, http, connector, locale)
    assert client.said(t("invitation.linked"))
    for key in TO_CONSENT_KEYS:
        await client.say(typed(t, key))
        assert not client.said(t("common.not_understood")), (key, typed(t, key))
    assert client.said(t("consent.title"))
    await client.say(typed(t, "consent.answer.agree"))
    assert client.said(t("receipt.title.given"))
    assert client.said(t("interpreter.question"))
    await client.say(typed(t, "interpreter.yes"))  # for the chat's own language …
    if locale == "fa":  # … but Persian readers need Farsi or Dari: they are asked which
        assert client.said(t("interpreter.missing_language"))
        await client.say("دری")
    await client.say(f"{typed(t, 'windows.day.mon')} {typed(t, 'windows.part.morning')}")
    assert client.said(t("summary.title.consultation")), client.texts()

    replies = client.all_replies()
    for reply in replies:
        for text in shown_texts(reply):
            assert script_share(locale, text) >= MIN_SHARE, text
    cards = client.cards(replies)
    assert cards
    assert all(card.get("rtl") is (True if locale in RTL_LOCALES else None) for card in cards)

    store = service.app[STORE]
    [event] = await ConsentLog(store).events(CLIENT)
    assert event.text_version == f"{CONSENT_VERSION}/{locale}"
    settings = settings_for_tests(Path("."))
    assert (event.text_sha256, event.summary_sha256) == consent_fingerprints(t, settings)
    [handoff] = await Handoffs(store).for_client(CLIENT)
    assert handoff.locale == locale
    assert handoff.windows == ["mon-morning"]
    wanted = "fa_AF" if locale == "fa" else locale
    assert handoff.interpreter == {"language": wanted, "written": "", "status": "requested"}

    card = newest_card_of(person(service, http, connector, COUNSELLOR, "Berater Test"))
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    german = {"uk": "Ukrainisch", "ru": "Russisch", "ar": "Arabisch", "fa": "Persisch"}
    name = german.get(locale, "Türkisch")
    assert facts["Sprache im Chat"] == name
    assert facts["Dolmetscher"] == f"{'Dari' if locale == 'fa' else name} – gewünscht"
    assert "rtl" not in card


async def test_an_interpreter_for_another_language_reaches_the_counsellor_who_arranges_it(
    service: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector
) -> None:
    """Asked by command after the request (in Arabic chat, for Pashto from the list — and then
    corrected to the client's own words); the counsellor marks it arranged; the client hears."""
    t = translator("ar")
    client = await linked_client(service, http, connector, "ar")
    for label in (
        "choice.topic.job",
        "choice.type.video",
        "tech.device.smartphone",
        "tech.app.app",
        "tech.camera_mic.both",
        "tech.place.yes",
        "tech.connection.wifi",
    ):
        await client.click(t(label))
    await client.click(t("consent.answer.agree"))
    await client.click(t("interpreter.no"))
    assert client.said(t("interpreter.declined"))
    await client.click(t("common.next"), days="tue", parts="afternoon")
    assert client.said(t("summary.title.consultation"))
    counsellor = person(service, http, connector, COUNSELLOR, "Berater Test")
    facts = {f["title"]: f["value"] for f in newest_card_of(counsellor)["body"][1]["facts"]}
    assert "Dolmetscher" not in facts

    await client.say(typed(t, "command.interpreter"))
    assert client.said(t("interpreter.question"))
    await client.click(t("interpreter.yes"), interpreter_language="ps", interpreter_written="")
    assert client.said(t("interpreter.noted_later", language="البشتو"))
    card = newest_card_of(counsellor)
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts["Dolmetscher"] == "Paschtu – gewünscht"
    assert "Dolmetscher gewünscht." in [block.get("text") for block in card["body"]]

    await client.say(typed(t, "command.interpreter"))
    written = "Kurdisch [Badini](https://evil.example)"
    await client.click(t("interpreter.yes"), interpreter_language="", interpreter_written=written)
    card = newest_card_of(counsellor)
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts["Dolmetscher"].startswith("„Kurdisch \\[Badini\\]")
    assert facts["Dolmetscher"].endswith("(so geschrieben) – gewünscht")
    [arrange] = [
        action for action in _actions(card) if action.get("verb") == "interpreter_arranged"
    ]
    for _ in range(2):  # a double click arranges once and tells the client once
        status, answer = await invoke(counsellor, "interpreter_arranged", arrange["data"])
        assert status == 200
    updated = answer["value"]
    facts = {fact["title"]: fact["value"] for fact in updated["body"][1]["facts"]}
    assert facts["Dolmetscher"].endswith("– bestellt")
    assert not [a for a in _actions(updated) if a.get("verb") == "interpreter_arranged"]
    told = [reply for reply in client.take_replies() if "Kurdisch" in (reply.get("text") or "")]
    assert len(told) == 1
    assert "\\[Badini\\]" in told[0]["text"]
    [handoff] = await Handoffs(service.app[STORE]).for_client(CLIENT)
    assert handoff.interpreter["status"] == "arranged"
    await counsellor.say("Übersicht")  # the overview says it too
    assert counsellor.said("Dolmetscher: „Kurdisch \\[Badini\\]")
    assert counsellor.said("(so geschrieben) – bestellt")

    # "Meine Daten löschen": the counsellor's card keeps neither the language nor the words
    await client.say(typed(t, "command.delete"))
    await client.say(typed(t, "delete.confirm.yes"))
    card = newest_card_of(counsellor)
    assert "Kurdisch" not in str(card)
    assert "Sprache im Chat" not in str(card)


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return card_actions(card, "Action.Execute")
