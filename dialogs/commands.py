"""Commands that work at every step: Hilfe, Neu starten, Sprache, Einwilligung widerrufen,
Meine Daten, Meine Daten löschen, Technik-Check, Dolmetscher — typed in any of the chat's
languages, or clicked on a card."""

from __future__ import annotations

from enum import StrEnum

from botbuilder.core import ConversationState, TurnContext
from botbuilder.dialogs import DialogContext

from bot.domain.consent import (
    ConsentAction,
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    new_receipt_id,
)
from bot.domain.counsellors import CaseloadEntry
from bot.domain.handoff_events import HandoffEvent
from bot.domain.handoffs import Handoff
from bot.domain.invitations import looks_like_code
from bot.domain.local_time import format_clock, format_local
from bot.domain.my_data import counsellors_of
from bot.domain.profiles import ClientProfile
from bot.domain.record import utc_now
from bot.domain.stats import Metric
from bot.domain.typed_text import normalise
from bot.i18n import SUPPORTED_LOCALES, Translator
from cards import card_message
from cards.tech_result_cards import link_card
from dialogs.interpreter import InterpreterDialog
from dialogs.journey import ALTERNATIVES, JourneyDialog
from dialogs.language import language_card, named_language
from dialogs.my_data import show_my_data
from dialogs.phone_switch import PhoneSwitchDialog
from dialogs.question import (
    ask,
    card_submit,
    choice_card,
    open_question_takes,
    recognize_choice,
    typed_forms,
)
from dialogs.services import JourneyServices
from dialogs.session import client_of, session_of, texts
from dialogs.tech_check import issue_link

DELETE_PENDING = "delete"
RESTART_PENDING = "restart"
#: what a yes/no confirmation is about → the catalog prefix of its texts
CONFIRMATIONS = {DELETE_PENDING: "delete", RESTART_PENDING: "restart"}
STATE_DELETED = "videoberatung.state_deleted"


class Command(StrEnum):
    HELP = "help"
    RESTART = "restart"
    LANGUAGE = "language"
    SET_LANGUAGE = "set_language"
    WITHDRAW = "withdraw"
    DELETE = "delete"
    MY_DATA = "my_data"  # what is stored about the client (Art. 15), and as a file
    TECHCHECK = "techcheck"  # a link to the measured tech check in the browser
    RESUME = "resume"  # back to the open step (a button after the measured tech check)
    INTERPRETER = "interpreter"  # asks for an interpreter's language over the open step
    ACCEPT_PHONE = "accept_phone"  # card only: the counsellor offered a phone call
    DECLINE_PHONE = "decline_phone"


#: the commands a client may type (the others are buttons only)
TYPED_COMMANDS = (
    Command.HELP,
    Command.RESTART,
    Command.LANGUAGE,
    Command.WITHDRAW,
    Command.DELETE,
    Command.MY_DATA,
    Command.TECHCHECK,
    Command.RESUME,
    Command.INTERPRETER,
)


def recognize_command(context: TurnContext) -> tuple[Command, str] | None:
    """The command and its argument (a locale), from a card click or the typed text."""
    submit = card_submit(context.activity)
    if submit is not None and "command" in submit:
        try:
            command = Command(submit["command"])
        except ValueError:
            return None
        argument = str(submit.get("locale") or submit.get("handoff") or "")
        if command == Command.SET_LANGUAGE and argument not in SUPPORTED_LOCALES:
            return Command.LANGUAGE, ""  # nothing (or a forged locale) chosen: ask again
        return command, argument
    text = normalise(context.activity.text).lstrip("/")
    if not text:
        return None
    locale = named_language(text)
    if locale is not None:
        return Command.SET_LANGUAGE, locale
    for command in TYPED_COMMANDS:
        if text in typed_forms(f"command.{command}.typed"):
            return command, ""
    return None


