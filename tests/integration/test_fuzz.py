"""A seeded fuzz test: about 2,900 mutated requests to the real service over loopback HTTP.

Every request must be answered below 500 (and with the promised status where there is one),
and while it runs the log must stay clean: no record with a traceback, no ``turn failed``
from ``bot.hosting.adapter``, no ERROR at all. Afterwards the bot still answers a normal message and
``/readyz`` is 200. The same seed sends the same requests; a failure lists per kind how many
requests failed and the shortest example (``#index`` is the request's place in the run).

The random phase draws from families (``FAMILIES``): activities with one to three mutations
from ``ACTIVITY_MUTATIONS``; clicks on the real cards of the journey with odd inputs; bursts
of both at once; raw bodies (``BODIES``); odd headers, methods and paths; raw bytes on a
socket (``SOCKET_CASES``: what no HTTP client sends); and the tech-check API with forged,
expired and real tokens. Then the tours (``STOPS``): a fresh client walks to each question of
the journey and answers it with each odd type (``ODD_ANSWERS``).

Each request is bounded by ``asyncio.timeout``; as the service runs on the test's own event
loop, a request that keeps the CPU busy would stop that timeout from firing, so a watchdog
signal interrupts it and reports where it was. Every URL in a request is loopback (the
LocalConnector, or the unroutable ``http://127.0.0.1:9/``); non-loopback service URLs are sent
only where the service must refuse them, and a guard fails the test if anything tries to
leave the machine.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import Any
from urllib.parse import urlparse

import aiohttp
import pytest

from bot.app import ADAPTER
from bot.config import Settings, is_loopback
from bot.devtools.connector_standin import LocalConnector
from bot.domain.techcheck_links import MAX_TOKEN_CHARS, LinkClaims, codec_for
from tests.support.fuzz import (
    HUGE,
    EventLoopBlocked,
    Failures,
    FuzzRequest,
    LogWatch,
    Outcome,
    RootLogging,
    TurnErrors,
    Watchdog,
    encode,
    http_request,
    nested_bytes,
    odd_id,
    odd_scalar,
    odd_value,
    pytest_log_handlers,
    send,
    shorten,
)
from tests.support.http_bot import BOT_ID, RunningBot, TeamsClient, submit_actions
from tests.support.journey import CollectingNotifier, settings_for_tests
from tests.support.network import NetworkSpy
from tests.support.techcheck import GOOD_RESULT
from tests.support.texts import TOPIC_QUESTION

pytestmark = pytest.mark.slow

SEED = 4171
#: requests per family of the random phase: 2,672 (a burst is eight requests at once); the
#: tours add about 200 more (``STOPS``)
FAMILIES = {
    "activity": 1300,
    "burst": 20,  # 8 requests each, sent at the same time
    "journey": 400,
    "body": 260,
    "http": 150,
    "socket": 72,  # three of each case
    "techcheck": 330,
}
REQUEST_TIMEOUT = 5.0  # seconds; a hang fails the request instead of blocking the test
MAX_TIMEOUTS = 6  # then the run stops: the service is stuck
TIME_BUDGET = 75.0  # seconds for all fuzz requests together

COUNSELLOR = "c0ffee00-0000-4000-8000-0000000f0001"
CLIENTS = [f"f0220000-0000-4000-8000-00000000000{n}" for n in range(5)]
UNROUTABLE = "http://127.0.0.1:9/"
LIMIT = 256 * 1024
RESULT_LIMIT = 4096


# --- the service under test ------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """As in the other integration tests, plus one counsellor, so the desk is fuzzed too."""
    return settings_for_tests(tmp_path, counsellor_object_ids=COUNSELLOR)


@dataclass
class Fuzz:
    """What the generators need: the people in the chats and what the warm-up produced."""

    rng: Random
    bot: RunningBot
    connector: LocalConnector
    clients: list[TeamsClient]
    counsellor: TeamsClient
    settings: Settings
    token: str = ""  # a real tech-check token, registered on clients[0]'s profile
    handoffs: list[str] = field(default_factory=list)
    pinned: TeamsClient | None = None  # during a burst: everything in one conversation
    sockets_sent: int = 0

    @property
    def people(self) -> list[TeamsClient]:
        return [*self.clients, self.counsellor]

    def person(self) -> TeamsClient:
        """Anyone: a client or the counsellor."""
        return self.pinned or self.rng.choice(self.people)

    def traveller(self) -> TeamsClient:
        """A client still on the journey (client 0 finished it in the warm-up)."""
        return self.pinned or self.rng.choice(self.clients[1:])


def name_of(fuzz: Fuzz, who: TeamsClient) -> str:
    return "counsellor" if who is fuzz.counsellor else f"client{fuzz.clients.index(who)}"


# --- activities: a table of mutations ----------------------------------------------------------

ACTIVITY_TYPES = [
    "message",
    "conversationUpdate",
    "installationUpdate",
    "invoke",
    "event",
    "messageReaction",
    "typing",
    "endOfConversation",
    "messageUpdate",
    "messageDelete",
    "contactRelationUpdate",
    "deleteUserData",
    "handoff",
    "trace",
    "command",
    "commandResult",
    "suggestion",
    "MESSAGE",
    "fuzz",
    " message",
    "message\x00",
    "\ud800",
]
INVOKE_NAMES = [
    "adaptiveCard/action",
    "task/fetch",
    "task/submit",
    "composeExtension/query",
    "composeExtension/submitAction",
    "composeExtension/fetchTask",
    "signin/verifyState",
    "signin/tokenExchange",
    "fileConsent/invoke",
    "actionableMessage/executeAction",
    "healthCheck",
    "config/fetch",
    "config/submit",
    "tab/fetch",
    "application/search",
    "fuzz/random",
    "",
]
DESK_VERBS = [
    "schedule",
    "consent_verified",
    "consent_rejected",
    "tech_help_done",
    "offer_phone",
    "close",
    "refresh",
    "fuzz",
]
BAD_REQUEST = frozenset({400})


#: changes the activity in place and answers a short label of what it did
Mutation = Callable[[Random, dict[str, Any], Fuzz], str]


def short(value: Any) -> str:
    return shorten(repr(value), 70)


def mutate_type(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    value = rng.choice([*ACTIVITY_TYPES, "", 1, None, ["message"], {"type": "message"}])
    activity["type"] = value
    return f"type={short(value)}"


def invoke_value(rng: Random, name: str) -> Any:
    if name == "adaptiveCard/action" and rng.random() < 0.7:
        return {"action": odd_action(rng), "trigger": rng.choice(["manual", "automatic", 1])}
    if name.startswith("signin/") and rng.random() < 0.5:
        return {"id": odd_id(rng), "connectionName": odd_scalar(rng), "token": odd_scalar(rng)}
    return odd_value(rng)


def odd_action(rng: Random) -> Any:
    return rng.choice(
        [
            lambda: odd_value(rng),
            lambda: {"type": "Action.Submit", "data": odd_value(rng)},
            lambda: {"type": "Action.Execute", "data": {}},  # no verb
            lambda: {"type": "Action.Execute", "verb": odd_value(rng), "data": {}},
            lambda: {"type": "Action.Execute", "verb": "schedule", "data": odd_value(rng)},
            lambda: {"type": odd_scalar(rng), "verb": rng.choice(DESK_VERBS)},
        ]
    )()


def mutate_invoke(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    name = rng.choice([*INVOKE_NAMES, odd_scalar(rng)])
    activity.update(type="invoke", name=name, value=invoke_value(rng, str(name)))
    return f"invoke name={short(name)} value={short(activity['value'])}"


def mutate_desk_action(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    """Action.Execute from the counsellor on the warm-up's real handoff, with odd data."""
    data: dict[str, Any] = {
        "client": fuzz.clients[0].aad_object_id,
        "handoff": rng.choice(fuzz.handoffs),
        "date": (date.today() + timedelta(days=rng.randrange(1, 30))).isoformat(),
        "time": "10:00",
    }
    key = rng.choice(list(data))
    if rng.random() < 0.6:
        data[key] = rng.choice(
            [odd_value(rng), "nope", "2031-02-30", "1999-01-01", "25:61", "", "10:00:00"]
        )
    verb = rng.choice(DESK_VERBS)
    activity.update(
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": verb, "data": data}},
        **{"from": dict(fuzz.counsellor.activity()["from"])},
    )
    return f"desk verb={verb} {key}={short(data[key])}"


