"""The Teams activity handler: loads the session, routes commands, runs the journey."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.dialogs import Dialog, DialogSet
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
    DeliveryModes,
)

from bot.hosting.counsellor_roles import CounsellorRoles
from bot.hosting.session_store import SessionStore
from bot.hosting.turn_telemetry import journey_step, note
from bot.i18n import match_locale, translator
from bot.storage import ConflictError
from dialogs.commands import STATE_DELETED, GlobalCommands
from dialogs.counsellor_desk import refusal
from dialogs.early_answers import EarlyAnswers
from dialogs.journey import JourneyDialog
from dialogs.session import SESSION_KEY, Session, begin_attempt, take_after_commit, texts
from dialogs.stats_desk import is_stats_request

log = logging.getLogger(__name__)
MAX_TURN_ATTEMPTS = 3


class VideoberatungBot(ActivityHandler):
    def __init__(
        self,
        sessions: SessionStore,
        journey: JourneyDialog,
        side_dialogs: Sequence[Dialog],
        commands: GlobalCommands,
        early_answers: EarlyAnswers,
        desk: ActivityHandler,
        stats_desk: ActivityHandler,
        roles: CounsellorRoles,
        default_locale: str = "de",
    ) -> None:
        self._desk = desk
        self._stats_desk = stats_desk
        self._roles = roles
        self._state = sessions.state
        self._session = sessions.session
        self._dialog_state = sessions.dialogs
        self._dialogs = DialogSet(sessions.dialogs)
        self._dialogs.add(journey)
        for dialog in side_dialogs:  # begun by a command over the open step
            self._dialogs.add(dialog)
        self._commands = commands
        self._early_answers = early_answers
        self._default_locale = default_locale
        self._locks = sessions.locks

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Run the turn so that its effects happen exactly once, also across instances.

        The replies are held back until the conversation state is saved with the eTag it was
        read with. If another instance saved first, the turn runs again on the fresh state —
        where a duplicate delivery is recognised by its activity id and does nothing.
        """
        activity = turn_context.activity
        if not self._roles.tenant_allowed(activity):
            note(outcome="other_tenant")
            log.info("refused a %s activity from another tenant", activity.type)
            if activity.type == ActivityTypes.message:
                t = translator(match_locale(activity.locale, self._default_locale))
                await turn_context.send_activity(t("tenant.refused"))
            return
        counsellor = await self._roles.is_counsellor(activity)
        if await self._roles.is_team_lead(activity) and (
            not counsellor or is_stats_request(activity)
        ):
            note(role="team_lead")
            await self._stats_desk.on_turn(turn_context)
            return
        if counsellor:
            note(role="counsellor")
            await self._desk.on_turn(turn_context)
            return
        note(role="client")
        if activity.type == ActivityTypes.invoke:
            await super().on_turn(turn_context)  # no client state is involved
            return
        async with self._locks.hold(activity.conversation.id):
            for attempt in range(1, MAX_TURN_ATTEMPTS + 1):
                replies = await self._run_held_back(turn_context, reload=attempt > 1)
                if replies is not None:
                    if replies:
                        await turn_context.adapter.send_activities(turn_context, replies)
                    return
                log.info("state changed under turn %s; running it again", activity.id)
            raise ConflictError(f"turn {activity.id} lost {MAX_TURN_ATTEMPTS} races for the state")

    async def _run_held_back(
        self, turn_context: TurnContext, reload: bool
    ) -> list[Activity] | None:
        """The turn's replies once its state is committed; ``None`` after losing a race."""
        activity = turn_context.activity
        delivery_mode = activity.delivery_mode
        activity.delivery_mode = DeliveryModes.expect_replies  # the SDK then buffers replies
        turn_context.buffered_reply_activities.clear()
        turn_context.turn_state.pop(STATE_DELETED, None)
        begin_attempt(turn_context)  # what a lost attempt queued is not done
        try:
            await self._state.load(turn_context, force=reload)
            stored = await self._session.get(turn_context, dict)
            session = Session.from_dict(stored)
            if not stored:
                session.locale = match_locale(activity.locale, self._default_locale)
            turn_context.turn_state[SESSION_KEY] = session
            if not session.first_time_seen(activity.id):
                note(outcome="duplicate")
                return []  # Teams resent an activity we already answered
            await super().on_turn(turn_context)
            if not turn_context.turn_state.get(STATE_DELETED):
                note(step=journey_step(await self._dialog_state.get(turn_context)))
                await self._session.set(turn_context, session.to_dict())
                await self._state.save_changes(turn_context)
        except ConflictError:
            return None
        finally:
            activity.delivery_mode = delivery_mode
        await _run_committed_effects(turn_context)
        replies = list(turn_context.buffered_reply_activities)
        turn_context.buffered_reply_activities.clear()
        return replies

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        dialog_context = await self._dialogs.create_context(turn_context)
        if await self._commands.handle(dialog_context):
            return
        if await self._early_answers.handle(dialog_context):
            return
        if dialog_context.active_dialog is not None:
            await dialog_context.continue_dialog()
            return
        session = turn_context.turn_state[SESSION_KEY]
        if session.answers.get("done"):
            await turn_context.send_activity(texts(turn_context)("journey.status"))
            return
        await dialog_context.begin_dialog(JourneyDialog.__name__)

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        """Card actions are the counsellors'; a client's (forged) one is refused politely."""
        log.warning("refused a card action from someone who is not a counsellor")
        t = translator(match_locale(turn_context.activity.locale, self._default_locale))
        return refusal(t("common.staff_only"))

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Teams adds the bot to a personal chat when the client installs the app: say hello."""
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if not any(member.id == bot_id for member in members_added):
            return
        dialog_context = await self._dialogs.create_context(turn_context)
        if dialog_context.active_dialog is None:
            await dialog_context.begin_dialog(JourneyDialog.__name__)


async def _run_committed_effects(turn_context: TurnContext) -> None:
    """The state is committed: what the turn queued with ``after_commit`` happens now. A
    failure here is logged, not raised: the turn itself stands (it must not run again)."""
    for effect in take_after_commit(turn_context):
        try:
            await effect()
        except Exception as error:
            log.warning("an effect after the turn failed: %s", type(error).__name__)
