"""Talk to the bot through the SDK's TestAdapter, as a Teams client would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
)

from bot.app import build_service, form_storage
from bot.config import Settings
from bot.domain.handoff_events import HandoffEvent
from bot.domain.handoffs import Handoff, Handoffs
from bot.hosting.adapter import on_turn_error
from bot.storage.documents import DocumentStore
from cards.reading import card_actions, card_texts

ADAPTIVE = "application/vnd.microsoft.card.adaptive"


@dataclass
class CollectingNotifier:
    """Stands in for Teams notifications: keeps what the journey reported. Given the
    handoffs, it records a delivery on the handoff as the Teams notifier does."""

    handoffs: Handoffs | None = None
    events: list[tuple[str, HandoffEvent]] = field(default_factory=list)

    refreshed: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def handoff_event(self, handoff: Handoff, event: HandoffEvent) -> None:
        self.events.append((handoff.handoff_id, event))
        if self.handoffs is not None:

            def delivered(stored: Handoff) -> None:
                stored.delivery["counsellor"] = "sent"

            await self.handoffs.update(handoff.client_id, handoff.handoff_id, delivered)

    async def refresh_cards(self, handoff: Handoff, stage: str) -> Handoff:
        self.refreshed.append((handoff.handoff_id, stage, handoff.tech.get("measured", {})))
        return handoff


def settings_for_tests(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "storage_url": f"sqlite:///{tmp_path / 'bot.db'}",
        "upload_dir": str(tmp_path / "uploads"),
        "jobcenter_phone": "0221 123456",
        "jobcenter_address": "Musterstraße 1, 50667 Köln",
        **overrides,
    }
    return Settings(_env_file=None, **values)


class Chat:
    """One client in a Teams personal chat with the bot."""

    def __init__(
        self,
        settings: Settings,
        store: DocumentStore,
        user_id: str = "aad-client-1",
        locale: str = "de-DE",
        service_url: str = "https://smba.example.test/",
    ) -> None:
        self.notifier = CollectingNotifier(Handoffs(store))
        self.user_id = user_id
        self.locale = locale
        self.adapter = TestAdapter(
            None,
            Activity(
                channel_id="msteams",
                service_url=service_url,
                from_property=ChannelAccount(
                    id=f"29:{user_id}", name="Erika Muster", aad_object_id=user_id
                ),
                recipient=ChannelAccount(id="28:bot", name="Videoberatung"),
                conversation=ConversationAccount(id=f"a:{user_id}", conversation_type="personal"),
            ),
        )
        self.service = build_service(
            settings, store, form_storage(settings), self.adapter, self.notifier
        )
        self.bot = self.service.bot
        self.adapter.logic = self.bot.on_turn
        self.adapter.on_turn_error = on_turn_error  # as in the service
        self.last_replies: list[Activity] = []

    async def send(
        self,
        text: str | None = None,
        *,
        value: dict[str, Any] | None = None,
        attachments: list[Attachment] | None = None,
        activity_id: str | None = None,
    ) -> list[Activity]:
        activity = Activity(
            type=ActivityTypes.message,
            id=activity_id or uuid.uuid4().hex,
            text=text,
            value=value,
            attachments=attachments,
            locale=self.locale,
        )
        return await self._deliver(activity)

    async def install(self) -> list[Activity]:
        """What Teams sends when the client adds the app: the bot joins the chat."""
        activity = Activity(
            type=ActivityTypes.conversation_update,
            id=uuid.uuid4().hex,
            members_added=[ChannelAccount(id="28:bot", name="Videoberatung")],
            locale=self.locale,
        )
        return await self._deliver(activity)

    async def _deliver(self, activity: Activity) -> list[Activity]:
        self.adapter.activity_buffer.clear()
        await self.adapter.receive_activity(activity)
        self.last_replies = list(self.adapter.activity_buffer)
        return self.last_replies

    # --- reading replies -------------------------------------------------------------

    def cards(self) -> list[dict[str, Any]]:
        return [
            attachment.content
            for reply in self.last_replies
            for attachment in reply.attachments or []
            if attachment.content_type == ADAPTIVE
        ]

    def last_card(self) -> dict[str, Any]:
        found = self.cards()
        assert found, f"no card in the replies: {self.texts()}"
        return found[-1]

    def texts(self) -> list[str]:
        """Every text the client sees: plain messages and the text blocks of cards."""
        seen: list[str] = []
        for reply in self.last_replies:
            if reply.text:
                seen.append(reply.text)
            for attachment in reply.attachments or []:
                if attachment.content_type == ADAPTIVE:
                    seen.extend(card_texts(attachment.content))
        return seen

    def said(self, fragment: str) -> bool:
        return any(fragment in text for text in self.texts())

    def button(self, title: str, card: dict[str, Any] | None = None) -> dict[str, Any]:
        """The submit data of the button ``title`` on the newest (or given) card."""
        for action in card_actions(card or self.last_card()):
            if action.get("title") == title:
                return dict(action.get("data", {}))
        titles = [action.get("title") for action in card_actions(card or self.last_card())]
        raise AssertionError(f"no button {title!r}; buttons: {titles}")

    async def click(self, title: str, **inputs: str) -> list[Activity]:
        """Click a button on the newest card; inputs are merged as Teams does."""
        return await self.send(value={**self.button(title), **inputs})


#: the ``user_id`` of a ``Chat`` (its client's Entra object id)
CLIENT = "aad-client-1"
#: the catalog keys of the answers from the topic to the consent card, for a video
#: consultation on job applications with everything ready: click ``t(key)`` in any language
TO_CONSENT_KEYS = (
    "choice.topic.application",
    "choice.type.video",
    "tech.device.computer",
    "tech.app.app",
    "tech.camera_mic.both",
    "tech.place.yes",
    "tech.connection.wifi",
)


async def reach_tech_check(chat: Chat) -> None:
    await chat.install()
    await chat.click("Bewerbung (Lebenslauf, Anschreiben)")
    await chat.click("Per Video")
    assert chat.said("Welches Gerät nutzen Sie für das Video-Gespräch?")


async def reach_consent(chat: Chat) -> None:
    await reach_tech_check(chat)
    for answer in ("Laptop oder Computer", "Ja, die Teams-App", "Ja, beides", "Ja"):
        await chat.click(answer)
    await chat.click("WLAN oder Flatrate (unbegrenzt)")
    assert chat.said("Ihre Technik ist bereit.")
    assert chat.said("Ihr Ja zum Video-Gespräch (Einwilligung)")


async def reach_handoff(chat: Chat) -> None:
    """To the end of the journey: consent in the card, Monday mornings, handed over."""
    await reach_consent(chat)
    await chat.click("Ja, ich bin einverstanden")
    await chat.click("Weiter", days="mon", parts="morning")
    assert chat.said("Geschafft!")
