"""Handoff events reach the counsellor as a card in Teams, updated in place later on.

The card goes to the counsellor the client is linked with (by invitation code), otherwise to
the team queue. What could not be delivered is recorded on the handoff and on the
counsellor's overview instead of being lost.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from botbuilder.core import CardFactory, MessageFactory

from bot.domain.counsellors import CaseloadEntry, CounsellorDirectory, CounsellorPolicy
from bot.domain.handoff_events import HandoffEvent
from bot.domain.handoffs import Handoff, Handoffs, HandoffStatus
from bot.domain.message_delivery import Delivery
from bot.hosting.proactive_messages import ProactiveSender
from bot.i18n import staff_translator
from cards.counsellor_cards import handoff_card

log = logging.getLogger(__name__)

NOTED_EVENTS = frozenset(
    {
        HandoffEvent.CONSENT_WITHDRAWN,
        HandoffEvent.PHONE_ACCEPTED,
        HandoffEvent.PHONE_DECLINED,
        HandoffEvent.INTERPRETER_REQUESTED,
        HandoffEvent.INTERPRETER_CANCELLED,
        HandoffEvent.INTERPRETER_ARRANGED,
    }
)
STAGE_BY_EVENT = {
    HandoffEvent.REQUESTED: "ready",
    HandoffEvent.TECH_HELP_REQUESTED: "needs_help",
    HandoffEvent.CONSENT_WITHDRAWN: "withdrawn",
    HandoffEvent.CLIENT_DELETED_DATA: "closed",
}


class CounsellorNotifier:
    def __init__(
        self,
        sender: ProactiveSender,
        directory: CounsellorDirectory,
        handoffs: Handoffs,
        policy: CounsellorPolicy,
    ) -> None:
        self._sender = sender
        self._directory = directory
        self._handoffs = handoffs
        self._policy = policy

    def recipients(self, handoff: Handoff) -> tuple[str, ...]:
        """The responsible counsellor (or the queue), and everyone who already has the card."""
        responsible = (handoff.counsellor_id,) if handoff.counsellor_id else self._policy.queue()
        return tuple(dict.fromkeys([*responsible, *handoff.cards]))

    async def handoff_event(self, handoff: Handoff, event: HandoffEvent) -> None:
        stage = STAGE_BY_EVENT.get(event) or (
            "scheduled" if handoff.status == HandoffStatus.SCHEDULED else "ready"
        )
        if event == HandoffEvent.CLIENT_DELETED_DATA:
            # The card in the counsellor's chat is replaced by one without personal data.
            handoff = replace(
                handoff,
                client_name="",
                phone="",
                windows=[],
                tech={},
                topic="",
                locale="",
                interpreter={},
            )
            await self.refresh_cards(handoff, stage, note=event, keep_case=False)
        elif event in NOTED_EVENTS:
            await self.refresh_cards(handoff, stage, note=event)
        else:
            await self.refresh_cards(handoff, stage)

    async def refresh_cards(
        self, handoff: Handoff, stage: str, note: str = "", keep_case: bool = True
    ) -> Handoff:
        """Send (or update in place) the handoff card for every recipient."""
        cards: dict[str, str] = {}
        delivery: dict[str, str] = {}
        for counsellor_id in self.recipients(handoff):
            counsellor = await self._directory.get(counsellor_id)
            if counsellor is None:
                delivery[counsellor_id] = Delivery.NOT_INSTALLED
                if keep_case:
                    await self._note(counsellor_id, handoff, stage, Delivery.NOT_INSTALLED)
                continue
            card = handoff_card(staff_translator(counsellor.locale), handoff, event=note)
            activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
            existing = handoff.cards.get(counsellor_id)
            if existing:
                result = await self._sender.update(counsellor.reference, existing, activity)
            else:
                result = await self._sender.send(counsellor.reference, activity)
            delivery[counsellor_id] = result.delivery
            if result.activity_id:
                cards[counsellor_id] = result.activity_id
            if keep_case:
                await self._note(counsellor_id, handoff, stage, result.delivery)
            if not result.ok:
                log.warning(
                    "handoff %s: card not delivered (%s)", handoff.handoff_id, result.delivery
                )

        def remember(stored: Handoff) -> None:
            stored.cards.update(cards)
            stored.delivery.update(delivery)

        updated, _ = await self._handoffs.update(handoff.client_id, handoff.handoff_id, remember)
        return updated or handoff

    async def _note(self, counsellor_id: str, handoff: Handoff, stage: str, delivery: str) -> None:
        await self._directory.note_case(
            counsellor_id,
            CaseloadEntry(
                client_id=handoff.client_id,
                client_name=handoff.client_name,
                stage=stage,
                handoff_id=handoff.handoff_id,
                topic=handoff.topic,
                consultation_type=handoff.consultation_type,
                notice="" if delivery == Delivery.SENT else delivery,
                locale=handoff.locale,
                interpreter=handoff.interpreter,
            ),
        )
