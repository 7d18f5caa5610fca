"""Client-supplied text shows as text on cards, never as Markdown or HTML.

Teams renders Markdown in TextBlocks and FactSets. The texts are rendered here with
markdown-it (CommonMark plus bare-URL linkify, strikethrough and tables: more than Teams
does, so the check is on the strict side).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity
from markdown_it import MarkdownIt
from pydantic import ValidationError

import cards
import cards.reading
from bot.domain.counsellors import CaseloadEntry
from bot.domain.handoffs import Handoff
from bot.domain.interpreters import clean_written
from bot.domain.my_data import ClientRecords, Kept
from bot.domain.profiles import ClientProfile
from bot.i18n import staff_translator
from bot.techcheck_page.results import PostedResult, summarise
from cards.counsellor_cards import STAGE_ORDER, handoff_card, overview_card
from cards.markdown import literal
from cards.my_data_card import my_data_card
from cards.tech_result_cards import measured_card
from dialogs.handoff import _summary
from dialogs.session import SESSION_KEY, Session

MARKDOWN = MarkdownIt("commonmark", {"linkify": True}).enable(["linkify", "strikethrough", "table"])

FINDING = "[Termin bestätigen](https://evil.example)"
HOSTILE = [
    FINDING,
    "[x](https://evil.example)",
    "[x][1]\n\n[1]: https://evil.example",
    "https://evil.example",
    "https://evil.com/pfad?a=1",
    "www.evil.com",
    "www.evil.example",
    "evil.de",
    "mail@evil.com",
    "<https://evil.example>",
    "<mail@evil.example>",
    "**fett**",
    "__fett__",
    "*schräg*",
    "_schräg_",
    "~~durch~~",
    "~durch~",
    "# Überschrift",
    "###### klein",
    "- Liste",
    "+ Liste",
    "* Liste",
    "1. Liste",
    "1) Liste",
    "---",
    "***",
    "===",
    "> Zitat",
    "    eingerückter Code",
    "![x](https://e/x.png)",
    "![x][i]\n[i]: https://e/x.png",
    '<a href="https://e">x</a>',
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<!-- Kommentar -->",
    "&lt;b&gt;",
    "&#60;b&#62; &amp; &copy;",
    "`code`",
    "``code``",
    "```\ncode\n```",
    "~~~\ncode\n~~~",
    "{{DATE(2026-01-01T00:00:00Z, SHORT)}}",
    "{{TIME(2026-01-01T00:00:00Z)}}",
    "${title}",
    "Erika\n\n# Heading",
    "Erika\r\n---",
    "Erika\u2028# Heading\u2029- Liste",
    "Erika\tMuster\x00\x1b[31m",
    "Erika\u202eretsuM",
    "a | b\n--|--\nc | d",
    "| a | b |",
    "\\",
    "\\[x\\](https://evil.example)",
    "\\*x\\*",
    "C:\\Users\\x",
    "<at>Erika</at>",
    "<at id='0'>x</at>",
    "[Termin](javascript:alert(1))",
    "[Termin](<https://evil.example> 'Titel')",
    "Erika Muster  \nzweite Zeile",
    "::: warning :::",
    ":smile: :)",
]
PLAIN_NAMES = [
    "Jürgen Müller-Lüdenscheidt",
    "O'Brien",
    "Erika Muster",
    "Zoë Ça Øre-Straße",
    "José María Núñez",
    "Şükrü Gökçe",
    "Анна Петрова",
    "محمد علی",
    "Ngô Bảo Châu",
    "Anne-Marie d'Aubigné",
    'Karl "Kalle" Schmidt',
    "Erika Muster, geb. Beispiel",
    "Erika/Max Muster",
]
#: names with characters that are escaped, but render as themselves
ESCAPED_NAMES = ["Dr. Anna Schmidt", "Muster (geb. Beispiel)", "Anna_Maria", "A & B"]

ALLOWED_TAGS = {"p", "ul", "li", "br"}  # catalog texts may use "- " lists
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def rendered(markdown: str) -> str:
    return MARKDOWN.render(markdown)


def tags(rendered_html: str) -> set[str]:
    return {name.lower() for name in re.findall(r"</?\s*([a-zA-Z][^\s>/]*)", rendered_html)}


def visible(rendered_html: str) -> str:
    """What a reader sees: tags removed, entities resolved, whitespace normalised."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", rendered_html)).split())