def mutate_value(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    activity["value"] = odd_value(rng)
    return f"value={short(activity['value'])}"


def mutate_submit(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    """A card submit whose well-known keys have odd types."""
    activity["type"] = "message"
    value: dict[str, Any] = {}
    for key in rng.sample(["card", "answer", "command", "locale", "handoff", "agree"], 2):
        value[key] = rng.choice(
            [odd_value(rng), "set_language", "delete", "restart", "help", "en", "de"]
        )
    activity["value"] = value
    return f"submit {short(value)}"


def mutate_ids(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    key = rng.choice(["id", "replyToId"])
    activity[key] = odd_id(rng)
    return f"{key}={short(activity[key])}"


def mutate_channel(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    if rng.random() < 0.3:
        activity.pop("channelId", None)
        return "no channelId"
    activity["channelId"] = rng.choice(["", "emulator", "webchat", "directline", odd_id(rng)])
    return f"channelId={short(activity['channelId'])}"


def mutate_conversation(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    conversation = activity.get("conversation")
    conversation = dict(conversation) if isinstance(conversation, dict) else {}
    roll = rng.random()
    if roll < 0.15:
        activity["conversation"] = rng.choice(["a:1", 1, [], None, True])
        return f"conversation={short(activity['conversation'])}"
    if roll < 0.3:
        conversation.pop("id", None)
        activity["conversation"] = conversation
        return "conversation without id"
    key = rng.choice(["id", "id", "tenantId", "conversationType", "isGroup", "name", "role"])
    conversation[key] = odd_id(rng) if key == "id" else odd_value(rng)
    activity["conversation"] = conversation
    return f"conversation.{key}={short(conversation[key])}"


def mutate_account(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    key = rng.choice(["from", "recipient"])
    roll = rng.random()
    if roll < 0.2:
        value = rng.choice(["29:abc", 1, [], ["a"], True])
        activity[key] = value
        return f"{key}={short(value)}"
    if roll < 0.3:
        activity[key] = None if rng.random() < 0.5 else {}
        return f"{key}={activity[key]!r}"
    account = dict(activity[key]) if isinstance(activity.get(key), dict) else {}
    field_name = rng.choice(["id", "name", "aadObjectId", "role", "id"])
    if rng.random() < 0.3:
        account.pop(field_name, None)
        label = f"{key} without {field_name}"
    else:
        account[field_name] = odd_id(rng)
        label = f"{key}.{field_name}={short(account[field_name])}"
    activity[key] = account
    return label


def odd_members(rng: Random) -> Any:
    return rng.choice(
        [
            None,
            "28:bot",
            [],
            [BOT_ID],
            ["a", 1],
            [{}],
            [{"name": "no id"}],
            [{"id": odd_id(rng)}],
            [{"id": BOT_ID}, None],
            [{"id": BOT_ID, "aadObjectId": odd_id(rng)}],
            {"id": BOT_ID},
            [[{"id": BOT_ID}]],
        ]
    )


def mutate_members(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    if rng.random() < 0.7:
        activity["type"] = "conversationUpdate"
    key = rng.choice(["membersAdded", "membersRemoved"])
    activity[key] = odd_members(rng)
    return f"{activity['type']} {key}={short(activity[key])}"


def odd_attachment(rng: Random) -> Any:
    content_types = [
        "image/png",
        "image/jpeg",
        "application/pdf",
        "application/vnd.microsoft.teams.file.download.info",
        "application/vnd.microsoft.card.adaptive",
        "text/html",
        "",
        None,
        1,
    ]
    roll = rng.random()
    if roll < 0.15:
        return odd_scalar(rng)
    attachment: dict[str, Any] = {"contentType": rng.choice(content_types)}
    if rng.random() < 0.2:
        del attachment["contentType"]
    if rng.random() < 0.7:
        attachment["contentUrl"] = rng.choice(
            [
                UNROUTABLE,
                "http://127.0.0.1:9/x.png",
                "file:///etc/passwd",
                "https://[::1/x",  # malformed authorities
                "https://xn--smba-.trafficmanager.net/x",
                "http://127.0.0.1:99999/x",
                "http://user:pw@127.0.0.1:9/x",
                "",
                "x",
                1,
                None,
            ]
        )
    if rng.random() < 0.5:
        attachment["content"] = rng.choice(
            [
                odd_value(rng),
                {
                    "downloadUrl": rng.choice(
                        [
                            UNROUTABLE,
                            "ftp://127.0.0.1:9/",
                            "https://xn--ab-.sharepoint.com/x",
                            "https://h.sharepoint.com:99999/x",
                            "https://[::1/x",
                            1,
                            None,
                        ]
                    )
                },
            ]
        )
    if rng.random() < 0.3:
        attachment["name"] = odd_id(rng)
    return attachment


def mutate_attachments(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    if rng.random() < 0.2:
        activity["attachments"] = odd_scalar(rng)
    else:
        activity["attachments"] = [odd_attachment(rng) for _ in range(rng.randrange(1, 4))]
    return f"attachments={short(activity['attachments'])}"


def mutate_entities(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    mention = {
        "type": "mention",
        "mentioned": rng.choice([{"id": BOT_ID}, {}, None, "x", {"id": odd_id(rng)}]),
        "text": odd_scalar(rng),
    }
    client_info = {"type": "clientInfo", "locale": odd_scalar(rng), "timezone": odd_scalar(rng)}
    activity["entities"] = rng.choice(
        [
            odd_scalar(rng),
            [odd_value(rng)],
            [mention],
            [mention, client_info],
            [{"type": odd_scalar(rng)}],
            [{}],
        ]
    )
    return f"entities={short(activity['entities'])}"


def mutate_channel_data(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    activity["channelData"] = rng.choice(
        [
            odd_value(rng),
            {"tenant": odd_value(rng)},
            {"tenant": {"id": odd_id(rng)}},
            {"tenant": {"id": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, "eventType": odd_value(rng)},
            {"team": odd_value(rng), "channel": odd_value(rng)},
        ]
    )
    return f"channelData={short(activity['channelData'])}"


def mutate_locale(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    activity["locale"] = rng.choice(
        ["en-US", "EN", "de_DE", "zz-ZZ", "x" * 300, "de-DE-u-nu-arab", odd_scalar(rng)]
    )
    return f"locale={short(activity['locale'])}"


def mutate_text_format(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    activity["textFormat"] = rng.choice(["markdown", "xml", "html", "", odd_scalar(rng)])
    return f"textFormat={short(activity['textFormat'])}"


def mutate_text(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    activity["text"] = rng.choice(
        [
            odd_value(rng),
            "x" * HUGE,
            "Hilfe " * 20_000,
            "<at>Videoberatung</at> Hilfe",
            "1,5 GB",
            "1e309 GB",
            "99999999999999999999999 MB",
            "-1 GB",
            "NaN GB",
            "٣ GB",
            "Neu starten",
            "Sprache",
            "English",
            "Meine Daten löschen",
            "Technik-Check",
            "Einladung",
            "Übersicht",
            "ABCD-EFGH",
        ]
    )
    if rng.random() < 0.7:
        activity["type"] = "message"
    return f"text={short(activity['text'])}"


def mutate_service_url(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    if rng.random() < 0.3:
        activity["serviceUrl"] = fuzz.connector.service_url.rstrip("/")  # still the connector
        return "serviceUrl without trailing slash"
    value = rng.choice(
        [
            "https://smba.trafficmanager.net/emea/",
            "http://10.0.0.5:3978/",
            "http://[fe80::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1.nip.io/",
            "http://0x7f000001.example/",
            "ftp://127.0.0.1/",
            "file:///etc/passwd",
            "127.0.0.1:3978",
            "http://",
            "https://[::1/",
            "http://[127.0.0.1]/",
            "http://127.0.0.1:99999/",
            "https://xn--smba-.trafficmanager.net/",
            "",
            42,
            None,
        ]
    )
    activity["serviceUrl"] = value
    return f"serviceUrl={short(value)}"


OTHER_FIELDS = {
    "timestamp": lambda rng: rng.choice(["yesterday", "2024-13-45T99:99:99Z", "", odd_scalar(rng)]),
    "localTimestamp": lambda rng: rng.choice(["2024-02-30T10:00:00+25:00", odd_scalar(rng)]),
    "localTimezone": lambda rng: rng.choice(
        ["Mars/Olympus", "../../etc/localtime", odd_scalar(rng)]
    ),
    "deliveryMode": lambda rng: rng.choice(["expectReplies", "ephemeral", "notification", 1]),
    "action": lambda rng: rng.choice(["add", "remove", "add-upgrade", "", odd_scalar(rng)]),
    "name": lambda rng: odd_value(rng),
    "valueType": lambda rng: odd_scalar(rng),
    "importance": lambda rng: odd_scalar(rng),
    "expiration": lambda rng: rng.choice(["never", odd_scalar(rng)]),
    "suggestedActions": lambda rng: odd_value(rng),
    "semanticAction": lambda rng: odd_value(rng),
    "relatesTo": lambda rng: odd_value(rng),
    "textHighlights": lambda rng: odd_value(rng),
    "reactionsAdded": lambda rng: rng.choice([[{"type": "like"}], [{}], "like", odd_value(rng)]),
    "reactionsRemoved": lambda rng: odd_value(rng),
    "callerId": lambda rng: odd_scalar(rng),
    "code": lambda rng: odd_scalar(rng),
    "topicName": lambda rng: odd_scalar(rng),
    "historyDisclosed": lambda rng: odd_scalar(rng),
    "speak": lambda rng: odd_scalar(rng),
    "inputHint": lambda rng: odd_scalar(rng),
    "summary": lambda rng: odd_scalar(rng),
    "attachmentLayout": lambda rng: odd_scalar(rng),
    "listenFor": lambda rng: odd_value(rng),
    "label": lambda rng: odd_scalar(rng),
}


def mutate_other_field(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    key = rng.choice(list(OTHER_FIELDS))
    activity[key] = OTHER_FIELDS[key](rng)
    return f"{key}={short(activity[key])}"


def mutate_unknown_keys(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    key = rng.choice(["", "\ud800", "__class__", "$type", "x" * 1000, "fuzz"])
    activity[key] = odd_value(rng)
    return f"extra key {short(key)}={short(activity[key])}"


def mutate_drop(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    key = rng.choice(list(activity))
    del activity[key]
    return f"no {key}"


def mutate_sender(rng: Random, activity: dict[str, Any], fuzz: Fuzz) -> str:
    """The counsellor in a client's conversation (or a client with the counsellor's id)."""
    sender = dict(fuzz.counsellor.activity()["from"])
    if rng.random() < 0.3:
        sender["aadObjectId"] = COUNSELLOR.upper()
    activity["from"] = sender
    return f"from counsellor {sender['aadObjectId'][:8]}"


ACTIVITY_MUTATIONS: dict[str, Mutation] = {
    "type": mutate_type,
    "invoke": mutate_invoke,
    "desk_action": mutate_desk_action,
    "value": mutate_value,
    "submit": mutate_submit,
    "ids": mutate_ids,
    "channel": mutate_channel,
    "conversation": mutate_conversation,
    "account": mutate_account,
    "members": mutate_members,
    "attachments": mutate_attachments,
    "entities": mutate_entities,
    "channel_data": mutate_channel_data,
    "locale": mutate_locale,
    "text_format": mutate_text_format,
    "text": mutate_text,
    "service_url": mutate_service_url,
    "other_field": mutate_other_field,
    "unknown_keys": mutate_unknown_keys,
    "drop": mutate_drop,
    "sender": mutate_sender,
}


def promised_status(activity: dict[str, Any]) -> frozenset[int] | None:
    """400 where the activity breaks the documented request checks (test_http_service)."""
    conversation = activity.get("conversation")
    service_url = activity.get("serviceUrl")
    try:
        parsed = urlparse(service_url) if isinstance(service_url, str) else None
    except ValueError:
        parsed = None
    broken = (
        not isinstance(activity.get("type"), str)
        or not activity["type"]
        or not isinstance(conversation, dict)
        or not isinstance(conversation.get("id"), str)
        or parsed is None
        or parsed.scheme not in ("http", "https")
        or not parsed.hostname
        or not is_loopback(parsed.hostname)
        or not isinstance(activity.get("from", {}), dict | None)
    )
    return BAD_REQUEST if broken else None


def activity_request(rng: Random, fuzz: Fuzz) -> FuzzRequest:
    who = fuzz.person()
    activity_type = rng.choice(ACTIVITY_TYPES[:10])
    activity = who.activity(activity_type)
    if activity_type == "message":
        activity.update(text="Hallo", textFormat="plain")
    names = rng.sample(list(ACTIVITY_MUTATIONS), rng.choice([1, 1, 1, 2, 2, 3]))
    labels = [f"{name_of(fuzz, who)} {activity_type}"]
    labels += [ACTIVITY_MUTATIONS[name](rng, activity, fuzz) for name in names]
    body = encode(activity)
    expect = frozenset({413}) if len(body) > LIMIT else promised_status(activity)
    return FuzzRequest("activity", "+".join(names), "; ".join(labels), body=body, expect=expect)


# --- clicks on the journey's real cards --------------------------------------------------------

TYPED = [
    "Hallo",
    "Hilfe",
    "Neu starten",
    "1",
    "2",
    "ja",
    "nein",
    "English",
    "Sprache",
    "0221 123456",
    "+49 (0) 221-123",
    "mo, mi vormittags",
    "1,5 GB",
    "1e309 GB",
    "0 MB",
    "Technik-Check",
    "Einwilligung widerrufen",
]
CARD_KEYS = ["card", "answer", "command", "locale", "agree", "days", "parts", "phone", "handoff"]


def newest_card(who: TeamsClient) -> dict[str, Any] | None:
    cards = who.cards(who.all_replies()[-6:])
    return cards[-1] if cards else None


def journey_request(rng: Random, fuzz: Fuzz) -> FuzzRequest:
    who = fuzz.traveller()
    card = newest_card(who)
    buttons = submit_actions(card) if card else []
    name = name_of(fuzz, who)
    if not buttons or rng.random() < 0.15:
        text = rng.choice([*TYPED, odd_scalar(rng)])
        body = who.message()
        body["text"] = text
        label = f"{name} types {short(text)}"
        if rng.random() < 0.3:  # a photo of the consent form, perhaps
            body["attachments"] = [odd_attachment(rng)]
            label += f" with {short(body['attachments'])}"
        return FuzzRequest("journey", "typed", label, body=encode(body))
    button = rng.choice(buttons)
    data = dict(button.get("data") or {})
    roll = rng.random()
    if roll < 0.45:
        label = f"{name} clicks {short(button.get('title'))}"
        data.update(days="mon,wed", parts="morning", phone="0221 123456")
    elif roll < 0.6:
        key = rng.choice(list(data) or CARD_KEYS)
        data.pop(key, None)
        label = f"{name} clicks {short(button.get('title'))} without {key}"
    else:
        inputs = input_ids(card) if card else []
        key = rng.choice((inputs + list(data)) * 3 + CARD_KEYS)  # mostly what this card sends
        data[key] = odd_value(rng)
        label = f"{name} clicks {short(button.get('title'))} with {key}={short(data[key])}"
    body = who.message(value=data)
    return FuzzRequest("journey", "click", label, body=encode(body))


def input_ids(card: dict[str, Any]) -> list[str]:
    """The ids of the card's inputs: Teams merges their values into the submit data."""
    return [
        node["id"]
        for node in _all_nodes(card)
        if str(node.get("type", "")).startswith("Input.") and isinstance(node.get("id"), str)
    ]


# --- raw bodies to /api/messages ---------------------------------------------------------------


def valid_body(fuzz: Fuzz) -> bytes:
    who = fuzz.clients[1]
    return encode(who.message("Hallo"))


def splice(fuzz: Fuzz, raw_value: bytes) -> bytes:
    """A valid activity whose ``value`` is the given raw JSON text."""
    return valid_body(fuzz)[:-1] + b', "value": ' + raw_value + b"}"


BODIES: dict[str, Callable[[Random, Fuzz], tuple[bytes, frozenset[int] | None]]] = {
    "garbage": lambda rng, fuzz: (rng.randbytes(rng.randrange(1, 300)), BAD_REQUEST),
    "invalid utf-8": lambda rng, fuzz: (
        valid_body(fuzz).replace(b'"Hallo"', b'"Hal\xff\xfelo"'),
        BAD_REQUEST,
    ),
    "truncated": lambda rng, fuzz: (
        (body := valid_body(fuzz))[: rng.randrange(1, len(body) - 1)],
        BAD_REQUEST,
    ),
    "json scalar": lambda rng, fuzz: (
        rng.choice([b"[]", b"[{}]", b"1", b'"x"', b"null", b"true", b"NaN", b"-Infinity"]),
        BAD_REQUEST,
    ),
    "empty": lambda rng, fuzz: (rng.choice([b"", b" ", b"\r\n", b"\x00"]), BAD_REQUEST),
    "deep [": lambda rng, fuzz: (nested_bytes(rng.choice([100, 1_000, 100_000]), "["), None),
    "deep {": lambda rng, fuzz: (nested_bytes(rng.choice([100, 1_000, 100_000]), "{"), None),
    "deep value": lambda rng, fuzz: (
        splice(fuzz, nested_bytes(rng.choice([100, 1_000, 20_000]), rng.choice("[{"))),
        None,
    ),
    "5000 digits": lambda rng, fuzz: (
        rng.choice([b"9" * 5_000, splice(fuzz, b"9" * 5_000), splice(fuzz, b"-" + b"1" * 5000)]),
        None,
    ),
    "long float": lambda rng, fuzz: (splice(fuzz, b"1." + b"5" * 5_000 + b"e99999"), None),
    "nan literals": lambda rng, fuzz: (
        splice(fuzz, rng.choice([b"NaN", b"Infinity", b"-Infinity", b"[NaN, Infinity]"])),
        None,
    ),
    "nan in fields": lambda rng, fuzz: (
        valid_body(fuzz).replace(b'"Hallo"', rng.choice([b"NaN", b"Infinity", b"1e999"])),
        None,
    ),
    "duplicate keys": lambda rng, fuzz: (
        valid_body(fuzz)[:-1]
        + rng.choice([b', "type": "typing"}', b', "type": 1}', b', "conversation": "x"}']),
        None,
    ),
    "bom": lambda rng, fuzz: (b"\xef\xbb\xbf" + valid_body(fuzz), None),
    "utf-16": lambda rng, fuzz: (valid_body(fuzz).decode().encode("utf-16"), None),
    "utf-32": lambda rng, fuzz: (valid_body(fuzz).decode().encode("utf-32-le"), None),
    "nul in json": lambda rng, fuzz: (valid_body(fuzz).replace(b'"Hallo"', b'"\x00"'), None),
    "escaped surrogates": lambda rng, fuzz: (
        valid_body(fuzz).replace(b'"Hallo"', b'"\\udc00\\ud800\\u0000"'),
        None,
    ),
    "huge text": lambda rng, fuzz: (
        valid_body(fuzz).replace(b'"Hallo"', b'"' + b"y" * rng.choice([200_000, 300_000]) + b'"'),
        None,
    ),
}


def body_request(rng: Random, fuzz: Fuzz) -> FuzzRequest:
    kind = rng.choice(list(BODIES))
    body, expect = BODIES[kind](rng, fuzz)
    chunked = rng.random() < 0.2
    if len(body) > LIMIT:
        expect = frozenset({413})
    return FuzzRequest(
        "body",
        kind,
        f"{kind} body{' (chunked)' if chunked else ''}",
        body=body,
        expect=expect,
        chunked=chunked,
    )


# --- headers, methods, paths -------------------------------------------------------------------


def http_request_odd(rng: Random, fuzz: Fuzz) -> FuzzRequest:
    body = valid_body(fuzz)
    kind = rng.choice(
        [
            "content type",
            "authorization",
            "many headers",
            "long header",
            "encoding",
            "method",
            "path",
            "over limit",
        ]
    )
    request = FuzzRequest("http", kind, kind, body=body)
    if kind == "content type":
        content_type = rng.choice(
            [
                "text/plain",
                "application/xml",
                "multipart/form-data; boundary=x",
                "application/x-www-form-urlencoded",
                "application/jsonx",
                "application/json-seq",
                "json",
                "",
                None,
                "APPLICATION/JSON",
                "application/json; charset=latin-1",
                "application/json; charset=utf-16",
                "application/json;;;",
                'application/json; boundary="',
            ]
        )
        request.content_type = content_type
        accepted = (content_type or "").split(";")[0].strip().lower() == "application/json"
        request.expect = None if accepted else frozenset({415})
        request.label = f"Content-Type {short(content_type)}"
    elif kind == "authorization":
        value = rng.choice(["Bearer x", "Bearer " + "a" * 4000, "Basic Og==", "x", "Bearer"])
        request.headers["Authorization"] = value
        request.expect = frozenset({401})
        request.label = f"Authorization {short(value)}"
    elif kind == "many headers":
        count = rng.choice([50, 100, 127, 200, 1_000])
        request.headers.update({f"X-Fuzz-{n}": "v" for n in range(count)})
        request.label = f"{count} extra headers"
    elif kind == "long header":
        size = rng.choice([4_000, 8_000, 8_190, 9_000, 65_536, 200_000])
        request.headers["X-Long"] = "a" * size
        request.label = f"one header of {size} chars"
    elif kind == "encoding":
        encoding = rng.choice(["gzip", "deflate", "br", "zstd", "compress", "gzip, gzip", "fuzz"])
        request.headers["Content-Encoding"] = encoding
        if rng.random() < 0.4 and encoding == "gzip":
            request.body = gzip.compress(b" " * 20_000_000)  # a small zip bomb
            request.label = "gzip bomb (20 MB of spaces)"
        else:
            request.label = f"Content-Encoding {encoding} on a plain body"
        # refused unread (415), or by the HTTP parser already when it knows no such decoder (400)
        request.expect = frozenset({400, 415})
    elif kind == "method":
        method = rng.choice(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FUZZ"])
        request.method = method
        request.expect = None if method == "FUZZ" else frozenset({405})  # FUZZ: the parser's 400
        request.label = f"{method} /api/messages"
    elif kind == "path":
        request.path = rng.choice(
            [
                "/api/messages/",
                "/API/MESSAGES",
                "/api/messages?x=%ZZ&y=\u00e4",
                "/api//messages",
                "/%00",
                "/..%2f..%2fetc%2fpasswd",
                "/api/messages%00",
                "/techcheck/%ff%fe",
                "/techcheck/" + "A" * 5_000,
                "/techcheck/static/..%2f..%2fconfig.py",
                "/techcheck/static/app.js%00",
                "/healthz?" + "a=1&" * 2_000,
            ]
        )
        request.label = f"POST {request.path[:80]}"
    else:
        request.body = valid_body(fuzz).replace(b'"Hallo"', b'"' + b"z" * LIMIT + b'"')
        request.chunked = rng.random() < 0.5
        request.expect = frozenset({413})
        request.label = "body over 256 KB" + (" chunked" if request.chunked else "")
    return request


# --- raw bytes on a socket ---------------------------------------------------------------------


HOST = ("Host", "127.0.0.1")
JSON_TYPE = ("Content-Type", "application/json")


def post(body: bytes, *headers: tuple[str | bytes, str | bytes], **options: Any) -> bytes:
    """A raw POST /api/messages with Host, Content-Type and exactly these headers."""
    path = options.pop("path", "/api/messages")
    return http_request("POST", path, [HOST, JSON_TYPE, *headers], body, **options)


def sized(body: bytes) -> tuple[str, str]:
    return ("Content-Length", str(len(body)))


CHUNKED = ("Transfer-Encoding", "chunked")
BIG_CHUNKS = b"".join(b"10000\r\n" + b"a" * 65536 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n"

#: kind -> (half-close after sending: the request ends too early, its bytes)
SOCKET_CASES: dict[str, Callable[[Random, bytes], tuple[bool, bytes]]] = {
    "garbage request line": lambda rng, body: (False, rng.randbytes(99) + b"\r\n\r\n"),
    "tls hello": lambda rng, body: (False, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    "bare request line": lambda rng, body: (False, b"GET\r\n\r\n"),
    "bad version": lambda rng, body: (
        False,
        post(body, sized(body), version=rng.choice([b"HTTP/9.9", b"HTTP/1.1 x", b"HTTX/1.1"])),
    ),
    "bad method": lambda rng, body: (
        False,
        http_request(rng.choice(["post", "FUZZ", "P OST", "GET\x00"]), "/api/messages", [HOST]),
    ),
    "bad content-length": lambda rng, body: (
        False,
        post(body, ("Content-Length", rng.choice(["abc", "-1", "1, 2", "+5", "0x10", "1" * 40]))),
    ),
    "content-length too small": lambda rng, body: (False, post(body, ("Content-Length", "5"))),
    "content-length too large": lambda rng, body: (
        True,
        post(body, ("Content-Length", str(len(body) + 50))),
    ),
    "two content-lengths": lambda rng, body: (
        False,
        post(body, sized(body), ("Content-Length", "3")),
    ),
    "bad chunk size": lambda rng, body: (
        False,
        post(rng.choice([b"zz\r\nabc\r\n0\r\n\r\n", b"-1\r\n\r\n"]), CHUNKED),
    ),
    "chunks end early": lambda rng, body: (True, post(b"5\r\nabc", CHUNKED)),
    "chunked over limit": lambda rng, body: (False, post(BIG_CHUNKS, CHUNKED)),
    "te and cl": lambda rng, body: (
        False,
        post(
            b"2\r\n{}\r\n0\r\n\r\n",
            ("Content-Length", "4"),
            ("Transfer-Encoding", rng.choice(["chunked", "gzip, chunked", "xchunked"])),
        ),
    ),
    "too many headers": lambda rng, body: (
        False,
        post(b"{}", ("Content-Length", "2"), *((f"X-{n}", "v") for n in range(200))),
    ),
    "broken header": lambda rng, body: (
        False,
        post(
            body,
            rng.choice(
                [(b"No colon", b""), (b"Bad Name", b"v"), (b"X-Nul", b"a\x00b"), (b"X", b"\xff")]
            ),
            sized(body),
        ),
    ),
    "folded header": lambda rng, body: (False, post(body, ("X-Fold", "a\r\n folded"), sized(body))),
    "long uri": lambda rng, body: (False, http_request("GET", "/healthz?" + "a" * 20_000, [HOST])),
    "lf only": lambda rng, body: (False, post(body, sized(body)).replace(b"\r\n", b"\n")),
    "http/1.0 without host": lambda rng, body: (
        False,
        http_request("POST", "/api/messages", [JSON_TYPE, sized(body)], body, version=b"HTTP/1.0"),
    ),
    "absolute uri": lambda rng, body: (False, post(body, sized(body), path=UNROUTABLE + "api")),
    "expect continue": lambda rng, body: (
        False,
        post(body, ("Expect", rng.choice(["100-continue", "fuzz"])), sized(body)),
    ),
    "expect continue, then half-close": lambda rng, body: (
        True,
        post(body, ("Expect", "100-continue"), sized(body)),
    ),
    "pipelined garbage": lambda rng, body: (
        False,
        http_request("GET", "/healthz", [HOST]) + rng.randbytes(100),
    ),
    "odd token bytes": lambda rng, body: (
        False,
        post(
            b"{}",
            (b"X-Techcheck-Token", rng.choice([b"\xff\xfe", b"a\x01b", b"\x80" * 600])),
            ("Content-Length", "2"),
            path="/techcheck/api/result",
        ),
    ),
}


def socket_request(rng: Random, fuzz: Fuzz) -> FuzzRequest:
    """The cases in turn (there are few requests of this family), each with random details."""
    kind = list(SOCKET_CASES)[fuzz.sockets_sent % len(SOCKET_CASES)]
    fuzz.sockets_sent += 1
    eof, raw = SOCKET_CASES[kind](rng, valid_body(fuzz))
    label = f"{kind}: {shorten(repr(raw[:100]), 140)}"
    return FuzzRequest("socket", kind, label, raw=raw, eof=eof, may_drop=True)


# --- the tech-check API ------------------------------------------------------------------------


def flipped(token: str, rng: Random) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def minted(fuzz: Fuzz, rng: Random, **claims: Any) -> str:
    values = {
        "client_id": fuzz.clients[0].aad_object_id,
        "link_id": "fuzz-link",
        "expires": int(time.time()) + 3600,
        "locale": "de",
        **claims,
    }
    return codec_for(fuzz.settings).mint(LinkClaims(**values), nonce=rng.randbytes(12))


def odd_token(rng: Random, fuzz: Fuzz) -> tuple[str | None, str, frozenset[int] | None]:
    """A token, what it is, and the status it must get (whatever the body)."""
    choice = rng.choice(
        [
            "real",
            "real",
            "real",
            "none",
            "empty",
            "garbage",
            "long",
            "flipped",
            "padded",
            "expired",
            "unknown client",
            "odd claims",
        ]
    )
    if choice == "real":
        return fuzz.token, choice, None
    if choice == "none":
        return None, choice, frozenset({401})
    if choice == "empty":
        return "", choice, frozenset({401})
    if choice == "garbage":
        return rng.choice(["x", "A" * 100, "..", "Bearer x", "\u00e4"]), choice, frozenset({403})
    if choice == "long":
        return "A" * rng.choice([601, 5_000]), choice, frozenset({403})
    if choice == "flipped":
        return flipped(fuzz.token, rng), choice, frozenset({403})
    if choice == "padded":
        return fuzz.token + "=", choice, frozenset({403})
    if choice == "expired":
        return minted(fuzz, rng, expires=int(time.time()) - 1), choice, frozenset({410})
    if choice == "unknown client":
        return minted(fuzz, rng, client_id="f0220000-dead"), choice, None
    claims = {
        "client_id": rng.choice(["", "\ud800", "x" * 300, "../..", "\x00"]),
        "link_id": rng.choice(["", "\ud800", "fuzz-link"]),
        "locale": rng.choice(["", "zz", "\ud800", "x" * 100]),
    }
    token = minted(fuzz, rng, **claims)
    # a lone surrogate cannot be in a token this service minted: invalid (minting needs the
    # secret, but in local mode the secret is a constant from the source)
    invalid = len(token) > MAX_TOKEN_CHARS or "\ud800" in claims.values()
    return token, choice, frozenset({403}) if invalid else None


def odd_result(rng: Random) -> tuple[bytes, str]:
    result = json.loads(json.dumps(GOOD_RESULT))
    roll = rng.random()
    if roll < 0.1:
        return encode(result), "the good result"
    if roll < 0.45:
        section = rng.choice(list(result))
        key = rng.choice(list(result[section]))
        result[section][key] = odd_value(rng)
        return encode(result), f"{section}.{key}={short(result[section][key])}"
    if roll < 0.55:
        section = rng.choice(list(result))
        result[section] = odd_value(rng)
        return encode(result), f"{section}={short(result[section])}"
    if roll < 0.6:
        result[rng.choice(["extra", "", "\ud800"])] = odd_value(rng)
        return encode(result), "extra key"
    if roll < 0.65:
        del result[rng.choice(list(result))]
        return encode(result), "a section missing"
    raw_kind = rng.choice(
        [
            "garbage",
            "truncated",
            "deep [",
            "deep {",
            "5000 digits",
            "nan",
            "duplicate",
            "array",
            "too large",
            "not utf-8",
        ]
    )
    raw = {
        "garbage": lambda: rng.randbytes(rng.randrange(1, 200)),
        "truncated": lambda: encode(result)[: rng.randrange(1, 100)],
        "deep [": lambda: nested_bytes(rng.choice([100, 1_000, 2_000]), "["),
        "deep {": lambda: nested_bytes(rng.choice([100, 1_000]), "{"),
        "5000 digits": lambda: encode(result).replace(b"420000", b"9" * 5_000),
        "nan": lambda: encode(result).replace(b"12000", rng.choice([b"NaN", b"Infinity"])),
        "duplicate": lambda: encode(result)[:-1] + b', "camera": {"status": "ok"}}',
        "array": lambda: encode([result]),
        "too large": lambda: encode({**result, "pad": "p" * 5_000}),
        "not utf-8": lambda: encode(result).replace(b'"heard"', b'"h\xffeard"'),
    }[raw_kind]()
    return raw, raw_kind


def techcheck_request(rng: Random, fuzz: Fuzz) -> FuzzRequest:
    token, token_kind, expect = odd_token(rng, fuzz)
    headers = {
        "User-Agent": rng.choice(
            [
                "",
                "Mozilla/5.0 Chrome/131.0",
                "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
                "x" * 3000,
            ]
        )
    }
    if token is not None:
        headers["X-Techcheck-Token"] = token
    roll = rng.random()
    if roll < 0.8:
        body, body_kind = odd_result(rng)
        chunked = rng.random() < 0.15
        content_type = "application/json" if rng.random() < 0.9 else "text/plain"
        if expect is None and content_type != "application/json":
            expect = frozenset({415})  # the token passes the signature check
        if expect is None and len(body) > RESULT_LIMIT and content_type == "application/json":
            expect = frozenset({413})
        return FuzzRequest(
            "techcheck",
            f"result/{token_kind}",
            f"result token={token_kind} body={body_kind}{' chunked' if chunked else ''}",
            path="/techcheck/api/result",
            body=body,
            headers=headers,
            chunked=chunked,
            content_type=content_type,
            expect=expect,
        )
    endpoint = rng.choice(["ping", "down", "up", "page"])
    if endpoint == "page":
        path = f"/techcheck/{token if token else rng.choice(['x', '%00', 'A' * 700])}"
        return FuzzRequest(
            "techcheck",
            f"page/{token_kind}",
            f"page token={token_kind}",
            method="GET",
            path=path,
            content_type=None,
            headers=headers,
        )
    if endpoint == "down":
        size = rng.choice(["1", "0", "-1", "abc", "1e3", "1000001", "9" * 50, "", "100"])
        return FuzzRequest(
            "techcheck",
            f"down/{token_kind}",
            f"down?bytes={size} token={token_kind}",
            method="GET",
            path=f"/techcheck/api/down?bytes={size}",
            content_type=None,
            headers=headers,
            expect=expect,
        )
    if endpoint == "up":
        chunked = rng.random() < 0.5
        return FuzzRequest(
            "techcheck",
            f"up/{token_kind}",
            f"up token={token_kind} chunked={chunked}",
            path="/techcheck/api/up",
            body=b"u" * rng.choice([0, 10, 1000]),
            chunked=chunked,
            content_type="application/octet-stream",
            headers=headers,
            expect=expect,
        )
    return FuzzRequest(
        "techcheck",
        f"ping/{token_kind}",
        f"ping token={token_kind}",
        method="GET",
        path="/techcheck/api/ping",
        content_type=None,
        headers=headers,
        expect=expect,
    )


BURST_SIZE = 8


def burst(rng: Random, fuzz: Fuzz) -> list[FuzzRequest]:
    """Requests sent at the same time: clicks and mutated activities, one conversation."""
    fuzz.pinned = fuzz.traveller()
    batch = []
    for number in range(BURST_SIZE):
        request = (journey_request if rng.random() < 0.5 else activity_request)(rng, fuzz)
        request.family = "burst"
        request.label = f"burst {number + 1}/{BURST_SIZE}: {request.label}"
        batch.append(request)
    fuzz.pinned = None
    return batch


GENERATORS: dict[str, Callable[[Random, Fuzz], FuzzRequest]] = {
    "activity": activity_request,
    "journey": journey_request,
    "body": body_request,
    "http": http_request_odd,
    "socket": socket_request,
    "techcheck": techcheck_request,
}


def batch_of(family: str, fuzz: Fuzz) -> list[FuzzRequest]:
    """The next request of the family; a burst is several."""
    if family == "burst":
        return burst(fuzz.rng, fuzz)
    return [GENERATORS[family](fuzz.rng, fuzz)]


# --- warm-up: real state to fuzz against -------------------------------------------------------


async def walk_to_handoff(client: TeamsClient) -> str:
    """Client 0 goes through the journey: the tech-check link, consent, the handoff."""
    await client.install()
    for label in (
        "Bewerbung (Lebenslauf, Anschreiben)",
        "Per Video",
        "Laptop oder Computer",
        "Ja, die Teams-App",
    ):
        await client.click(label)
    await client.click("Ja, beides")
    await client.click("Ja")
    replies = await client.click("WLAN oder Flatrate (unbegrenzt)")
    tokens = techcheck_tokens(client.cards(replies))
    assert tokens, "no tech-check link on the result card"
    consent = next(
        card
        for card in reversed(client.cards())
        if any(a.get("title") == "Ja, ich bin einverstanden" for a in submit_actions(card))
    )
    await client.click("Ja, ich bin einverstanden", consent)
    await client.click("Weiter", days="mon,wed", parts="morning")
    assert client.said("Geschafft!"), client.texts()
    return tokens[-1]


async def new_token(client: TeamsClient) -> str | None:
    """A fresh link (the typed command), once the result of the last one came in."""
    return next(iter(techcheck_tokens(client.cards(await client.say("Technik-Check")))), None)


def techcheck_tokens(cards: list[dict[str, Any]]) -> list[str]:
    return [
        action["url"].rsplit("/techcheck/", 1)[1]
        for card in cards
        for action in _all_actions(card)
        if action.get("type") == "Action.OpenUrl" and "/techcheck/" in action.get("url", "")
    ]


def _all_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in _all_nodes(card) if str(node.get("type", "")).startswith("Action.")]


def _all_nodes(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object in the card, depth first."""
    found: list[dict[str, Any]] = []
    stack: list[Any] = [card]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return found


# --- tours: each question of the journey with each odd type ------------------------------------

Step = str | tuple[str, dict[str, str]]
TO_VOLUME: list[Step] = [
    "Bewerbung (Lebenslauf, Anschreiben)",
    "Per Video",
    "Smartphone (Handy)",
    "Ja, die Teams-App",
    "Ja, beides",
    "Ja",
    "Mobile Daten (begrenzt)",
]
#: where a fresh client stops on its way through the journey: the clicks that lead there
STOPS: dict[str, list[Step]] = {
    "topic": [],
    "consultation type": ["Bewerbung (Lebenslauf, Anschreiben)"],
    "phone number": ["Bewerbung (Lebenslauf, Anschreiben)", "Per Telefon"],
    "call times": [
        "Bewerbung (Lebenslauf, Anschreiben)",
        "Per Telefon",
        ("Weiter", {"phone": "0221 123456"}),
    ],
    "device": ["Bewerbung (Lebenslauf, Anschreiben)", "Per Video"],
    "teams app": ["Bewerbung (Lebenslauf, Anschreiben)", "Per Video", "Smartphone (Handy)"],
    "volume": TO_VOLUME,
    "save data": [*TO_VOLUME, "Weniger als 500 MB"],
    "consent": [*TO_VOLUME, "Mehr als 2 GB"],
    "form upload": [*TO_VOLUME, "Mehr als 2 GB", "Unterschriebenes Formular senden"],
    "video times": [*TO_VOLUME, "Mehr als 2 GB", ("Ja, ich bin einverstanden", {})],
}
#: sent as each of the card's inputs and submit keys in turn
ODD_ANSWERS: list[Any] = [
    None,
    True,
    0,
    1.5,
    "",
    " ",
    "x" * 5_000,
    [],
    ["yes"],
    {},
    {"a": ""},
    [[{}]],
    "😀\u202e",
]
ODD_TYPED = ["", " ", "0", "-1", "1e309", "99999999999999999999", "😀", "\x00", "x" * 50_000]
ODD_UPLOADS: list[dict[str, Any]] = [
    {"contentType": "image/png", "contentUrl": UNROUTABLE},
    {"contentType": "image/jpeg", "contentUrl": "http://127.0.0.1:9/" + "a" * 8000},
    {"contentType": "application/pdf", "contentUrl": "file:///etc/passwd"},
    {"contentType": "application/pdf", "contentUrl": ""},
    {"contentType": "image/png"},
    {"contentType": "application/vnd.microsoft.teams.file.download.info", "content": {}},
    {
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "content": {"downloadUrl": UNROUTABLE, "fileType": "png"},
    },
    {"contentType": "application/vnd.microsoft.teams.file.download.info", "content": "x"},
    {"contentType": "text/html", "content": "<p>hallo</p>"},
]
#: long typed answers of many short words: expensive for a recogniser that is not linear;
#: sent at the first question only (each costs the watchdog's time while it is not linear)
CPU_TEXTS = ["1 " * 100_000, "one " * 50_000, "1,5 GB " * 30_000]


async def walk(client: TeamsClient, steps: list[Step]) -> None:
    await client.install()
    for step in steps:
        title, inputs = (step, {}) if isinstance(step, str) else step
        await client.click(title, **inputs)


def odd_submits(stop: str, who: TeamsClient) -> list[FuzzRequest]:
    """At this stop: each odd answer as one of the card's keys, odd texts (and files)."""
    card = newest_card(who)
    buttons = submit_actions(card) if card else []
    data = next((dict(b["data"]) for b in buttons if "card" in (b.get("data") or {})), {})
    keys = [*input_ids(card or {}), *(key for key in data if key != "card"), "card"]
    requests = []
    for number, value in enumerate(ODD_ANSWERS):
        key = keys[number % len(keys)]
        body = encode(who.message(value={**data, key: value}))
        label = f"at {stop}: submit {key}={short(value)}"
        requests.append(FuzzRequest("tour", "submit", label, body=body))
    for text in ODD_TYPED:
        label = f"at {stop}: types {short(text)}"
        requests.append(FuzzRequest("tour", "typed", label, body=encode(who.message(text))))
    if stop == "form upload":
        for upload in ODD_UPLOADS:
            body = encode(who.message("", attachments=[upload]))
            label = f"at {stop}: sends {short(upload)}"
            requests.append(FuzzRequest("tour", "upload", label, body=body))
    if stop == "topic":
        for text in CPU_TEXTS:
            label = f"at {stop}: types {text[:12]!r}… ({len(text.split())} words)"
            requests.append(
                FuzzRequest("tour", "many words", label, body=encode(who.message(text)))
            )
    return requests


async def tour_all(fuzz: Fuzz, runner: Runner) -> None:
    """A fresh client walks to each stop; there it gets the odd answers one after another
    (each at the newest card: a reprompt keeps the question, an accepted one moves on)."""
    for number, (stop, steps) in enumerate(STOPS.items()):
        aad = f"70000000-0000-4000-8000-{number:012d}"
        who = TeamsClient(fuzz.clients[0].http, fuzz.bot, fuzz.connector, aad_object_id=aad)
        try:
            await runner.step(f"the walk to {stop}", walk(who, steps))
        except AssertionError as error:
            runner.watch.failures.add(
                f"tour: cannot walk to {stop}", runner.index, shorten(str(error), 200)
            )
            continue
        for request in odd_submits(stop, who):
            if runner.stopped:
                return
            await runner.run([request])


# --- judging ---------------------------------------------------------------------------------


def judge(
    failures: Failures,
    index: int,
    request: FuzzRequest,
    outcome: Outcome,
    log: LogWatch,
    turns: TurnErrors,
) -> None:
    problems = log.take()
    turn_errors = turns.take()
    keys_before = sum(group.count for group in failures.groups.values())
    where = f"{request.path.split('?')[0][:40]} [{request.family}]"
    if outcome.status is None:
        if not request.may_drop:
            failures.add(f"no answer ({outcome.error}) {where}", index, request)
    elif outcome.status >= 500:
        cause = problems[0].key if problems else f"answer {shorten(outcome.body, 60)}"
        failures.add(f"HTTP {outcome.status} {where} with {cause}", index, request, outcome.body)
    elif request.expect is not None and outcome.status not in request.expect:
        failures.add(
            f"HTTP {outcome.status} instead of {sorted(request.expect)} [{request.kind}]",
            index,
            request,
            outcome.body,
        )
    for problem in problems:
        detail = problem.detail + (f" | raised: {turn_errors[0]}" if turn_errors else "")
        failures.add(problem.key, index, request, detail)
    failures.count(request.family, outcome.status)
    if sum(group.count for group in failures.groups.values()) > keys_before:
        failures.failed_requests += 1


def plan(rng: Random) -> list[str]:
    families = [name for name, count in FAMILIES.items() for _ in range(count)]
    rng.shuffle(families)
    return families


# --- running -------------------------------------------------------------------------------


@dataclass
class Watch:
    """What judges the requests: the tally, the log handler, the turn-error recorder."""

    failures: Failures = field(default_factory=Failures)
    log: LogWatch = field(default_factory=LogWatch)
    turns: TurnErrors | None = None


async def send_batch(
    http: aiohttp.ClientSession, base_url: str, batch: list[FuzzRequest]
) -> tuple[list[Outcome] | None, list[str]]:
    """The answers (``None`` if they did not all come within ``REQUEST_TIMEOUT``), and where
    the event loop was blocked if it was."""
    with Watchdog(REQUEST_TIMEOUT + 1) as watchdog:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                requests = (send(http, base_url, request) for request in batch)
                return await asyncio.gather(*requests), watchdog.blocked_at
        except (TimeoutError, EventLoopBlocked):
            pass
    await asyncio.sleep(0.2)  # the interrupted turn logs its failure now, charged to this batch
    return None, watchdog.blocked_at


class Runner:
    """Sends batches (one request, or a burst of eight at once) on fresh connections, bounded
    in time, and judges every answer; stops when the service seems stuck or the time is up."""

    def __init__(self, fuzz: Fuzz, watch: Watch, http: aiohttp.ClientSession) -> None:
        self.fuzz = fuzz
        self.watch = watch
        self.http = http
        self.index = 0
        self.timeouts = 0
        self.started = time.monotonic()

    @property
    def stopped(self) -> bool:
        if self.timeouts >= MAX_TIMEOUTS:
            self.watch.failures.add("run stopped after repeated timeouts", self.index, "-")
            return True
        if time.monotonic() - self.started > TIME_BUDGET:
            self.watch.failures.add(f"time budget of {TIME_BUDGET:.0f} s used up", self.index, "-")
            return True
        return False

    async def run(self, batch: list[FuzzRequest]) -> list[Outcome]:
        watch, index = self.watch, self.index
        self.index += 1
        outcomes, blocked_at = await send_batch(self.http, self.fuzz.bot.url("/"), batch)
        for where in blocked_at[:1]:
            key = f"event loop blocked > {REQUEST_TIMEOUT + 1:.0f} s at {where}"
            watch.failures.add(key, index, batch[0])
        if outcomes is None:
            self.timeouts += 1
            outcomes = [Outcome(None, error=f"no answer in {REQUEST_TIMEOUT:.0f} s")] * len(batch)
            for request in batch:
                request.may_drop = bool(blocked_at)  # then reported as blocked already
        assert watch.turns is not None
        # the log records of a burst are charged to its first request
        for request, outcome in zip(batch, outcomes, strict=True):
            judge(watch.failures, index, request, outcome, watch.log, watch.turns)
        return outcomes

    async def step(self, what: str, action: Awaitable[Any]) -> Any:
        """A step of the harness itself (a walk, a new link): its log is judged, too."""
        try:
            return await action
        finally:
            for problem in self.watch.log.take():
                self.watch.failures.add(problem.key, self.index, what, problem.detail)


async def send_all(fuzz: Fuzz, runner: Runner) -> None:
    """The random phase: every planned family, in the seeded order."""
    for family in plan(fuzz.rng):
        if runner.stopped:
            return
        batch = batch_of(family, fuzz)
        outcomes = await runner.run(batch)
        if batch[0].kind == "result/real" and outcomes[0].status == 200:  # the link is used
            new = await runner.step("a new tech-check link", new_token(fuzz.clients[0]))
            fuzz.token = new or fuzz.token


async def still_working(fuzz: Fuzz, http: aiohttp.ClientSession) -> dict[str, Any]:
    """A new client is welcomed, an old one gets an answer to "Hilfe", /readyz is 200."""
    newcomer = TeamsClient(http, fuzz.bot, fuzz.connector, aad_object_id=CLIENTS[0][:-1] + "9")
    install, _ = await newcomer.post(
        newcomer.activity("conversationUpdate", membersAdded=[{"id": BOT_ID}])
    )
    old = fuzz.clients[1]
    old.take_replies()
    helped, _ = await old.post(old.message("Hilfe"))
    async with http.get(fuzz.bot.url("/readyz")) as response:
        ready = response.status
    return {
        "install": install,
        "welcomed": newcomer.said(TOPIC_QUESTION, newcomer.take_replies()),
        "Hilfe": helped,
        "Hilfe answered": bool(old.take_replies()),
        "readyz": ready,
    }


# --- the test --------------------------------------------------------------------------------


async def test_fuzz_the_service_over_http(
    bot: RunningBot,
    connector: LocalConnector,
    http: aiohttp.ClientSession,
    notifier: CollectingNotifier,
    settings: Settings,
    network: NetworkSpy,
    request: pytest.FixtureRequest,
) -> None:
    clients = [TeamsClient(http, bot, connector, aad_object_id=aad) for aad in CLIENTS]
    counsellor = TeamsClient(http, bot, connector, aad_object_id=COUNSELLOR, name="Berater")
    fuzz = Fuzz(Random(SEED), bot, connector, clients, counsellor, settings)
    await counsellor.deliver(counsellor.activity("installationUpdate", action="add"))
    fuzz.token = await walk_to_handoff(clients[0])
    fuzz.handoffs = sorted({handoff_id for handoff_id, _ in notifier.events})
    assert fuzz.handoffs, "the warm-up made no handoff"
    for client in clients[1:]:
        await client.install()

    adapter = bot.app[ADAPTER]
    watch = Watch(turns=TurnErrors(adapter.on_turn_error))
    adapter.on_turn_error = watch.turns
    try:
        with RootLogging(watch.log, quiet=pytest_log_handlers(request.config)):
            # one connection per request: a request the server closes cannot spoil the next
            connections = aiohttp.TCPConnector(force_close=True)
            async with aiohttp.ClientSession(connector=connections) as fresh:
                runner = Runner(fuzz, watch, fresh)
                await send_all(fuzz, runner)
                await tour_all(fuzz, runner)
            fuzzed_for = time.monotonic() - runner.started
            after = await still_working(fuzz, http)
            for problem in watch.log.take():
                watch.failures.add(problem.key, -1, "the checks after the fuzz", problem.detail)
    finally:
        adapter.on_turn_error = watch.turns.original

    expected_after = {
        "install": 201,
        "welcomed": True,
        "Hilfe": 201,
        "Hilfe answered": True,
        "readyz": 200,
    }
    if after != expected_after:
        watch.failures.add("afterwards the bot does not work normally", -1, repr(after))
    for attempt in network.outside():
        watch.failures.add("tried to reach a host outside this machine", -1, attempt)
    print(
        f"\nfuzz: {watch.failures.requests} requests in {fuzzed_for:.1f} s, seed {SEED}, "
        f"{watch.log.records} log records, afterwards {after}\n{watch.failures.statuses()}"
    )
    if watch.failures.groups:
        pytest.fail(watch.failures.report(SEED), pytrace=False)
