"""The client accepts the counsellor's offer of a phone call instead of video."""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext

from bot.domain.handoff_events import HandoffEvent
from bot.domain.handoffs import Handoff, HandoffStatus
from bot.domain.stats import Metric
from dialogs.contact_questions import PhoneQuestion
from dialogs.services import JourneyServices
from dialogs.session import client_of, session_of, texts


class PhoneSwitchDialog(ComponentDialog):
    """Options: ``{"handoff": handoff id}``. Asks for a number only if none is known."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(PhoneSwitchDialog.__name__)
        self._services = services
        self.add_dialog(PhoneQuestion("phone_switch.phone"))
        self.add_dialog(WaterfallDialog("phone_switch.steps", [self._ask_phone, self._switch]))
        self.initial_dialog_id = "phone_switch.steps"

    async def _ask_phone(self, step: WaterfallStepContext):
        step.values["handoff"] = step.options["handoff"]
        handoff = await self._services.handoffs.get(
            client_of(step.context).client_id, step.values["handoff"]
        )
        if handoff is not None and handoff.phone:
            return await step.next(handoff.phone)
        return await step.begin_dialog(
            "phone_switch.phone", {"question": "phone.question.consultation"}
        )

    async def _switch(self, step: WaterfallStepContext):
        await switch_to_phone(step, self._services, step.values["handoff"], step.result)
        return await step.end_dialog()


async def switch_to_phone(
    step: WaterfallStepContext, services: JourneyServices, handoff_id: str, phone: str
) -> None:
    def switch(handoff: Handoff) -> bool:
        # only an open offer (not one this turn or another instance answered already, not a
        # handoff that was closed while the client typed the number)
        if handoff.phone_offer != "offered" or handoff.status != HandoffStatus.REQUESTED:
            return False
        handoff.consultation_type = "phone"
        handoff.phone = phone
        handoff.phone_offer = "accepted"
        return True

    client_id = client_of(step.context).client_id
    updated, changed = await services.handoffs.update(client_id, handoff_id, switch)
    session_of(step.context).answers["type"] = "phone"
    if updated is not None and changed:
        services.counted(step.context, Metric.SWITCHED_TO_PHONE)
        await services.notifier.handoff_event(updated, HandoffEvent.PHONE_ACCEPTED)
    await step.context.send_activity(texts(step.context)("phone_offer.accepted"))