def normalised(text: str) -> str:
    return " ".join(_BREAKS.sub(" ", text).split())


# --- the function ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE + PLAIN_NAMES + ESCAPED_NAMES)
def test_literal_renders_as_exactly_the_text(text: str) -> None:
    out = rendered(literal(text))
    assert tags(out) <= {"p"}, out
    assert visible(out) == normalised(text)


def unescaped(escaped: str) -> str:
    """The characters of ``escaped`` that no backslash escapes."""
    bare, characters = [], iter(escaped)
    for char in characters:
        if char == "\\":
            next(characters, None)
        else:
            bare.append(char)
    return "".join(bare)


@pytest.mark.parametrize("text", HOSTILE)
def test_literal_is_one_line_without_raw_markup(text: str) -> None:
    escaped = literal(text)
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", escaped)
    assert not set(unescaped(escaped)) & set("\\`*_{}[]()<>#+!|~&:.")
    assert not escaped.startswith(("-", "="))
    assert "](" not in escaped
    assert "{{" not in escaped


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_plain_names_stay_as_they_are(name: str) -> None:
    assert literal(name).count("\\") == name.count(".")  # only "geb." gets one
    assert literal(name).replace("\\.", ".") == name


def test_only_what_markdown_needs_is_escaped() -> None:
    assert literal("Jürgen Müller-Lüdenscheidt") == "Jürgen Müller-Lüdenscheidt"
    assert literal("O'Brien") == "O'Brien"
    assert literal("-Anna") == "\\-Anna"
    assert literal("=Anna") == "\\=Anna"
    assert literal("Anna-Maria = Anna") == "Anna-Maria = Anna"
    assert literal("+4917012345678") == "\\+4917012345678"
    assert literal(FINDING) == "\\[Termin bestätigen\\]\\(https\\://evil\\.example\\)"
    assert literal("  Erika \n\n Muster  ") == "Erika Muster"
    assert literal("") == ""
    assert literal("\n\t\u2028") == ""


def test_joiners_in_names_and_emoji_are_kept() -> None:
    persian = "نرگس\u200cزاده"  # the zero-width non-joiner belongs to the spelling
    family = "Erika 👨\u200d👩\u200d👧"
    assert literal(persian) == persian
    assert literal(family) == family


# --- every card ------------------------------------------------------------------------------

T = staff_translator("de")  # counsellor cards, and the client cards built alongside
HOSTILE_NAME = "[Termin](https://evil.example) **fett** <b>x</b> {{DATE(2026-01-01T00:00:00Z)}}"
HOSTILE_PHONE = "+49 [171](tel:0) <b>1</b>"
HOSTILE_USER_AGENT = (
    "Mozilla/5.0 [Termin](https://evil.example) <img src=x> **fett** "
    "AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36"
)


def _handoff(**changes: Any) -> Handoff:
    values: dict[str, Any] = {
        "handoff_id": "h-1",
        "client_id": "c-1",
        "client_name": HOSTILE_NAME,
        "purpose": "consultation",
        "consultation_type": "video",
        "topic": "application",
        "windows": ["mon-morning", "tue-afternoon"],
        "tech": {
            "outcome": "ready_with_advice",
            "advice": ["tech.advice.volume_tight"],
            "mb_60_min": 450,
            "measured": _measured(),
        },
        "consent_status": "pending_verification",
        "receipt_id": "VB-TEST-0001",
        "phone": HOSTILE_PHONE,
        "delivery": {"c": "not_installed"},
    }
    return Handoff(**{**values, **changes})


def _measured() -> dict[str, Any]:
    """A real result, judged from a hostile User-Agent."""
    posted = PostedResult.model_validate(
        {
            "camera": {"status": "ok", "width": 1280, "height": 720, "fps": 30},
            "microphone": {"status": "silent"},
            "speaker": {"status": "heard"},
            "connection": {"status": "ok", "down_kbps": 8000, "up_kbps": 3000, "rtt_ms": 40},
            "browser": {"webrtc": True},
        }
    )
    return summarise(posted, HOSTILE_USER_AGENT)


def _context() -> TurnContext:
    context = TurnContext(TestAdapter(), Activity(type="message"))
    context.turn_state[SESSION_KEY] = Session(locale="de")
    return context


