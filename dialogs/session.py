"""Per-conversation session data and the per-turn view of it.

The session lives in conversation state next to the dialog stack, so a steady-state turn
costs one storage read and (when something changed) one write.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.schema import Activity

from bot.i18n import Translator, translator

SESSION_KEY = "videoberatung.session"
ANSWERED_CARD_KEY = "videoberatung.answered_card"
AFTER_COMMIT_KEY = "videoberatung.after_commit"
_RING = 20  # how many activity ids / answered cards to remember


@dataclass
class Session:
    locale: str = "de"
    answers: dict[str, Any] = field(default_factory=dict)
    seen_activities: list[str] = field(default_factory=list)
    answered_cards: list[str] = field(default_factory=list)
    #: answered card id → catalog key of the choice made (to say it again on a second click)
    answered_choices: dict[str, str] = field(default_factory=dict)
    pending_confirmation: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Session:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def first_time_seen(self, activity_id: str | None) -> bool:
        """``False`` for an activity already processed (Teams resends after ~15 s)."""
        if not activity_id:
            return True
        if activity_id in self.seen_activities:
            return False
        self.seen_activities = [*self.seen_activities[-(_RING - 1) :], activity_id]
        return True

    def mark_card_answered(self, card_id: str, choice_key: str = "") -> None:
        """Remember the answered card (and the catalog key of the choice made, if any)."""
        self.answered_cards = [*self.answered_cards[-(_RING - 1) :], card_id]
        if choice_key:
            self.answered_choices = {**self.answered_choices, card_id: choice_key}
        self.answered_choices = {
            card: key for card, key in self.answered_choices.items() if card in self.answered_cards
        }

    def answered_choice(self, card_id: str) -> str:
        """The catalog key of the choice made on an answered card; empty if none is known."""
        return self.answered_choices.get(card_id, "")

    def reset_journey(self) -> None:
        self.answers = {}
        self.pending_confirmation = ""


def sender_object_id(activity: Activity) -> str:
    """The sender's Entra object id, lower-case; empty when the channel gave none."""
    sender = activity.from_property
    return (sender.aad_object_id or "").lower() if sender else ""


@dataclass
class Client:
    """Who is talking: the Teams (Entra) user, with the name Teams shows."""

    client_id: str
    display_name: str


def client_of(turn_context: TurnContext) -> Client:
    sender = turn_context.activity.from_property
    client_id = (sender.aad_object_id or sender.id) if sender else ""
    return Client(client_id or "unknown", (sender.name if sender else "") or "")


def session_of(turn_context: TurnContext) -> Session:
    return turn_context.turn_state[SESSION_KEY]


def texts(turn_context: TurnContext) -> Translator:
    return translator(session_of(turn_context).locale)


def answered_card(turn_context: TurnContext) -> str:
    """The id of the card whose question this turn answered ("" if none).

    One answer to one card is one effect: ids derived from it are the same however often the
    answer arrives (a double click, a turn that runs again, two instances at once)."""
    return turn_context.turn_state.get(ANSWERED_CARD_KEY, "")


def effect_key(turn_context: TurnContext) -> str:
    """What a record this turn causes is keyed on: the card it answered, else the activity
    (else, for an activity without an id, something random)."""
    return answered_card(turn_context) or turn_context.activity.id or secrets.token_hex(8)


Effect = Callable[[], Awaitable[None]]


def after_commit(turn_context: TurnContext, effect: Effect) -> None:
    """Run ``effect`` once this turn's state is committed — for effects that cannot be made
    idempotent (counters): a turn that loses the race for the state runs again, and only the
    attempt that commits runs its effects."""
    turn_context.turn_state.setdefault(AFTER_COMMIT_KEY, []).append(effect)


def take_after_commit(turn_context: TurnContext) -> list[Effect]:
    """The effects queued by this attempt of the turn (and forget them)."""
    return turn_context.turn_state.pop(AFTER_COMMIT_KEY, [])


def begin_attempt(turn_context: TurnContext) -> None:
    """A turn (again): nothing from an earlier attempt that lost the race carries over."""
    take_after_commit(turn_context)
    turn_context.turn_state.pop(ANSWERED_CARD_KEY, None)


def conversation_reference(context: TurnContext) -> dict[str, Any]:
    """How to reach this conversation later (a proactive message), as stored in records."""
    return serializer_helper(TurnContext.get_conversation_reference(context.activity))