class GlobalCommands:
    def __init__(self, services: JourneyServices, conversation_state: ConversationState) -> None:
        self._services = services
        self._conversation_state = conversation_state

    async def handle(self, dialog_context: DialogContext) -> bool:
        """Handle a command or a pending confirmation; ``True`` if the turn is done."""
        context = dialog_context.context
        session = session_of(context)
        pending = session.pending_confirmation
        if pending in CONFIRMATIONS:
            session.pending_confirmation = ""
            submit = card_submit(context.activity) or {}
            answer = submit.get("answer") or recognize_choice(
                context.activity.text, f"{CONFIRMATIONS[pending]}.confirm", ["yes", "no"]
            )
            if answer == "yes":
                await (self._delete if pending == DELETE_PENDING else self._restart)(dialog_context)
                return True
            await context.send_activity(texts(context)(f"{CONFIRMATIONS[pending]}.cancelled"))
            await dialog_context.reprompt_dialog()
            return True

        if looks_like_code(context.activity.text or ""):
            await self._redeem(dialog_context, context.activity.text or "")
            return True
        recognised = recognize_command(context)
        if recognised is None:
            return False
        command, argument = recognised
        if (
            command == Command.SET_LANGUAGE
            and card_submit(context.activity) is None
            and await open_question_takes(dialog_context)
        ):
            return False  # "Türkisch" answers "for which language?", it does not switch the chat
        handler = {
            Command.HELP: self._help,
            Command.RESTART: self._ask_restart,
            Command.LANGUAGE: self._language,
            Command.WITHDRAW: self._withdraw,
            Command.DELETE: self._ask_delete,
            Command.MY_DATA: self._my_data,
            Command.TECHCHECK: self._techcheck,
            Command.RESUME: self._resume,
            Command.INTERPRETER: self._interpreter,
        }.get(command)
        if command == Command.SET_LANGUAGE:
            await self._set_language(dialog_context, argument)
        elif command in (Command.ACCEPT_PHONE, Command.DECLINE_PHONE):
            await self._answer_phone_offer(
                dialog_context, argument, command == Command.ACCEPT_PHONE
            )
        elif handler is not None:
            await handler(dialog_context)
        return True

    async def _answer_phone_offer(
        self, dialog_context: DialogContext, handoff_id: str, accepted: bool
    ) -> None:
        context = dialog_context.context
        t = texts(context)
        handoffs = self._services.handoffs
        handoff = await handoffs.get(client_of(context).client_id, handoff_id)
        answerable = {"offered"} if accepted else {"offered", "declined"}  # saying no twice
        if (
            handoff is None
            or handoff.phone_offer not in answerable
            or handoff.status != "requested"
        ):
            await context.send_activity(t("phone_offer.done"))
            return
        if accepted:
            await dialog_context.cancel_all_dialogs()
            await dialog_context.begin_dialog(PhoneSwitchDialog.__name__, {"handoff": handoff_id})
            return

        def decline(stored: Handoff) -> bool:
            if stored.phone_offer != "offered":
                return False
            stored.phone_offer = "declined"
            return True

        updated, changed = await handoffs.update(handoff.client_id, handoff_id, decline)
        if updated is not None and changed:
            await self._services.notifier.handoff_event(updated, HandoffEvent.PHONE_DECLINED)
        await context.send_activity(t("phone_offer.declined"))

    async def _redeem(self, dialog_context: DialogContext, text: str) -> None:
        """A code from a counsellor's invitation links the client to that counsellor."""
        context = dialog_context.context
        t = texts(context)
        client = client_of(context)
        result = await self._services.invitations.redeem(
            text, client.client_id, attempt_id=context.activity.id or None
        )
        if result.linked:
            counsellor_id = result.counsellor_object_id
            if not result.already_linked:
                self._services.counted(context, Metric.INVITATIONS_REDEEMED)

            def link(profile: ClientProfile) -> None:
                if profile.counsellor_id != counsellor_id:
                    profile.linked_at = utc_now().isoformat()
                profile.counsellor_id = counsellor_id

            await self._services.profiles.update(client.client_id, link)
            await self._services.directory.note_case(
                counsellor_id, CaseloadEntry(client.client_id, client.display_name, "invited")
            )
            await context.send_activity(t("invitation.linked"))
        else:
            retry_after = result.retry_after
            when = format_clock(retry_after, t.locale) if retry_after is not None else ""
            await context.send_activity(t(f"invitation.refused.{result.status}", time=when))
        if dialog_context.active_dialog is not None:
            await dialog_context.reprompt_dialog()

    async def _help(self, dialog_context: DialogContext) -> None:
        context = dialog_context.context
        t = texts(context)
        settings = self._services.settings
        ways = [t("help.phone", phone=settings.jobcenter_phone)] if settings.jobcenter_phone else []
        if settings.jobcenter_address:
            ways.append(t("help.in_person", address=settings.jobcenter_address))
        commands = [
            t(f"help.command.{command}")
            for command in (
                "restart",
                "language",
                "interpreter",
                "techcheck",
                "withdraw",
                "my_data",
                "delete",
            )
        ]
        paragraphs = [t("help.intro"), t("help.alternatives"), *ways]
        await context.send_activity(
            card_message(
                t,
                "help",
                {
                    "title": t("help.title"),
                    "paragraphs": [{"text": text} for text in paragraphs],
                    "commands_title": t("help.commands"),
                    "commands": [{"text": f"- {text}"} for text in commands],
                    "privacy_label": t("welcome.privacy"),
                    "privacy_url": settings.privacy_url,
                    "interpreter_label": t("command.interpreter.label"),
                    "fallback": "\n".join([t("help.title"), *paragraphs, *commands]),
                },
            )
        )
        await dialog_context.reprompt_dialog()

    async def _techcheck(self, dialog_context: DialogContext) -> None:
        """A fresh link to the measured check, at any step; the step waits below it."""
        context = dialog_context.context
        t = texts(context)
        link = await issue_link(self._services, context)
        if link is None:
            await context.send_activity(t("techcheck.chat.unavailable"))
        else:
            minutes = self._services.settings.techcheck_link_minutes
            await context.send_activity(link_card(t, link, minutes))
        if dialog_context.active_dialog is not None:
            await dialog_context.reprompt_dialog()

    async def _resume(self, dialog_context: DialogContext) -> None:
        """The open question again; where none is open, where the journey stands."""
        context = dialog_context.context
        if dialog_context.active_dialog is not None:
            await dialog_context.reprompt_dialog()
        elif session_of(context).answers.get("done"):
            await context.send_activity(texts(context)("journey.status"))
        else:
            await dialog_context.begin_dialog(JourneyDialog.__name__)

    async def _interpreter(self, dialog_context: DialogContext) -> None:
        """The interpreter card over the open step, which comes back once it is answered."""
        await dialog_context.begin_dialog(InterpreterDialog.__name__)

    async def _restart(self, dialog_context: DialogContext) -> None:
        await dialog_context.cancel_all_dialogs()
        session_of(dialog_context.context).reset_journey()
        await dialog_context.context.send_activity(texts(dialog_context.context)("restart.done"))
        await dialog_context.begin_dialog(JourneyDialog.__name__)

    async def _language(self, dialog_context: DialogContext) -> None:
        context = dialog_context.context
        t = texts(context)
        await context.send_activity(language_card(t))

    async def _set_language(self, dialog_context: DialogContext, locale: str) -> None:
        context = dialog_context.context
        session_of(context).locale = locale
        await context.send_activity(texts(context)("language.changed"))
        if dialog_context.active_dialog is not None:
            await dialog_context.reprompt_dialog()

    async def _withdraw(self, dialog_context: DialogContext) -> None:
        """Withdraw the consent in force — once: the withdrawal is keyed on the consent it
        ends, so a turn that runs again (or a second instance) finds it and says the same."""
        context = dialog_context.context
        t = texts(context)
        client = client_of(context)
        activity_id = context.activity.id or ""
        state = await self._services.consents.status(client.client_id)
        last = state.last
        ours = (
            state.status == ConsentStatus.WITHDRAWN
            and last is not None
            and (last.cause == activity_id)
        )
        if not (state.in_force or ours) or state.consent is None or last is None:
            await context.send_activity(self._nothing_to_withdraw(t, state))
            await dialog_context.reprompt_dialog()
            return
        event = last
        if not ours:
            consent = state.consent
            event, _ = await self._services.consents.append(
                ConsentEvent(
                    event_id=f"withdrawn-{consent.event_id}",
                    client_id=client.client_id,
                    action=ConsentAction.WITHDRAWN,
                    refers_to=consent.event_id,
                    text_version=consent.text_version,
                    text_sha256=consent.text_sha256,
                    method=consent.method,
                    receipt_id=new_receipt_id(),
                    cause=activity_id,
                )
            )
        cancelled = await self._services.handoffs.cancel_open(
            client.client_id, only_type="video", scrub=True
        )
        await self._services.lifecycle.ended(cancelled, HandoffEvent.CONSENT_WITHDRAWN)
        await self._services.dropped_out(context, "consent_withdrawn", "withdrawal")
        self._services.counted(context, Metric.CONSENTS_WITHDRAWN)
        session = session_of(context)
        session.answers.pop("consent", None)
        await context.send_activity(
            t("withdraw.done", time=format_local(event.at, t.locale), receipt=event.receipt_id)
        )
        await dialog_context.cancel_all_dialogs()
        await dialog_context.begin_dialog(JourneyDialog.__name__, {"entry": ALTERNATIVES})

    @staticmethod
    def _nothing_to_withdraw(t: Translator, state: ConsentState) -> str:
        last = state.last
        if state.status == ConsentStatus.WITHDRAWN and last is not None:
            return t(
                "withdraw.already", time=format_local(last.at, t.locale), receipt=last.receipt_id
            )
        if state.status == ConsentStatus.REJECTED:
            return t("withdraw.rejected")
        return t("withdraw.nothing")

    async def _ask_restart(self, dialog_context: DialogContext) -> None:
        """Asks first when there is something to lose: a step under way, or a request made."""
        if dialog_context.active_dialog is None and not session_of(
            dialog_context.context
        ).answers.get("done"):
            await self._restart(dialog_context)
            return
        await _ask_to_confirm(dialog_context, RESTART_PENDING)

    async def _my_data(self, dialog_context: DialogContext) -> None:
        await show_my_data(dialog_context, self._services)

    async def _ask_delete(self, dialog_context: DialogContext) -> None:
        await _ask_to_confirm(dialog_context, DELETE_PENDING)

    async def _delete(self, dialog_context: DialogContext) -> None:
        """Erase state, profile, handoffs and uploaded forms; keep only consent events."""
        context = dialog_context.context
        t = texts(context)
        client_id = client_of(context).client_id
        services = self._services
        cancelled = await services.handoffs.cancel_open(client_id)
        await services.lifecycle.ended(cancelled, HandoffEvent.CLIENT_DELETED_DATA)
        profile = await services.profiles.get(client_id)
        handoffs = await services.handoffs.for_client(client_id)
        for counsellor_id in counsellors_of(profile, handoffs):
            await services.directory.forget_case(counsellor_id, client_id)
        await services.handoffs.delete_all(client_id)
        await services.profiles.delete(client_id)
        await services.forms.delete_for(client_id)
        await services.invitations.forget_attempts(client_id)
        await services.card_answers.delete_all(client_id)
        services.counted(context, Metric.DELETIONS)
        kept = await services.consents.events(client_id)
        await dialog_context.cancel_all_dialogs()
        await self._conversation_state.delete(context)
        context.turn_state[STATE_DELETED] = True
        await context.send_activity(t("delete.done"))
        await context.send_activity(t("delete.kept") if kept else t("delete.nothing_kept"))


async def _ask_to_confirm(dialog_context: DialogContext, pending: str) -> None:
    """A yes/no card before a step that cannot be undone; the next message answers it."""
    context = dialog_context.context
    session_of(context).pending_confirmation = pending
    prefix = CONFIRMATIONS[pending]
    confirm = ask(f"{prefix}.confirm", ["yes", "no"], intro=[f"{prefix}.what"])
    await context.send_activity(choice_card(texts(context), confirm, pending))