def _content(activity: Activity) -> dict[str, Any]:
    return activity.attachments[0].content


def _handoff_cards() -> Iterator[tuple[dict[str, Any], list[str]]]:
    for name in [*HOSTILE, *PLAIN_NAMES]:
        yield handoff_card(T, _handoff(client_name=name)), [name]
    for changes in (
        {"purpose": "tech_help", "consultation_type": "phone"},
        {"status": "scheduled", "meeting": {"start": "2026-12-01T10:00:00+01:00"}},
        {"phone_offer": "offered"},
    ):
        yield handoff_card(T, _handoff(**changes), event="consent_withdrawn"), [HOSTILE_NAME]
    for written in HOSTILE:  # the interpreter's language in the client's own words
        wish = {"written": written, "status": "requested"}
        shown = clean_written(written)
        yield handoff_card(T, _handoff(interpreter=wish, locale="ar")), [HOSTILE_NAME, shown]


def _overview_cards() -> Iterator[tuple[dict[str, Any], list[str]]]:
    names = [*HOSTILE, *PLAIN_NAMES]
    entries = [
        CaseloadEntry(f"c-{number}", name, STAGE_ORDER[number % len(STAGE_ORDER)], topic="other")
        for number, name in enumerate(names)
    ]
    yield _content(overview_card(T, entries)), names


def _summary_cards() -> Iterator[tuple[dict[str, Any], list[str]]]:
    for purpose in ("consultation", "tech_help"):
        yield _content(_summary(_context(), _handoff(purpose=purpose))), [HOSTILE_PHONE]
    for written in HOSTILE:
        handoff = _handoff(interpreter={"written": written, "status": "requested"})
        yield _content(_summary(_context(), handoff)), [HOSTILE_PHONE, clean_written(written)]


def _tech_result_cards() -> Iterator[tuple[dict[str, Any], list[str]]]:
    yield _content(measured_card(T, _measured())), []


def _my_data_cards() -> Iterator[tuple[dict[str, Any], list[str]]]:
    """What is stored about a client, shown back to them: their name, number and words."""
    now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    for written in HOSTILE:
        handoff = _handoff(interpreter={"written": written, "status": "requested"})
        records = ClientRecords(
            read_at=now,
            profile=Kept(ClientProfile("c-1", topic="application", windows=["mon-morning"]), now),
            handoffs=[Kept(handoff, now)],
            overview=[Kept(CaseloadEntry("c-1", HOSTILE_NAME, "ready"), now)],
        )
        card = my_data_card(T, records, "https://bot.example.org/my-data/x", "https://p.example")
        yield _content(card), [HOSTILE_PHONE, clean_written(written), HOSTILE_NAME]


#: templates that show something a client supplied, and how to build them with hostile values
SHOWS_CLIENT_DATA: dict[str, Callable[[], Iterator[tuple[dict[str, Any], list[str]]]]] = {
    "handoff_notification": _handoff_cards,
    "overview": _overview_cards,
    "handoff_summary": _summary_cards,
    "tech_result": _tech_result_cards,  # the browser's measurements, User-Agent
    "my_data": _my_data_cards,  # the client's own name, phone number and words
}
#: templates that never show client-supplied data
NO_CLIENT_DATA = {
    "benefits_offer": "catalog texts and a server-made card id (inside Action.Submit data only)",
    "appointment": "meeting time set by the counsellor, topic as a choice id, catalog texts",
    "consent": "catalog texts and the jobcenter's settings; the retry text is a catalog key",
    "help": "catalog texts and the jobcenter's phone and address from the settings",
    "interpreter": "catalog texts and CLDR language names; what the client wrote is not echoed",
    "invitation": "counsellor's card: a server-made code, its expiry and deep link",
    "language": "catalog names of the supported languages",
    "phone": "catalog texts; an invalid number is never echoed back",
    "phone_offer": "catalog texts and the handoff id (inside Action.Submit data only)",
    "question": "catalog texts; parameters come from code, answers are choice ids",
    "receipt": "server-made receipt id and time, text version, method as a catalog key",
    "stats": "team leads' card: counters and catalog labels; no client behind any number",
    "time_windows": "catalog day and daypart labels",
    "welcome": "catalog texts and the jobcenter's name from the settings",
}


