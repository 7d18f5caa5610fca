"""Terminal chat: card rendering and a scripted chat against a stand-in bot."""

from __future__ import annotations

import io
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin

import aiohttp
import pytest
from aiohttp import web
from botbuilder.core import ActivityHandler, CardFactory, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import ChannelAccount

from bot.devtools.terminal_chat import (
    ADAPTIVE_CARD,
    LOCAL_TENANT_ID,
    main,
    render_card_text,
    run_chat,
)

JsonDict = dict[str, Any]

TECH_CHECK_CARD: JsonDict = {
    "type": "AdaptiveCard",
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "**Technik-Check**", "size": "Large", "weight": "Bolder"},
        {
            "type": "RichTextBlock",
            "inlines": [
                "Ihr Termin mit ",
                {"type": "TextRun", "text": "Frau Schmidt", "weight": "Bolder"},
                " findet per Video statt.",
            ],
        },
        {
            "type": "ColumnSet",
            "columns": [
                {
                    "type": "Column",
                    "items": [
                        {
                            "type": "FactSet",
                            "facts": [
                                {"title": "Datum", "value": "Di, 12.03.2024"},
                                {"title": "Uhrzeit", "value": "10:30 Uhr"},
                            ],
                        }
                    ],
                },
                {
                    "type": "Column",
                    "items": [
                        {"type": "Image", "url": "https://example.org/a.png", "altText": "Kamera"}
                    ],
                },
            ],
        },
        {"type": "TextBlock", "text": "versteckt", "isVisible": False},
        {
            "type": "Container",
            "items": [
                {
                    "type": "Input.Toggle",
                    "id": "camera",
                    "title": "Meine Kamera funktioniert",
                    "valueOn": "ja",
                    "valueOff": "nein",
                },
                {
                    "type": "Input.ChoiceSet",
                    "id": "devices",
                    "label": "Welche Geräte nutzen Sie?",
                    "isMultiSelect": True,
                    "value": "laptop",
                    "choices": [
                        {"title": "Laptop", "value": "laptop"},
                        {"title": "Smartphone", "value": "phone"},
                        {"title": "Tablet", "value": "tablet"},
                    ],
                },
                {
                    "type": "Input.Text",
                    "id": "phone",
                    "label": "Telefon für Rückfragen",
                    "placeholder": "z. B. 0151 1234567",
                    "value": "keine Angabe",
                },
            ],
        },
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.OpenUrl",
                    "title": "Hilfe zu Teams",
                    "url": "https://support.microsoft.com/teams",
                }
            ],
        },
        {"type": "Media", "sources": [], "fallback": "drop"},
        {"type": "FutureThing", "fallback": {"type": "TextBlock", "text": "Ersatztext"}},
    ],
    "actions": [
        {"type": "Action.Submit", "title": "Weiter", "data": {"action": "tech_check"}},
        {"type": "Action.Execute", "title": "Später", "verb": "postpone", "data": {"x": 1}},
        {
            "type": "Action.ShowCard",
            "title": "Termin absagen",
            "card": {
                "type": "AdaptiveCard",
                "body": [
                    {
                        "type": "Input.ChoiceSet",
                        "id": "reason",
                        "label": "Grund",
                        "choices": [
                            {"title": "Krank", "value": "sick"},
                            {"title": "Anderer Grund", "value": "other"},
                        ],
                    }
                ],
                "actions": [
                    {"type": "Action.Submit", "title": "Absagen", "data": {"action": "cancel"}}
                ],
            },
        },
    ],
}

EXPECTED_TEXT = """\
**Technik-Check**
Ihr Termin mit Frau Schmidt findet per Video statt.
Datum: Di, 12.03.2024
Uhrzeit: 10:30 Uhr
[image: Kamera]
[ ] Meine Kamera funktioniert
Welche Geräte nutzen Sie? (choose several)
  [x] Laptop
  [ ] Smartphone
  [ ] Tablet
Telefon für Rückfragen: [text: z. B. 0151 1234567] = keine Angabe
[1] Hilfe zu Teams -> https://support.microsoft.com/teams
Ersatztext
[2] Weiter
[3] Später
[4] Termin absagen (expands:)
    Grund (choose one)
      ( ) Krank
      ( ) Anderer Grund
    [5] Absagen"""


def test_render_card_text() -> None:
    text, buttons = render_card_text(TECH_CHECK_CARD)

    assert text == EXPECTED_TEXT
    assert [(b.number, b.title, b.type) for b in buttons] == [
        (1, "Hilfe zu Teams", "Action.OpenUrl"),
        (2, "Weiter", "Action.Submit"),
        (3, "Später", "Action.Execute"),
        (4, "Termin absagen", "Action.ShowCard"),
        (5, "Absagen", "Action.Submit"),
    ]
    top_level_inputs = ["camera", "devices", "phone"]
    assert [i["id"] for i in buttons[1].inputs] == top_level_inputs
    assert [i["id"] for i in buttons[4].inputs] == [*top_level_inputs, "reason"]
    assert buttons[1].action["data"] == {"action": "tech_check"}


