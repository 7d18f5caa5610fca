"""The conversation state — dialog stack and session — for turns and for work outside a turn.

One ``ConversationState`` over the document store, built once by the composition root. A turn
loads it, runs and saves it with the eTag it read (``bot/hosting/activity_handler.py``). Work
that arrives outside a turn — the measured tech check's result from the browser — changes the
session through ``change_session``: under the same per-conversation turn lock, and with the same
eTag guard, so neither can overwrite the other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from botbuilder.core import BotAdapter, ConversationState, StatePropertyAccessor, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot.hosting.proactive_messages import reference_from_dict
from bot.hosting.state_storage import DocumentStateStorage
from bot.hosting.turn_locks import KeyedLocks, LockTimeoutError
from bot.storage import ConflictError, DocumentStore

log = logging.getLogger(__name__)
#: how often a change outside a turn reads again after another instance saved first
CHANGE_ATTEMPTS = 3
#: a change outside a turn waits this long for a running turn; then the eTag alone guards it
LOCK_WAIT_SECONDS = 5.0

SessionChange = Callable[[dict[str, Any]], bool]


class SessionStore:
    def __init__(
        self,
        store: DocumentStore,
        adapter: BotAdapter,
        locks: KeyedLocks,
        ttl_seconds: int | None = None,
    ) -> None:
        self.state = ConversationState(DocumentStateStorage(store, ttl_seconds=ttl_seconds))
        self.session: StatePropertyAccessor = self.state.create_property("session")
        self.dialogs: StatePropertyAccessor = self.state.create_property("dialogs")
        self.locks = locks
        self._adapter = adapter

    async def change_session(self, reference: dict[str, Any], change: SessionChange) -> bool:
        """Apply ``change`` to the stored session of the conversation ``reference`` names.

        ``change`` edits the session dict in place and says whether to save it (``False``:
        nothing to do). Whether it was saved comes back; an unknown conversation is not.
        """
        context = self._context_for(reference)
        conversation_id = context.activity.conversation.id
        try:
            async with self.locks.hold(conversation_id, wait_at_most=LOCK_WAIT_SECONDS):
                return await self._change(context, change)
        except LockTimeoutError:  # a slow turn: the eTag alone keeps the two apart
            return await self._change(context, change)

    async def _change(self, context: TurnContext, change: SessionChange) -> bool:
        for _ in range(CHANGE_ATTEMPTS):
            await self.state.load(context, force=True)
            session = await self.session.get(context, dict)
            if not session or not change(session):
                return False
            await self.session.set(context, session)
            try:
                await self.state.save_changes(context)
            except ConflictError:
                continue
            return True
        log.warning("a session change outside a turn gave up (the conversation is busy)")
        return False

    def _context_for(self, reference: dict[str, Any]) -> TurnContext:
        activity = TurnContext.apply_conversation_reference(
            Activity(type=ActivityTypes.event, name="session.change"),
            reference_from_dict(reference),
            is_incoming=True,
        )
        return TurnContext(self._adapter, activity)