def test_every_template_is_classified() -> None:
    """A new template must go into one of the lists, with its builder or with a reason."""
    assert not set(SHOWS_CLIENT_DATA) & set(NO_CLIENT_DATA)
    assert set(SHOWS_CLIENT_DATA) | set(NO_CLIENT_DATA) == set(cards.template_names())


def markdown_texts(node: Any) -> Iterator[str]:
    """Every text Teams renders as Markdown: TextBlock texts, FactSet titles and values."""
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            yield str(node.get("text", ""))
        if node.get("type") == "FactSet":
            for fact in node.get("facts", []):
                yield str(fact["title"])
                yield str(fact["value"])
        for value in node.values():
            yield from markdown_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from markdown_texts(item)


def _built(template: str) -> list[tuple[dict[str, Any], list[str]]]:
    used: list[str] = []
    render = cards.render

    def recording(name: str, data: Any) -> dict[str, Any]:
        used.append(name)
        return render(name, data)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cards, "render", recording)
        built = list(SHOWS_CLIENT_DATA[template]())
    assert built
    assert set(used) == {template}  # the builder really renders this template
    return built


@pytest.mark.parametrize("template", sorted(SHOWS_CLIENT_DATA))
def test_client_values_on_cards_render_as_text(template: str) -> None:
    for card, shown in _built(template):
        texts = [*markdown_texts(card), card["fallbackText"]]
        outputs = [rendered(text) for text in texts]
        for text, out in zip(texts, outputs, strict=True):
            assert tags(out) <= ALLOWED_TAGS, (text, out)
            assert not re.search(r"<[^>]*\s(href|src)\s*=", out), (text, out)
        seen = " | ".join(visible(out) for out in outputs)
        for value in shown:
            assert normalised(value) in seen
        assert "evil.example" not in " ".join(texts).replace("evil\\.example", "")
        assert "Mozilla" not in seen  # the User-Agent never shows
        assert "Chrome/131" not in seen


def test_plain_names_appear_unchanged_on_the_cards() -> None:
    for name in PLAIN_NAMES:
        if "." in name:
            continue
        card = handoff_card(T, _handoff(client_name=name))
        assert card["body"][0]["items"][0]["text"] == f"Anfrage: {name}"
        assert card["fallbackText"].startswith(f"Anfrage: {name}\n")
        overview = _content(overview_card(T, [CaseloadEntry("c-1", name, "ready")]))
        assert any(text.startswith(f"{name}: ") for text in cards.reading.card_texts(overview))


def test_a_name_of_only_markup_whitespace_falls_back_to_the_neutral_label() -> None:
    card = handoff_card(T, _handoff(client_name=" \n\t\u2028 "))
    assert card["body"][0]["items"][0]["text"] == "Anfrage: Kundin/Kunde"


def test_browser_results_carry_no_free_text() -> None:
    """What the page posts is validated: words from fixed lists and bounded numbers."""
    with pytest.raises(ValidationError):
        PostedResult.model_validate(
            {
                "camera": {"status": FINDING},
                "microphone": {"status": "ok"},
                "speaker": {"status": "heard"},
                "connection": {"status": "ok"},
                "browser": {"webrtc": True},
            }
        )
    browser = _measured()["browser"]
    assert browser == {"name": "chrome", "version": 131, "mobile": False, "verdict": "ok"}


# --- the finding -----------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", ["consultation", "tech_help"])
def test_a_display_name_cannot_put_a_link_on_the_counsellors_card(purpose: str) -> None:
    """Regression: ``[Termin bestätigen](https://evil.example)`` was a clickable link."""
    card = handoff_card(T, _handoff(client_name=FINDING, purpose=purpose))
    overview = _content(overview_card(T, [CaseloadEntry("c-1", FINDING, "ready")]))
    for each in (card, overview):
        assert "](https://" not in json.dumps(each, ensure_ascii=False)
        for text in [*markdown_texts(each), each["fallbackText"]]:
            assert "<a" not in rendered(text)
    title = card["body"][0]["items"][0]["text"]
    assert visible(rendered(title)).endswith(FINDING)


@pytest.mark.node
def test_cards_with_hostile_values_still_parse_without_warnings() -> None:
    from tests.support.adaptive_cards import parse_cards

    built = [card for template in SHOWS_CLIENT_DATA for card, _ in _built(template)]
    problems = [events for events in parse_cards(built) if events]
    assert problems == []
