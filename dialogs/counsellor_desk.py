"""The counsellor's side of the chat: commands, handoff card actions, install and uninstall.

Every entry point here is reached only after the handler checked, on the server, that the
sender is a configured counsellor of an allowed tenant. Card actions use Universal Actions
(``Action.Execute``): the answer is the updated card, so it changes in place for everyone,
and each action is taken at most once however often it is clicked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.schema import AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue

from bot.domain.consent import (
    ConsentAction,
    ConsentEvent,
    ConsentLog,
    ConsentStatus,
    new_receipt_id,
)
from bot.domain.consent_forms import ConsentForms
from bot.domain.counsellors import CaseloadEntry, CounsellorDirectory
from bot.domain.handoff_events import HandoffEvent, Notifier
from bot.domain.handoffs import OPEN_HANDOFF_STATUSES, Handoff, Handoffs, HandoffStatus
from bot.domain.interpreters import InterpreterRequest, InterpreterStatus
from bot.domain.invitations import Invitations
from bot.domain.local_time import BERLIN
from bot.domain.message_delivery import MessageSender
from bot.domain.reminders import Reminders
from bot.domain.stats import Metric, Stats
from bot.domain.tech_assessment import expected_quality, megabytes
from bot.domain.typed_text import normalise
from bot.i18n import STAFF_LOCALES, Translator, match_locale, staff_translator, translator
from bot.integrations.meetings import Meeting, MeetingError, MeetingProvider, meeting_subject
from cards import ADAPTIVE_CARD_CONTENT_TYPE
from cards.counsellor_cards import (
    appointment_card,
    handoff_card,
    invitation_card,
    overview_card,
    phone_offer_card,
)
from cards.markdown import literal
from dialogs.session import conversation_reference, sender_object_id
from dialogs.stats_desk import is_stats_request

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeskServices:
    directory: CounsellorDirectory
    invitations: Invitations
    handoffs: Handoffs
    consents: ConsentLog
    forms: ConsentForms
    stats: Stats
    meetings: MeetingProvider
    reminders: Reminders
    sender: MessageSender
    notifier: Notifier
    meeting_minutes: int = 45


class CounsellorDesk(ActivityHandler):
    def __init__(self, services: DeskServices) -> None:
        self._services = services

    # --- install, uninstall, messages ------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._register(turn_context)
        await turn_context.send_activity(_texts(turn_context)("desk.welcome"))

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._services.directory.remove(turn_context.activity.from_property.aad_object_id)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self._register(turn_context)
        t = _texts(turn_context)
        text = normalise(turn_context.activity.text)
        actor = sender_object_id(turn_context.activity)
        if text in {normalise(v) for v in t.variants("desk.command.invite.typed")}:
            issued = await self._services.invitations.create(actor)
            await self._services.stats.count(Metric.INVITATIONS_CREATED)
            await turn_context.send_activity(invitation_card(t, issued))
        elif text in {normalise(v) for v in t.variants("desk.command.overview.typed")}:
            entries = await self._services.directory.caseload(actor)
            await turn_context.send_activity(overview_card(t, entries))
        elif is_stats_request(turn_context.activity):  # a team lead's turn does not come here
            await turn_context.send_activity(t("stats.refused"))
        else:
            await turn_context.send_activity(t("desk.help"))

    async def _register(self, turn_context: TurnContext) -> None:
        """Keep the conversation reference current, so cards reach the counsellor later."""
        directory = self._services.directory
        known = await directory.get(sender_object_id(turn_context.activity))
        reference = conversation_reference(turn_context)
        if known is None or known.reference.get("conversation", {}).get("id") != (
            reference.get("conversation", {}).get("id")
        ):
            locale = match_locale(turn_context.activity.locale, supported=STAFF_LOCALES)
            await directory.register(sender_object_id(turn_context.activity), reference, locale)

    # --- card actions ----------------------------------------------------------------------

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        t = _texts(turn_context)
        action: dict[str, Any] = invoke_value.action  # the SDK leaves it a plain dict
        verb = str(action.get("verb", ""))
        data: dict[str, Any] = dict(action.get("data") or {})
        handoff = await self._services.handoffs.get(
            str(data.get("client")), str(data.get("handoff"))
        )
        if handoff is None:
            return _message(t("desk.action.gone"))
        handler: Callable[..., Any] | None = {
            "schedule": self._schedule,
            "consent_verified": self._verify,
            "consent_rejected": self._verify,
            "tech_help_done": self._help_done,
            "offer_phone": self._offer_phone,
            "interpreter_arranged": self._interpreter_arranged,
            "close": self._close,
            "refresh": None,
        }.get(verb, self._unknown)
        notes: list[str] = []
        if handler is not None:
            handoff, notes = await handler(turn_context, handoff, verb, data)
        return _card(handoff_card(t, handoff), notes)

    async def _unknown(self, turn_context: TurnContext, handoff: Handoff, verb: str, data: dict):
        log.info("unknown card action %r", verb[:40])
        return handoff, []

    async def _schedule(
        self, turn_context: TurnContext, handoff: Handoff, verb: str, data: dict[str, Any]
    ) -> tuple[Handoff, list[str]]:
        t = _texts(turn_context)
        start = _start_time(data)
        if start is None or start <= datetime.now(BERLIN):
            return handoff, [t("desk.schedule.invalid")]
        actor = sender_object_id(turn_context.activity)

        def claim(stored: Handoff) -> bool:
            if stored.status != HandoffStatus.REQUESTED:
                return False
            stored.status = HandoffStatus.SCHEDULING
            stored.counsellor_id = stored.counsellor_id or actor
            return True

        claimed, won = await self._services.handoffs.update(
            handoff.client_id, handoff.handoff_id, claim
        )
        if claimed is None or not won:
            return claimed or handoff, []  # a second click, or a colleague was quicker
        end = start + timedelta(minutes=self._services.meeting_minutes)
        try:
            meeting = await self._create_meeting(claimed, actor, start, end, t)
        except MeetingError as error:
            log.warning("handoff %s: no meeting (%s)", handoff.handoff_id, type(error).__name__)
            reverted, _ = await self._services.handoffs.update(
                handoff.client_id, handoff.handoff_id, _set_status(HandoffStatus.REQUESTED)
            )
            return reverted or claimed, [t("desk.schedule.failed")]

        def booked(stored: Handoff) -> None:
            stored.status = HandoffStatus.SCHEDULED
            stored.meeting = meeting

        scheduled, _ = await self._services.handoffs.update(
            handoff.client_id, handoff.handoff_id, booked
        )
        assert scheduled is not None
        await self._services.consents.keep_past(scheduled.client_id, end)
        await self._services.stats.count(Metric.APPOINTMENTS_SCHEDULED)
        await self._tell_client(scheduled)
        await self._services.reminders.schedule(
            meeting_id=meeting["id"],
            handoff_id=scheduled.handoff_id,
            client_id=scheduled.client_id,
            client_ref=f"client:{scheduled.client_id}:{scheduled.handoff_id}",
            counsellor_ref=f"counsellor:{actor}",
            start=start.astimezone(BERLIN),
            locale=scheduled.locale,
        )
        await self._services.notifier.refresh_cards(scheduled, "scheduled")
        return scheduled, []

    async def _create_meeting(
        self, handoff: Handoff, actor: str, start: datetime, end: datetime, t: Translator
    ) -> dict[str, Any]:
        if handoff.consultation_type == "video":
            meeting = await self._services.meetings.create(
                actor,
                start,
                end,
                meeting_subject(t(f"choice.topic.{handoff.topic}")),
                key=handoff.handoff_id,
                text=t("desk.calendar.text"),
            )
        else:  # by phone or in person: an appointment without an online meeting
            meeting = Meeting(f"appointment-{handoff.handoff_id}", "", start, end, "appointment")
        return {**meeting.as_record(BERLIN), "organizer": actor}

    async def _tell_client(self, handoff: Handoff) -> None:
        t = translator(handoff.locale)
        mb60 = int(handoff.tech.get("mb_60_min", megabytes(expected_quality("smartphone"), 60)))
        result = await self._services.sender.send(
            handoff.client_ref, appointment_card(t, handoff, mb60)
        )
        if not result.ok:
            log.warning("handoff %s: client not reached (%s)", handoff.handoff_id, result.delivery)

    async def _verify(
        self, turn_context: TurnContext, handoff: Handoff, verb: str, data: dict[str, Any]
    ) -> tuple[Handoff, list[str]]:
        """Confirm or reject an uploaded form — once per handoff, whoever clicks first: the
        decision is recorded (keyed on the handoff) before the handoff shows it, so that a
        failure in between leaves the proof, and a second counsellor adopts the first one's
        decision."""
        if handoff.consent_status != ConsentStatus.PENDING_VERIFICATION or (
            handoff.status not in OPEN_HANDOFF_STATUSES
        ):
            return handoff, []
        verified = verb == "consent_verified"
        # the form this handoff was made with: the decision names it (and its fingerprint)
        form = next(
            (
                event
                for event in await self._services.consents.events(handoff.client_id)
                if event.receipt_id == handoff.receipt_id
            ),
            None,
        )
        decision, _ = await self._services.consents.append(
            ConsentEvent(
                event_id=f"form-decision-{handoff.handoff_id}",
                client_id=handoff.client_id,
                action=ConsentAction.VERIFIED if verified else ConsentAction.REJECTED,
                text_version=form.text_version if form else "",
                text_sha256=form.text_sha256 if form else "",
                form_sha256=form.form_sha256 if form else "",
                refers_to=form.event_id if form else "",
                method="paper_form",
                receipt_id=new_receipt_id(),
                actor=f"counsellor:{sender_object_id(turn_context.activity)}",
                cause=turn_context.activity.id or "",
            )
        )
        if decision.form_sha256:
            await self._services.forms.decided(handoff.client_id, decision.form_sha256)
        verified = decision.action == ConsentAction.VERIFIED
        status = ConsentStatus.GIVEN if verified else ConsentStatus.REJECTED

        def decide(stored: Handoff) -> bool:
            if stored.consent_status != ConsentStatus.PENDING_VERIFICATION:
                return False
            stored.consent_status = status
            return True

        updated, decided = await self._services.handoffs.update(
            handoff.client_id, handoff.handoff_id, decide
        )
        if updated is None or not decided:
            return updated or handoff, []
        key = "consent.form.verified" if verified else "consent.form.rejected"
        await self._services.sender.send(
            handoff.client_ref, MessageFactory.text(translator(handoff.locale)(key))
        )
        return updated, []

    async def _offer_phone(
        self, turn_context: TurnContext, handoff: Handoff, verb: str, data: dict[str, Any]
    ) -> tuple[Handoff, list[str]]:
        def offer(stored: Handoff) -> bool:
            if (
                stored.status != HandoffStatus.REQUESTED
                or stored.consultation_type != "video"
                or stored.phone_offer
            ):
                return False
            stored.phone_offer = "offered"
            return True

        updated, offered = await self._services.handoffs.update(
            handoff.client_id, handoff.handoff_id, offer
        )
        if updated is not None and offered:
            card = phone_offer_card(translator(updated.locale), updated)
            await self._services.sender.send(updated.client_ref, card)
        return updated or handoff, []

    async def _interpreter_arranged(
        self, turn_context: TurnContext, handoff: Handoff, verb: str, data: dict[str, Any]
    ) -> tuple[Handoff, list[str]]:
        def arrange(stored: Handoff) -> bool:
            if stored.status not in OPEN_HANDOFF_STATUSES:
                return False  # a card left over from a cancelled or closed request
            if (stored.interpreter or {}).get("status") != InterpreterStatus.REQUESTED:
                return False
            stored.interpreter = {**stored.interpreter, "status": InterpreterStatus.ARRANGED}
            return True

        updated, arranged = await self._services.handoffs.update(
            handoff.client_id, handoff.handoff_id, arrange
        )
        request = InterpreterRequest.from_dict(updated.interpreter if updated else None)
        if updated is not None and arranged and request is not None:
            t = translator(updated.locale)
            text = t("interpreter.arranged", language=literal(request.name(t.locale)))
            await self._services.sender.send(updated.client_ref, MessageFactory.text(text))
            # colleagues' cards and the overview say "bestellt" too
            await self._services.notifier.handoff_event(updated, HandoffEvent.INTERPRETER_ARRANGED)
        return updated or handoff, []

    async def _help_done(
        self, turn_context: TurnContext, handoff: Handoff, verb: str, data: dict[str, Any]
    ) -> tuple[Handoff, list[str]]:
        def done(stored: Handoff) -> bool:
            if stored.tech_help_done:
                return False
            stored.tech_help_done = True
            stored.status = HandoffStatus.CLOSED
            return True

        updated, _ = await self._services.handoffs.update(
            handoff.client_id, handoff.handoff_id, done
        )
        return updated or handoff, []

    async def _close(
        self, turn_context: TurnContext, handoff: Handoff, verb: str, data: dict[str, Any]
    ) -> tuple[Handoff, list[str]]:
        def close(stored: Handoff) -> bool:
            if stored.status not in (HandoffStatus.REQUESTED, HandoffStatus.SCHEDULED):
                return False
            stored.status = HandoffStatus.CLOSED
            return True

        updated, closed = await self._services.handoffs.update(
            handoff.client_id, handoff.handoff_id, close
        )
        if updated is not None and closed:
            await self._services.reminders.cancel_for_meeting(updated.meeting.get("id", ""))
            await self._services.directory.note_case(
                sender_object_id(turn_context.activity),
                CaseloadEntry(updated.client_id, updated.client_name, "closed", updated.handoff_id),
            )
        return updated or handoff, []


def _texts(turn_context: TurnContext) -> Translator:
    return staff_translator(turn_context.activity.locale)


def _start_time(data: dict[str, Any]) -> datetime | None:
    try:
        day = datetime.strptime(f"{data.get('date', '')} {data.get('time', '')}", "%Y-%m-%d %H:%M")
    except ValueError:
        return None
    return day.replace(tzinfo=BERLIN)


def _set_status(status: HandoffStatus) -> Callable[[Handoff], None]:
    def change(stored: Handoff) -> None:
        stored.status = status

    return change


def _card(card: dict[str, Any], notes: list[str]) -> AdaptiveCardInvokeResponse:
    if notes:
        card["body"].insert(
            1, {"type": "TextBlock", "text": " ".join(notes), "wrap": True, "color": "Attention"}
        )
    return AdaptiveCardInvokeResponse(status_code=200, type=ADAPTIVE_CARD_CONTENT_TYPE, value=card)


def _message(text: str) -> AdaptiveCardInvokeResponse:
    """A one-line card: the SDK's model only carries an object as the response value."""
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": text, "wrap": True}],
        "fallbackText": text,
    }
    return AdaptiveCardInvokeResponse(status_code=200, type=ADAPTIVE_CARD_CONTENT_TYPE, value=card)


def refusal(text: str) -> AdaptiveCardInvokeResponse:
    """The answer to a card action from someone who is not a counsellor."""
    return _message(text)
