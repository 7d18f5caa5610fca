"""Child spans for the calls a turn makes (storage, Graph, the Bot Connector).

A child span is made only inside a span that records — a sampled turn (``bot/hosting/
turn_telemetry.py``) or a reminder being sent. Elsewhere (a turn the sampler left out, the
background jobs' routine queries) nothing is made: no cost, and no stray root spans. Names and
attributes are the caller's; they must never carry ids, message text or URLs with ids in them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, StatusCode
from opentelemetry.util.types import AttributeValue

_tracer = trace.get_tracer("videoberatung")


@contextmanager
def child_span(name: str, attributes: Mapping[str, AttributeValue]) -> Iterator[Span]:
    """A client span under the current one; a do-nothing span when nothing records. An
    exception marks it failed with its type only (an exception's text can hold data)."""
    if not trace.get_current_span().is_recording():
        yield INVALID_SPAN
        return
    span = _tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
    try:
        yield span
    except Exception as error:
        mark_failed(span, type(error).__name__)
        raise
    finally:
        span.end()


def mark_failed(span: Span, error_type: str) -> None:
    """``error.type`` for OpenTelemetry, ``bot.error_type`` for Application Insights (which
    drops the former as an HTTP field); never the exception's text."""
    span.set_attribute("error.type", error_type)
    span.set_attribute("bot.error_type", error_type)
    span.set_status(StatusCode.ERROR, error_type)
