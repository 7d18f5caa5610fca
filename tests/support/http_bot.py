"""The service as the integration tests run it: ``RunningBot`` (the real aiohttp app on a
loopback port) and a ``TeamsClient`` that posts activities the way Microsoft Teams does in a
personal chat, with a LocalConnector as the Bot Connector."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.devtools.connector_standin import LocalConnector
from bot.devtools.teams_activity import PersonalChat
from cards.reading import card_actions, card_texts

JsonDict = dict[str, Any]
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT_ID = "28:9e1a7f3c-5b2d-4c8e-a1f0-3d6b8c2e4f71"


class RunningBot:
    """One instance of the service, listening on a loopback port."""

    def __init__(self, app: web.Application, server: TestServer) -> None:
        self.app = app
        self.server = server
        self.closed = False

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def close(self) -> None:
        """Stop listening and run the app's cleanup (closes the store)."""
        if not self.closed:
            self.closed = True
            await self.server.close()


StartBot = Callable[..., Awaitable[RunningBot]]


class TeamsClient:
    """One client in a Teams personal chat with the bot, talking to the service over HTTP."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        bot: RunningBot,
        connector: LocalConnector,
        *,
        aad_object_id: str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        name: str = "Erika Muster",
        locale: str = "de-DE",
    ) -> None:
        self.http = http
        self.bot = bot
        self.connector = connector
        self.aad_object_id = aad_object_id
        self.name = name
        self.locale = locale
        self.user_id = f"29:1{aad_object_id.replace('-', '')}"
        self.conversation_id = f"a:1{uuid.uuid5(uuid.NAMESPACE_URL, aad_object_id).hex}"
        self.replies: list[JsonDict] = []
        self.posted: list[Any] = []
        #: sent with every post (e.g. the channel's Authorization header)
        self.headers: dict[str, str] = {}
        self._consumed = 0

    # --- building and posting activities -------------------------------------------------

    def activity(self, activity_type: str = "message", **fields: Any) -> JsonDict:
        """An activity as Teams posts it in a personal chat; ``fields`` add or override."""
        return PersonalChat(
            self.connector.service_url,
            self.conversation_id,
            TENANT_ID,
            {"id": self.user_id, "name": self.name, "aadObjectId": self.aad_object_id},
            {"id": BOT_ID, "name": "Videoberatung"},
            self.locale,
        ).activity(activity_type, **fields)

    def message(
        self, text: str | None = None, value: JsonDict | None = None, **fields: Any
    ) -> JsonDict:
        body = self.activity("message", textFormat="plain", **fields)
        if text is not None:
            body["text"] = text
        if value is not None:
            body["value"] = value
        return body

    async def post(self, body: Any, *, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """POST a JSON body to /api/messages; returns the status and the parsed answer."""
        self.posted.append(body)
        async with self.http.post(
            self.bot.url("/api/messages"), json=body, headers={**self.headers, **(headers or {})}
        ) as response:
            text = await response.text()
            return response.status, _parse(text)

    async def deliver(self, body: JsonDict) -> list[JsonDict]:
        """POST an activity, expect 201, and return the bot's new replies."""
        status, answer = await self.post(body)
        assert status == 201, (status, answer)
        return self.take_replies()

    def take_replies(self) -> list[JsonDict]:
        """Replies that reached the connector since the last call (the turn is over by now)."""
        everything = self.connector.activities(self.conversation_id)
        self.replies = everything[self._consumed :]
        self._consumed = len(everything)
        return self.replies

    async def install(self) -> list[JsonDict]:
        """What Teams sends when the client adds the app: the bot joins the personal chat."""
        return await self.deliver(
            self.activity(
                "conversationUpdate",
                membersAdded=[{"id": BOT_ID}],
                channelData={"tenant": {"id": TENANT_ID}, "eventType": "conversationUpdate"},
            )
        )

    async def say(self, text: str) -> list[JsonDict]:
        return await self.deliver(self.message(text))

    async def click(
        self, title: str, card: JsonDict | None = None, **inputs: str
    ) -> list[JsonDict]:
        """Click a button on the newest (or the given) card; inputs are merged into its data
        as Teams does."""
        return await self.deliver(self.click_activity(title, card, **inputs))

    def click_activity(self, title: str, card: JsonDict | None = None, **inputs: str) -> JsonDict:
        return self.message(value={**self.button(title, card), **inputs})

    # --- reading what the bot sent ---------------------------------------------------------

    def all_replies(self) -> list[JsonDict]:
        return self.connector.activities(self.conversation_id)

    def cards(self, replies: list[JsonDict] | None = None) -> list[JsonDict]:
        return [
            attachment["content"]
            for reply in (self.all_replies() if replies is None else replies)
            for attachment in reply.get("attachments") or []
            if attachment.get("contentType") == ADAPTIVE
        ]

    def texts(self, replies: list[JsonDict] | None = None) -> list[str]:
        """Plain texts and the text blocks of cards (of the last turn by default)."""
        seen: list[str] = []
        for reply in self.replies if replies is None else replies:
            if reply.get("text"):
                seen.append(reply["text"])
            for attachment in reply.get("attachments") or []:
                if attachment.get("contentType") == ADAPTIVE:
                    seen.extend(card_texts(attachment["content"]))
        return seen

    def said(self, fragment: str, replies: list[JsonDict] | None = None) -> bool:
        return any(fragment in text for text in self.texts(replies))

    def last_card(self) -> JsonDict:
        found = self.cards()
        assert found, f"the bot sent no card yet: {self.texts(self.all_replies())}"
        return found[-1]

    def button(self, title: str, card: JsonDict | None = None) -> JsonDict:
        """The submit data of the button ``title`` on the newest (or the given) card."""
        actions = submit_actions(card or self.last_card())
        for action in actions:
            if action.get("title") == title:
                return dict(action.get("data") or {})
        titles = [action.get("title") for action in actions]
        raise AssertionError(f"no button {title!r}; buttons: {titles}")


def submit_actions(card: JsonDict) -> list[JsonDict]:
    """Action.Submit buttons of a card: in ``actions`` and inside ActionSet elements."""
    return card_actions(card, "Action.Submit")


def _parse(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
