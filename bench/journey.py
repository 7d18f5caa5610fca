"""What one simulated client does: Teams-like activities, the journey script, the echo script.

A :class:`SimulatedClient` posts one activity at a time to the bot and takes the replies the
bot sent to the :class:`ReplyRouter` (a listener on a ``LocalConnector``) during that turn:
the bot answers the POST only after its turn, so by then every reply has arrived.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.devtools.connector_standin import ConnectorCall
from bot.devtools.teams_activity import PersonalChat
from bot.i18n import translator
from cards.reading import card_actions, card_texts

JsonDict = dict[str, Any]
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT_ID = "28:9e1a7f3c-5b2d-4c8e-a1f0-3d6b8c2e4f71"

#: what the client must see at each step, from the German catalog
_t = translator("de")
WELCOME = _t("welcome.title")
TOPIC = _t("choice.topic")
TYPE = _t("choice.type")
DEVICE = _t("tech.device")
APP = _t("tech.app")
CAMERA = _t("tech.camera_mic")
PLACE = _t("tech.place")
CONNECTION = _t("tech.connection")
VOLUME = _t("tech.volume")
TECH_READY_WITH_ADVICE = _t("tech.result.ready_with_advice")
CONSENT = _t("consent.title")
RECEIPT = _t("receipt.title.given")
WINDOWS = _t("windows.question.consultation")
SUMMARY = _t("summary.title.consultation")
SUMMARY_TOPIC = f"{_t('summary.topic')}: {_t('choice.topic.application')}"


@dataclass(frozen=True)
class Step:
    """One turn of a script: ``install``, a ``click`` on a button title, or ``say`` a text."""

    name: str
    action: str
    argument: str = ""
    inputs: Mapping[str, str] = field(default_factory=dict)
    expect: tuple[str, ...] = ()


#: The whole journey as tests/integration/test_http_journey.py walks it (install + 10 turns).
JOURNEY: tuple[Step, ...] = (
    Step("install", "install", expect=(WELCOME, TOPIC)),
    Step("topic", "click", "Bewerbung (Lebenslauf, Anschreiben)", expect=(TYPE,)),
    Step("consultation_type", "click", "Per Video", expect=(DEVICE,)),
    Step("device", "click", "Smartphone (Handy)", expect=(APP,)),
    Step("app", "click", "Ja, die Teams-App", expect=(CAMERA,)),
    Step("camera_mic", "click", "Ja, beides", expect=(PLACE,)),
    Step("place", "click", "Ja", expect=(CONNECTION,)),
    Step("connection", "click", "Mobile Daten (begrenzt)", expect=(VOLUME,)),
    Step("volume_typed", "say", "1,5 GB", expect=(TECH_READY_WITH_ADVICE, CONSENT)),
    Step("consent", "click", "Ja, ich bin einverstanden", {}, expect=(RECEIPT, WINDOWS)),
    Step(
        "time_windows",
        "click",
        "Weiter",
        {"days": "mon,wed", "parts": "morning"},
        expect=(SUMMARY, SUMMARY_TOPIC),
    ),
)

#: The same number of turns for the echo bot, each a typed message answered with "Echo: …".
ECHO: tuple[Step, ...] = tuple(
    Step(f"echo_{number:02d}", "say", text)
    for number, text in enumerate(
        [
            "Hallo",
            "Bewerbung (Lebenslauf, Anschreiben)",
            "Per Video",
            "Smartphone (Handy)",
            "Ja, die Teams-App",
            "Ja, beides",
            "Ja",
            "Mobile Daten (begrenzt)",
            "1,5 GB",
            "Ja, ich bin einverstanden",
            "Weiter",
        ],
        start=1,
    )
)

SCRIPTS: dict[str, tuple[Step, ...]] = {"journey": JOURNEY, "echo": ECHO}


class JourneyFailedError(Exception):
    """The bot did not answer a turn as the script expects."""


def json_size(body: Any) -> int:
    """UTF-8 bytes of compact JSON, the way the bot's store and a lean client serialise."""
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())


class ReplyRouter:
    """Listener for ``LocalConnector.add_listener``: the bot's activities, per conversation."""

    def __init__(self) -> None:
        self._pending: dict[str, list[JsonDict]] = defaultdict(list)
        self.json_bytes: dict[str, int] = defaultdict(int)
        self.wire_bytes: dict[str, int] = defaultdict(int)
        self.activities: dict[str, int] = defaultdict(int)

    def __call__(self, call: ConnectorCall) -> None:
        if call.kind not in ("send", "reply") or call.body is None or not call.conversation_id:
            return
        conversation = call.conversation_id
        self._pending[conversation].append(call.body)
        self.json_bytes[conversation] += json_size(call.body)
        self.wire_bytes[conversation] += int(call.headers.get("content-length") or 0)
        self.activities[conversation] += 1

    def take(self, conversation_id: str) -> list[JsonDict]:
        """Replies that arrived since the last call."""
        return self._pending.pop(conversation_id, [])

    def forget(self, conversation_id: str) -> tuple[int, int, int]:
        """Drop what is kept for a conversation; returns (JSON bytes, wire bytes, activities)."""
        self._pending.pop(conversation_id, None)
        return (
            self.json_bytes.pop(conversation_id, 0),
            self.wire_bytes.pop(conversation_id, 0),
            self.activities.pop(conversation_id, 0),
        )


@dataclass
class TurnRecord:
    step: str
    seconds: float
    status: int


@dataclass
class JourneyResult:
    """One simulated client's run; ``ok`` only if every turn got the expected answer."""

    index: int
    ok: bool = False
    failure: str | None = None
    turns: list[TurnRecord] = field(default_factory=list)
    reply_json_bytes: int = 0
    reply_wire_bytes: int = 0
    reply_activities: int = 0