def test_render_card_text_numbering_and_empty_card() -> None:
    card = {"type": "AdaptiveCard", "actions": [{"type": "Action.Submit", "title": "OK"}]}
    text, buttons = render_card_text(card, first_number=4)
    assert text == "[4] OK"
    assert buttons[0].number == 4
    assert render_card_text({"type": "AdaptiveCard"}) == ("", [])


# -- stand-in bot --------------------------------------------------------------------------


def card_attachment(card: JsonDict) -> JsonDict:
    return {"contentType": ADAPTIVE_CARD, "content": card}


@dataclass
class StandInBot:
    """A tiny bot: answers every activity by POSTing replies to the activity's serviceUrl."""

    respond: Callable[[JsonDict], list[JsonDict]]
    invoke_response: JsonDict | None = None
    received: list[JsonDict] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        activity = await request.json()
        self.received.append(activity)
        conversation_id = quote(activity["conversation"]["id"], safe="")
        reply_url = urljoin(
            activity["serviceUrl"],
            f"v3/conversations/{conversation_id}/activities/{quote(activity['id'], safe='')}",
        )
        async with aiohttp.ClientSession() as http:
            for reply in self.respond(activity):
                body = {
                    "type": "message",
                    "from": activity["recipient"],
                    "recipient": activity["from"],
                    "conversation": activity["conversation"],
                    "replyToId": activity["id"],
                    **reply,
                }
                async with http.post(reply_url, json=body) as response:
                    assert response.status == 200
        if activity["type"] == "invoke":
            return web.json_response(self.invoke_response or {"statusCode": 200})
        return web.Response(status=201)


@pytest.fixture
async def bot_server() -> AsyncIterator[Callable[[StandInBot], Any]]:
    runners: list[web.AppRunner] = []

    async def serve(bot: StandInBot) -> StandInBot:
        app = web.Application()
        app.router.add_post("/api/messages", bot.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        bot.url = f"http://{host}:{port}/api/messages"
        return bot

    yield serve
    for runner in runners:
        await runner.cleanup()


def assert_looks_like_teams(activity: JsonDict, first: JsonDict) -> None:
    assert activity["channelId"] == "msteams"
    assert activity["serviceUrl"].startswith("http://127.0.0.1:")
    assert activity["serviceUrl"] == first["serviceUrl"]
    assert activity["conversation"] == first["conversation"]
    assert activity["conversation"]["id"].startswith("a:local-")
    assert activity["conversation"]["conversationType"] == "personal"
    assert activity["conversation"]["tenantId"] == LOCAL_TENANT_ID
    assert activity["from"] == first["from"]
    assert activity["from"]["id"].startswith("29:local-user-")
    assert activity["from"]["name"] == "Test Kundin"
    uuid.UUID(activity["from"]["aadObjectId"])
    assert activity["recipient"] == {"id": "28:videoberatung-bot", "name": "Videoberatung"}
    assert activity["locale"] == "de-DE"
    assert activity["channelData"] == {"tenant": {"id": LOCAL_TENANT_ID}}
    assert activity["timestamp"].endswith("Z")


async def test_scripted_chat(bot_server: Callable[[StandInBot], Any]) -> None:
    def respond(activity: JsonDict) -> list[JsonDict]:
        if activity["type"] == "conversationUpdate":
            return [{"text": "Willkommen bei der **Videoberatung**!"}]
        if activity.get("text") == "Hallo":
            return [
                {"type": "typing"},
                {
                    "text": "Bitte prüfen Sie Ihre Technik.",
                    "attachments": [card_attachment(TECH_CHECK_CARD)],
                },
            ]
        if activity.get("value", {}).get("action") == "tech_check":
            return [{"text": "Danke, alles bereit."}]
        return [{"text": "?"}]

    bot = await bot_server(StandInBot(respond))
    stdin = io.StringIO(
        "#1\n"  # no card yet
        "Hallo\n"
        "#9\n"  # no such button
        "#1\n"  # OpenUrl: nothing is sent
        "#2\n"  # Weiter: asks for the three inputs
        "vielleicht\n"  # invalid toggle answer, asked again
        "j\n"
        "2,3\n"
        "\n"  # empty: the text input's default
    )
    stdout = io.StringIO()

    await run_chat(bot.url, stdin=stdin, stdout=stdout)

    update, message, submit = bot.received
    for activity in bot.received:
        assert_looks_like_teams(activity, update)
    assert len({activity["id"] for activity in bot.received}) == 3

    assert update["type"] == "conversationUpdate"
    assert update["membersAdded"] == [{"id": "28:videoberatung-bot", "name": "Videoberatung"}]

    assert message["type"] == "message"
    assert message["text"] == "Hallo"
    assert "value" not in message

    assert submit["type"] == "message"
    assert "text" not in submit
    assert submit["value"] == {
        "action": "tech_check",
        "camera": "ja",
        "devices": "phone,tablet",
        "phone": "keine Angabe",
    }
    assert submit["replyToId"]

    output = stdout.getvalue()
    assert "Bot: Willkommen bei der **Videoberatung**!" in output
    assert "There is no card with buttons yet" in output
    assert "Bot: Bitte prüfen Sie Ihre Technik." in output
    assert "Bot [card]:\n  **Technik-Check**\n" in output
    assert "  [2] Weiter\n" in output
    assert "no button [9]" in output
    assert "(would open https://support.microsoft.com/teams)" in output
    assert "Please answer j or n." in output
    assert "  2) Smartphone\n" in output
    assert output.rstrip().endswith("Bot: Danke, alles bereit.\n>")
    # The order on screen follows the conversation.
    assert output.index("Willkommen") < output.index("Technik-Check") < output.index("Danke")


async def test_action_execute_sends_invoke_and_shows_refreshed_card(
    bot_server: Callable[[StandInBot], Any],
) -> None:
    card = {
        "type": "AdaptiveCard",
        "body": [
            {
                "type": "Input.ChoiceSet",
                "id": "slot",
                "label": "Neuer Termin",
                "choices": [
                    {"title": "Montag", "value": "mon"},
                    {"title": "Dienstag", "value": "tue"},
                ],
            }
        ],
        "actions": [
            {"type": "Action.Execute", "title": "Verschieben", "verb": "move", "data": {"k": 1}}
        ],
    }
    refreshed = {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "Verschoben."}]}

    def respond(activity: JsonDict) -> list[JsonDict]:
        if activity["type"] == "conversationUpdate":
            return [{"attachments": [card_attachment(card)]}]
        return []

    bot = await bot_server(
        StandInBot(
            respond,
            invoke_response={"statusCode": 200, "type": ADAPTIVE_CARD, "value": refreshed},
        )
    )
    stdout = io.StringIO()

    await run_chat(bot.url, stdin=io.StringIO("#1\n2\n/quit\nnot read\n"), stdout=stdout)

    invoke = bot.received[1]
    assert len(bot.received) == 2
    assert invoke["type"] == "invoke"
    assert invoke["name"] == "adaptiveCard/action"
    assert invoke["value"] == {
        "action": {"type": "Action.Execute", "verb": "move", "data": {"k": 1, "slot": "tue"}},
        "trigger": "manual",
    }
    assert "Bot (card refreshed) [card]:\n  Verschoben." in stdout.getvalue()


