"""The Teams activity handler: loads the session, routes commands, runs the journey."""

from __future__ import annotations

from botbuilder.core import ActivityHandler, ConversationState, TurnContext
from botbuilder.dialogs import DialogSet
from botbuilder.schema import ChannelAccount

from bot.i18n import match_locale
from bot.turn_locks import KeyedLocks
from dialogs.commands import STATE_DELETED, GlobalCommands
from dialogs.journey import JourneyDialog
from dialogs.session import SESSION_KEY, Session, texts


class VideoberatungBot(ActivityHandler):
    def __init__(
        self,
        conversation_state: ConversationState,
        journey: JourneyDialog,
        commands: GlobalCommands,
        default_locale: str = "de",
    ) -> None:
        self._state = conversation_state
        self._session = conversation_state.create_property("session")
        self._dialogs = DialogSet(conversation_state.create_property("dialogs"))
        self._dialogs.add(journey)
        self._commands = commands
        self._default_locale = default_locale
        self._locks = KeyedLocks()

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        async with self._locks.hold(activity.conversation.id):
            await self._state.load(turn_context)
            stored = await self._session.get(turn_context, dict)
            session = Session.from_dict(stored)
            if not stored:
                session.locale = match_locale(activity.locale, self._default_locale)
            turn_context.turn_state[SESSION_KEY] = session
            if not session.first_time_seen(activity.id):
                return  # Teams resent an activity we already answered
            await super().on_turn(turn_context)
            if not turn_context.turn_state.get(STATE_DELETED):
                await self._session.set(turn_context, session.to_dict())
                await self._state.save_changes(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        dialog_context = await self._dialogs.create_context(turn_context)
        if await self._commands.handle(dialog_context):
            return
        if dialog_context.active_dialog is not None:
            await dialog_context.continue_dialog()
            return
        session = turn_context.turn_state[SESSION_KEY]
        if session.answers.get("done"):
            await turn_context.send_activity(texts(turn_context)("journey.status"))
            return
        await dialog_context.begin_dialog(JourneyDialog.__name__)

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