class SimulatedClient:
    """One client in a Teams personal chat, talking to the bot over HTTP."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        bot_url: str,
        service_url: str,
        router: ReplyRouter,
        *,
        seed: str,
    ) -> None:
        self.http = http
        self.bot_url = bot_url
        self.service_url = service_url
        self.router = router
        self.aad_object_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench:{seed}"))
        self.user_id = f"29:1{self.aad_object_id.replace('-', '')}"
        self.conversation_id = f"a:1{uuid.uuid5(uuid.NAMESPACE_URL, self.aad_object_id).hex}"
        self.name = "Erika Muster"
        self.last_card: JsonDict | None = None
        self.last_posted: JsonDict | None = None

    # --- activities ------------------------------------------------------------------

    def activity(self, activity_type: str = "message", **fields: Any) -> JsonDict:
        return PersonalChat(
            self.service_url,
            self.conversation_id,
            TENANT_ID,
            {"id": self.user_id, "name": self.name, "aadObjectId": self.aad_object_id},
            {"id": BOT_ID, "name": "Videoberatung"},
        ).activity(activity_type, **fields)

    def build(self, step: Step) -> JsonDict:
        if step.action == "install":
            return self.activity(
                "conversationUpdate",
                membersAdded=[{"id": BOT_ID}],
                channelData={"tenant": {"id": TENANT_ID}, "eventType": "conversationUpdate"},
            )
        if step.action == "say":
            return self.activity("message", textFormat="plain", text=step.argument)
        if step.action == "click":
            if self.last_card is None:
                raise JourneyFailedError(f"{step.name}: no card to click {step.argument!r} on")
            data = button_data(self.last_card, step.argument)
            if data is None:
                titles = [action.get("title") for action in submit_actions(self.last_card)]
                raise JourneyFailedError(f"{step.name}: no button {step.argument!r} in {titles}")
            return self.activity("message", textFormat="plain", value={**data, **step.inputs})
        raise ValueError(f"unknown action {step.action!r}")

    # --- one turn ----------------------------------------------------------------------

    async def turn(self, step: Step, result: JourneyResult, *, echo: bool) -> list[JsonDict]:
        """POST the step's activity, time it, check the replies; raises on a wrong answer."""
        body = self.last_posted = self.build(step)
        started = time.perf_counter()
        async with self.http.post(self.bot_url, json=body) as response:
            await response.read()
            status = response.status
        elapsed = time.perf_counter() - started
        result.turns.append(TurnRecord(step.name, elapsed, status))
        replies = self.router.take(self.conversation_id)
        if status not in (200, 201):
            raise JourneyFailedError(f"{step.name}: HTTP {status}")
        if echo:
            wanted = f"Echo: {step.argument}"
            if not any(reply.get("text") == wanted for reply in replies):
                raise JourneyFailedError(f"{step.name}: no echo reply ({len(replies)} replies)")
            return replies
        seen = texts(replies)
        missing = [fragment for fragment in step.expect if not any(fragment in t for t in seen)]
        if missing:
            raise JourneyFailedError(f"{step.name}: the bot did not say {missing}")
        found = cards(replies)
        if found:
            self.last_card = found[-1]
        return replies

    async def run(
        self,
        script: Sequence[Step],
        index: int,
        think: Callable[[], float] | None = None,
    ) -> JourneyResult:
        """Every step of ``script``; the journey only counts if the last one checks out.

        ``think`` gives the seconds the client pauses before each turn after the first.
        """
        result = JourneyResult(index)
        echo = script is ECHO
        replies: list[JsonDict] = []
        try:
            for number, step in enumerate(script):
                if think is not None and number:
                    await asyncio.sleep(think())
                replies = await self.turn(step, result, echo=echo)
            if not echo and not reached_summary(replies):
                raise JourneyFailedError("the last turn did not send the summary card")
            result.ok = True
        except JourneyFailedError as error:
            result.failure = str(error)
        except (aiohttp.ClientError, TimeoutError) as error:
            step = script[len(result.turns)] if len(result.turns) < len(script) else script[-1]
            result.failure = f"{step.name}: {type(error).__name__} {error}".strip()
        finally:
            json_bytes, wire_bytes, activities = self.router.forget(self.conversation_id)
            result.reply_json_bytes = json_bytes
            result.reply_wire_bytes = wire_bytes
            result.reply_activities = activities
        return result


# --- reading what the bot sent ---------------------------------------------------------


def cards(replies: list[JsonDict]) -> list[JsonDict]:
    return [
        attachment["content"]
        for reply in replies
        for attachment in reply.get("attachments") or []
        if isinstance(attachment, dict) and attachment.get("contentType") == ADAPTIVE
    ]


def texts(replies: list[JsonDict]) -> list[str]:
    """Plain texts and the text blocks (and facts) of cards."""
    seen: list[str] = []
    for reply in replies:
        if isinstance(reply.get("text"), str) and reply["text"]:
            seen.append(reply["text"])
        for card in cards([reply]):
            seen.extend(card_texts(card))
    return seen


def reached_summary(replies: list[JsonDict]) -> bool:
    """The handoff summary card: its title and the chosen topic, inside an Adaptive Card."""
    for card in cards(replies):
        found = card_texts(card)
        if SUMMARY in found and SUMMARY_TOPIC in found:
            return True
    return False


def submit_actions(card: JsonDict) -> list[JsonDict]:
    return card_actions(card, "Action.Submit")


def button_data(card: JsonDict, title: str) -> JsonDict | None:
    for action in submit_actions(card):
        if action.get("title") == title:
            return dict(action.get("data") or {})
    return None
