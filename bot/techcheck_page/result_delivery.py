"""A result from the page reaches the client's records, the chat and the counsellor.

Stored before the page gets its answer (profile, open handoffs, conversation state); the chat
message and the counsellor's card refresh go out afterwards, in the background, because a
proactive message may be retried for seconds.

Why the conversation state too: the client usually measures while the chat goes on, before
the handoff exists. The handoff copies the tech-check answers from the session when it is
created, so the measured result is put there (``answers["measured"]``, and inside
``answers["tech"]`` once the questions are answered). It waits for the conversation's turn lock
like a turn does (so a turn of this instance never loses its state to it), and the write is
eTag-guarded like a turn's: if a turn of another instance saves first, this one reads again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from botbuilder.core import BotAdapter, ConversationState, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot.domain.handoffs import OPEN_HANDOFF_STATUSES, Handoff, Handoffs, HandoffStatus
from bot.domain.profiles import ClientProfile, Profiles
from bot.domain.techcheck_links import LinkClaims
from bot.hosting.proactive_messages import ProactiveSender, reference_from_dict
from bot.hosting.turn_locks import KeyedLocks, LockTimeoutError
from bot.i18n import translator
from bot.storage import ConflictError
from dialogs.tech_check import measured_card

log = logging.getLogger(__name__)
STATE_ATTEMPTS = 3
DRAIN_SECONDS = 10.0
#: the browser waits for the answer meanwhile; after that, the result is kept without the lock
LOCK_WAIT_SECONDS = 5.0


class CardRefresher(Protocol):
    async def refresh_cards(self, handoff: Handoff, stage: str) -> Any: ...


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
        conversation_state: ConversationState,
        adapter: BotAdapter,
        sender: ProactiveSender,
        cards: CardRefresher | None,
        locks: KeyedLocks,
    ) -> None:
        self._profiles = profiles
        self._handoffs = handoffs
        self._state = conversation_state
        self._adapter = adapter
        self._sender = sender
        self._cards = cards
        self._locks = locks
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

    async def _remember_in_session(
        self, reference: dict[str, Any], measured: dict[str, Any]
    ) -> None:
        activity = TurnContext.apply_conversation_reference(
            Activity(type=ActivityTypes.event, name="techcheck.result"),
            reference_from_dict(reference),
            is_incoming=True,
        )
        context = TurnContext(self._adapter, activity)
        try:
            async with self._locks.hold(activity.conversation.id, wait_at_most=LOCK_WAIT_SECONDS):
                await self._remember(context, measured)
        except LockTimeoutError:  # a slow turn: the eTag alone keeps the two apart
            await self._remember(context, measured)

    async def _remember(self, context: TurnContext, measured: dict[str, Any]) -> None:
        session_property = self._state.create_property("session")
        for _ in range(STATE_ATTEMPTS):
            await self._state.load(context, force=True)
            session = await session_property.get(context, dict)
            if not session:
                return  # no conversation (any more): nothing to remember it in
            answers = session.setdefault("answers", {})
            answers["measured"] = measured
            if isinstance(answers.get("tech"), dict):
                answers["tech"]["measured"] = measured
            await session_property.set(context, session)
            try:
                await self._state.save_changes(context)
            except ConflictError:
                continue
            return
        log.warning("tech-check result not kept in the conversation state (busy)")
