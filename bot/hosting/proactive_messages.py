"""Proactive messages: a card to a counsellor, a join link or a reminder to a client.

Teams answers 403 (``BotNotInConversationRoster``) when the app is no longer installed for
that person: retrying is pointless, so it is reported as such. 429 and 5xx are retried with
a back-off (honouring ``Retry-After``); whatever still fails is reported, never raised, so the
caller can record it and show it in the overview.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.serializer_helper import deserializer_helper
from botbuilder.schema import Activity, ConversationReference
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.domain.message_delivery import Delivery, SendResult

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
MAX_RETRY_AFTER_SECONDS = 30.0


def reference_from_dict(data: dict[str, Any]) -> ConversationReference:
    return deserializer_helper(ConversationReference, dict(data))


class ProactiveSender:
    def __init__(
        self,
        adapter: BotAdapter,
        app_id: str,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._sleep = sleep

    async def send(self, reference: dict[str, Any], activity: Activity) -> SendResult:
        async def deliver(context: TurnContext) -> str:
            response = await context.send_activity(activity)
            return response.id if response else ""

        return await self._with_retries(reference, deliver)

    async def update(
        self, reference: dict[str, Any], activity_id: str, activity: Activity
    ) -> SendResult:
        """Replace a card the bot sent earlier (e.g. a counsellor's handoff card)."""

        async def deliver(context: TurnContext) -> str:
            activity.id = activity_id
            await context.update_activity(activity)
            return activity_id

        return await self._with_retries(reference, deliver)

    async def _with_retries(
        self, reference: dict[str, Any], deliver: Callable[[TurnContext], Awaitable[str]]
    ) -> SendResult:
        conversation = reference_from_dict(reference)
        last = Retry(0.0, Delivery.FAILED)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            outcome = await self._attempt(conversation, deliver)
            if isinstance(outcome, SendResult):
                return outcome
            last = outcome
            if attempt < MAX_ATTEMPTS:
                await self._sleep(max(outcome.seconds, 2.0 ** (attempt - 1)))
        log.warning("proactive message failed after %d attempts: %s", MAX_ATTEMPTS, last.exhausted)
        return SendResult(last.exhausted)

    async def _attempt(
        self, conversation: ConversationReference, deliver: Callable[[TurnContext], Awaitable[str]]
    ) -> SendResult | Retry:
        outcome: list[SendResult | Retry] = []

        async def callback(context: TurnContext) -> None:
            # Errors must be caught here: the adapter would hand them to the turn-error handler.
            try:
                outcome.append(SendResult(Delivery.SENT, await deliver(context)))
            except HttpOperationError as error:
                outcome.append(_classify(error))
            except ClientRequestError:
                outcome.append(Retry(0.0, Delivery.FAILED))

        await self._adapter.continue_conversation(conversation, callback, self._app_id)
        return outcome[0] if outcome else SendResult(Delivery.FAILED)


@dataclass(frozen=True)
class Retry:
    seconds: float
    exhausted: Delivery  # what to report if no attempt is left


def _classify(error: HttpOperationError) -> SendResult | Retry:
    response = getattr(error, "response", None)
    # requests' response has status_code, aiohttp's (our pooled sender) has status
    status = getattr(response, "status_code", None) or getattr(response, "status", 0) or 0
    if status == 403:
        return SendResult(Delivery.NOT_INSTALLED)
    if status == 429 or status >= 500:
        retry_after = (getattr(response, "headers", None) or {}).get("Retry-After", "")
        try:
            seconds = min(float(retry_after), MAX_RETRY_AFTER_SECONDS)
        except ValueError:
            seconds = 1.0
        return Retry(seconds, Delivery.THROTTLED if status == 429 else Delivery.FAILED)
    return SendResult(Delivery.FAILED)
