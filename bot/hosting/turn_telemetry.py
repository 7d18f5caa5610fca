"""One span per turn, and the service's own metrics.

The span (``turn message``, kind server) carries the activity type, who was talking (client,
counsellor, team lead — never who), the journey step the turn ended in, the outcome and the
HTTP status; its children are the storage, Graph and connector calls the turn made. Metrics:
``bot.turns`` and ``bot.turn.duration`` (by activity type and outcome), ``bot.turn.errors``
(by error type), ``bot.reminders.sent`` (by outcome), ``bot.techcheck.runs``; the storage
latency is ``bot.storage.duration`` (``bot/storage/traced.py``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from botbuilder.dialogs import DialogState
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind

from bot.observability import mark_failed

_tracer = trace.get_tracer("videoberatung.hosting")
_meter = metrics.get_meter("videoberatung.hosting")
TURNS = _meter.create_counter("bot.turns", description="Activities received on /api/messages")
TURN_DURATION = _meter.create_histogram(
    "bot.turn.duration", unit="ms", description="Time from request to answer"
)
TURN_ERRORS = _meter.create_counter("bot.turn.errors", description="Turns that failed")
REMINDERS_SENT = _meter.create_counter("bot.reminders.sent", description="Reminders sent")
TECHCHECK_RUNS = _meter.create_counter("bot.techcheck.runs", description="Measured tech checks")

#: activity types worth a label; anything else a sender made up is "other" (the type is read
#: before the token is checked, so it must not become free text in telemetry)
ACTIVITY_TYPES = frozenset(
    {
        "message",
        "conversationUpdate",
        "invoke",
        "messageReaction",
        "installationUpdate",
        "typing",
        "event",
        "messageUpdate",
        "messageDelete",
        "endOfConversation",
    }
)
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
#: dialogs that frame the journey rather than being a step of it
_FRAMES = frozenset({"JourneyDialog", "WaterfallDialog"})


@dataclass
class Turn:
    activity_type: str = "unknown"
    role: str = ""
    step: str = ""
    outcome: str = "ok"
    error_type: str = ""
    status: int = 200


_current: ContextVar[Turn | None] = ContextVar("videoberatung_turn", default=None)


@contextmanager
def turn_span() -> Iterator[Turn]:
    """Around the handling of one POST /api/messages; the handler fills in ``Turn``."""
    turn = Turn()
    token = _current.set(turn)
    started = time.perf_counter()
    with _tracer.start_as_current_span(
        "turn",
        kind=SpanKind.SERVER,
        attributes={"http.request.method": "POST", "http.route": "/api/messages"},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield turn
        except web.HTTPException as refused:
            turn.status, turn.outcome = refused.status, _refusal(refused.status)
            raise
        except Exception as error:
            turn.status, turn.outcome, turn.error_type = 500, "error", type(error).__name__
            raise
        finally:
            _current.reset(token)
            span.update_name(f"turn {turn.activity_type}")
            span.set_attributes(_span_attributes(turn))
            if turn.outcome == "error":
                mark_failed(span, turn.error_type)
                TURN_ERRORS.add(1, {"error.type": turn.error_type})
            labels = {"activity.type": turn.activity_type, "outcome": turn.outcome}
            TURNS.add(1, labels)
            TURN_DURATION.record((time.perf_counter() - started) * 1000, labels)


def activity_label(activity_type: object) -> str:
    return str(activity_type) if activity_type in ACTIVITY_TYPES else "other"


def note(**details: str) -> None:
    """Fill in the current turn (``activity_type``, ``role``, ``step``, ``outcome``)."""
    turn = _current.get()
    if turn is not None:
        for name, value in details.items():
            setattr(turn, name, value)


def note_error(error: BaseException) -> None:
    """The turn failed inside the SDK (which answers anyway, see ``on_turn_error``)."""
    note(outcome="error", error_type=type(error).__name__)


def journey_step(state: DialogState | None) -> str:
    """The innermost step on the dialog stack (``tech_check``), ``none`` when none is open."""
    step = "none"
    while state is not None and state.dialog_stack:
        instance = state.dialog_stack[0]
        if instance.id not in _FRAMES and instance.id.endswith("Dialog"):
            step = _CAMEL.sub("_", instance.id.removesuffix("Dialog")).lower()
        inner = (instance.state or {}).get("dialogs")
        state = inner if isinstance(inner, DialogState) else None
    return step


def _refusal(status: int) -> str:
    return {400: "bad_request", 401: "unauthorized", 413: "too_large", 415: "bad_request"}.get(
        status, "refused" if status < 500 else "unavailable"
    )


def _span_attributes(turn: Turn) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "bot.activity_type": turn.activity_type,
        "bot.outcome": turn.outcome,
        "http.response.status_code": turn.status,
    }
    for name, value in (("bot.role", turn.role), ("bot.journey.step", turn.step)):
        if value:
            attributes[name] = value
    return attributes
