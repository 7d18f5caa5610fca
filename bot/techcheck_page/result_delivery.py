"""A result from the page reaches the client's records, the chat and the counsellor.

Stored before the page gets its answer (profile, open handoffs, conversation state); the chat
message and the counsellor's card refresh go out afterwards, in the background, because a
proactive message may be retried for seconds.

Why the conversation state too: the client usually measures while the chat goes on, before
the handoff exists. The handoff copies the tech-check answers from the session when it is
created, so the measured result is put there (``answers["measured"]``, and inside
``answers["tech"]`` once the questions are answered), through the turns' own session store: it
waits for the conversation's turn lock like a turn does, and its write is eTag-guarded like a
turn's (``bot/hosting/session_store.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

from bot.domain.handoffs import OPEN_HANDOFF_STATUSES, Handoff, Handoffs, HandoffStatus
from bot.domain.message_delivery import MessageSender
from bot.domain.profiles import ClientProfile, Profiles
from bot.domain.techcheck_links import LinkClaims
from bot.i18n import translator
from cards.tech_result_cards import measured_card

log = logging.getLogger(__name__)
DRAIN_SECONDS = 10.0


class CardRefresher(Protocol):
    async def refresh_cards(self, handoff: Handoff, stage: str) -> Any: ...


class SessionChanger(Protocol):
    """The conversation state, changed outside a turn (``bot/hosting/session_store.py``)."""

    async def change_session(
        self, reference: dict[str, Any], change: Callable[[dict[str, Any]], bool]
    ) -> bool: ...


def overview_stage(handoff: Handoff) -> str:
    """The counsellor overview's stage for a handoff that is still open."""
    if handoff.status == HandoffStatus.SCHEDULED:
        return "scheduled"
    return "needs_help" if handoff.purpose == "tech_help" else "ready"


class ResultDelivery:
    def __init__(
        self,
        profiles: Profiles,
        handoffs: Handoffs,
        sessions: SessionChanger,
        sender: MessageSender,
        cards: CardRefresher | None,
    ) -> None:
        self._profiles = profiles
        self._handoffs = handoffs
        self._sessions = sessions
        self._sender = sender
        self._cards = cards
        self._background: set[asyncio.Task[None]] = set()

    async def store(self, claims: LinkClaims, measured: dict[str, Any]) -> list[Handoff]:
        """Keep the result with the client's tech check; the open handoffs it changed."""

        def keep(profile: ClientProfile) -> None:
            profile.measured = measured

        profile = await self._profiles.update(claims.client_id, keep)
        changed = []
        for handoff in await self._handoffs.for_client(claims.client_id):
            if handoff.status not in OPEN_HANDOFF_STATUSES:
                continue

            def add(stored: Handoff) -> None:
                stored.tech = {**stored.tech, "measured": measured}

            updated, _ = await self._handoffs.update(claims.client_id, handoff.handoff_id, add)
            if updated is not None:
                changed.append(updated)
        reference = profile.techcheck.get("ref")
        if reference:
            await self._remember_in_session(reference, measured)
        return changed

    async def _remember_in_session(
        self, reference: dict[str, Any], measured: dict[str, Any]
    ) -> None:
        def remember(session: dict[str, Any]) -> bool:
            answers = session.setdefault("answers", {})
            answers["measured"] = measured
            if isinstance(answers.get("tech"), dict):
                answers["tech"]["measured"] = measured
            return True

        await self._sessions.change_session(reference, remember)

    def announce(
        self,
        claims: LinkClaims,
        reference: dict[str, Any],
        measured: dict[str, Any],
        handoffs: list[Handoff],
    ) -> None:
        """Tell the client in the chat and refresh the counsellors' cards, in the background."""
        task = asyncio.create_task(self._announce(claims, reference, measured, handoffs))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Let pending announcements finish (at shutdown), for at most ``DRAIN_SECONDS``."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=DRAIN_SECONDS)

    async def _announce(
        self,
        claims: LinkClaims,
        reference: dict[str, Any],
        measured: dict[str, Any],
        handoffs: list[Handoff],
    ) -> None:
        try:
            if reference:
                card = measured_card(translator(claims.locale), measured)
                result = await self._sender.send(reference, card)
                if not result.ok:
                    log.warning("tech-check result not announced in chat (%s)", result.delivery)
            if self._cards is not None:
                for handoff in handoffs:
                    await self._cards.refresh_cards(handoff, overview_stage(handoff))
        except Exception as error:  # background work: report, never crash the loop
            log.error("announcing a tech-check result failed: %s", type(error).__name__)