def test_main_reports_unreachable_bot(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["--bot-url", f"http://127.0.0.1:{port}/api/messages"]) == 1
    captured = capsys.readouterr()
    assert "not reachable" in captured.err


async def test_chat_with_sdk_cloud_adapter_in_local_mode() -> None:
    """The activities deserialize in the SDK, and its replies, updates and member lookups work."""

    class LocalConfig:
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "Input.Toggle", "id": "ready", "title": "Bereit?"}],
        "actions": [{"type": "Action.Submit", "title": "Senden", "data": {"step": 1}}],
    }
    seen: list[TurnContext] = []

    class Bot(ActivityHandler):
        async def on_members_added_activity(
            self, members_added: list[ChannelAccount], turn_context: TurnContext
        ) -> None:
            member = await TeamsInfo.get_member(
                turn_context, turn_context.activity.from_property.id
            )
            await turn_context.send_activity(f"Hallo {member.given_name}")

        async def on_message_activity(self, turn_context: TurnContext) -> None:
            seen.append(turn_context)
            if turn_context.activity.value:
                sent = await turn_context.send_activity(f"Wert: {turn_context.activity.value}")
                update = MessageFactory.text("Erledigt")
                update.id = sent.id
                await turn_context.update_activity(update)
            else:
                await turn_context.send_activity(
                    MessageFactory.attachment(CardFactory.adaptive_card(card))
                )

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(LocalConfig()))
    bot = Bot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        stdout = io.StringIO()
        await run_chat(
            f"http://{host}:{port}/api/messages", stdin=io.StringIO("Hi\n#1\nj\n"), stdout=stdout
        )
    finally:
        await runner.cleanup()

    output = stdout.getvalue()
    assert "Bot: Hallo Test\n" in output
    assert "Bot [card]:\n  [ ] Bereit?\n  [1] Senden\n" in output
    assert "Bot: Wert: {'step': 1, 'ready': 'true'}\n" in output
    assert "Bot (updated message): Erledigt\n" in output
    message = seen[0].activity
    assert (message.channel_id, message.text, message.conversation.conversation_type) == (
        "msteams",
        "Hi",
        "personal",
    )
    assert seen[1].activity.reply_to_id
