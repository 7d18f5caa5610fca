"""The pieces of telemetry that decide what leaves the service: the journey step of a turn,
the connector's route without ids, and JSON log lines tied to their trace."""

from __future__ import annotations

import json
import logging

from botbuilder.dialogs import DialogInstance, DialogState
from opentelemetry.sdk.trace import TracerProvider

from bot.hosting.outbound_http import connector_route
from bot.hosting.service_logging import JsonLines
from bot.hosting.turn_telemetry import journey_step


def stack(*ids: str) -> DialogState:
    """Nested component dialogs, outermost first."""
    inner: DialogState | None = None
    for dialog_id in reversed(ids):
        state = {"dialogs": inner} if inner is not None else {}
        inner = DialogState([DialogInstance(dialog_id, state)])
    assert inner is not None
    return inner


def test_the_step_is_the_innermost_journey_dialog_in_snake_case() -> None:
    assert journey_step(stack("JourneyDialog", "WaterfallDialog")) == "none"
    assert journey_step(stack("JourneyDialog", "TechCheckDialog", "journey.ask")) == "tech_check"
    assert journey_step(stack("JourneyDialog", "ConsultationChoiceDialog")) == (
        "consultation_choice"
    )
    assert journey_step(stack("PhoneSwitchDialog")) == "phone_switch"
    assert journey_step(None) == "none"
    assert journey_step(DialogState([])) == "none"


def test_connector_routes_keep_the_shape_and_drop_every_id() -> None:
    assert (
        connector_route("/v3/conversations/a:1xYz_secret-ish/activities/1712345678")
        == "/v3/conversations/{id}/activities/{id}"
    )
    assert connector_route("/v3/conversations/29:1abc/members/29:1def") == (
        "/v3/conversations/{id}/members/{id}"
    )
    assert connector_route("/v3/attachments/0-abc/views/original") == (
        "/v3/attachments/{id}/views/{id}"
    )


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("bot.test", logging.INFO, __file__, 1, message, (), None)


def test_json_lines_carry_the_trace_of_the_span_they_are_written_in() -> None:
    formatter = JsonLines()
    outside = json.loads(formatter.format(record("before")))
    assert set(outside) == {"time", "level", "logger", "message"}

    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("turn message") as span:
        inside = json.loads(formatter.format(record("während des Zugs")))
    context = span.get_span_context()
    assert inside["message"] == "während des Zugs"
    assert inside["trace_id"] == format(context.trace_id, "032x")
    assert inside["span_id"] == format(context.span_id, "016x")
