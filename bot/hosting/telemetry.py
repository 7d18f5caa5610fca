"""Where the service's telemetry goes: Application Insights, an OTLP collector, or nowhere.

* ``APPLICATIONINSIGHTS_CONNECTION_STRING``: the Azure Monitor OpenTelemetry distro exports
  spans, metrics and the service's own log records (logger ``bot``) to Application Insights.
* ``OTEL_EXPORTER_OTLP_ENDPOINT``: spans and metrics over OTLP/HTTP (protobuf) to a collector
  (Jaeger, Grafana, the OpenTelemetry Collector …); both can be set at once.
* Neither: no SDK is set up, and the OpenTelemetry API the code calls does nothing.

Traces are sampled by rate: at most five turns a second are traced with their calls (all of
them while it is quiet, a share when it is busy; Application Insights scales its counts up by
the rate), so that exporting costs a busy service under 5 % of its CPU (``bench/telemetry.py``).
``OTEL_TRACES_SAMPLER`` (and ``_ARG``) choose another: ``always_on`` traces every turn.
Metrics count every turn, whatever the sampler.

What is exported is what the code records itself (``bot/hosting/turn_telemetry.py``, the
storage, Graph and connector spans): route patterns, record kinds, activity types, journey
steps, outcomes and durations — no message text, names, phone numbers, ids of clients or
tokens. The distro's automatic instrumentation of other libraries is switched off: ``requests``
and the Azure SDKs would record full URLs, and those carry record keys and meeting links.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from bot.config import ConfigurationError, Settings

log = logging.getLogger(__name__)

SERVICE_NAME = "videoberatung-bot"
TRACES_PER_SECOND = 5.0
#: what the exit may spend sending buffered telemetry (an unreachable endpoint must not hold
#: the process past the platform's termination grace period)
FLUSH_SECONDS = 5.0
#: everything the distro would instrument on its own (see the module docstring)
AUTO_INSTRUMENTED = (
    "azure_sdk",
    "django",
    "fastapi",
    "flask",
    "httpx",
    "psycopg2",
    "requests",
    "urllib",
    "urllib3",
)


@dataclass
class Telemetry:
    """The SDK's providers in use (none without an exporter); ``shutdown`` sends what is still
    buffered (at exit), within ``FLUSH_SECONDS`` in all."""

    _providers: list[Any] = field(default_factory=list)

    def shutdown(self) -> bool:
        """Flush and stop the exporters in a helper thread for at most ``FLUSH_SECONDS``;
        ``False`` if they were still busy then (an unreachable endpoint): the caller then
        leaves without waiting for them."""
        if not self._providers:
            return True
        worker = threading.Thread(target=self._stop_all, name="telemetry-shutdown", daemon=True)
        worker.start()
        worker.join(FLUSH_SECONDS)
        if worker.is_alive():
            log.warning("telemetry still sending after %gs; leaving without it", FLUSH_SECONDS)
            return False
        return True

    def _stop_all(self) -> None:
        for provider in self._providers:
            try:
                provider.shutdown()
            except Exception as error:  # an unreachable collector must not fail the exit
                log.warning("telemetry shutdown: %s", type(error).__name__)


def configure_telemetry(settings: Settings, instance_id: str) -> Telemetry:
    """Set up the OpenTelemetry SDK for the exporters configured; once per process."""
    connection_string = settings.applicationinsights_connection_string.get_secret_value()
    otlp = settings.otel_exporter_otlp_endpoint
    if not connection_string and not otlp:
        return Telemetry()
    # Exemplars (a sampled trace id on each metric point) are not shown by Application
    # Insights, and offering every measurement to them costs a tenth of a millisecond a turn.
    os.environ.setdefault("OTEL_METRICS_EXEMPLAR_FILTER", "always_off")
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.resources import Resource

    resource = Resource.create({"service.name": SERVICE_NAME, "service.instance.id": instance_id})
    span_processors: list[Any] = []
    metric_readers: list[Any] = []
    exporters: list[str] = []
    if otlp:
        span_processors, metric_readers = _otlp_pipeline(settings)
        exporters.append("otlp")
    if connection_string:
        from azure.monitor.opentelemetry import configure_azure_monitor

        try:
            configure_azure_monitor(
                connection_string=connection_string,
                resource=resource,
                logger_name="bot",
                enable_live_metrics=False,
                instrumentation_options={name: {"enabled": False} for name in AUTO_INSTRUMENTED},
                span_processors=span_processors,
                metric_readers=metric_readers,
            )
        except ValueError as error:  # the exporter parses the connection string
            raise ConfigurationError(
                f"APPLICATIONINSIGHTS_CONNECTION_STRING cannot be used: {error}"
            ) from None
        exporters.insert(0, "azure-monitor")
    else:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.trace import TracerProvider

        tracer_provider = TracerProvider(resource=resource, sampler=_default_sampler())
        for processor in span_processors:
            tracer_provider.add_span_processor(processor)
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=metric_readers))
    from opentelemetry import _logs

    providers = [
        trace.get_tracer_provider(),
        metrics.get_meter_provider(),
        _logs.get_logger_provider(),
    ]
    log.info("telemetry: exporting to %s", " and ".join(exporters))
    return Telemetry([p for p in providers if hasattr(p, "force_flush")])


def _default_sampler() -> Any:
    """The distro's default for OTLP, too: at most five traces a second (``None``: the SDK
    reads ``OTEL_TRACES_SAMPLER``)."""
    if os.environ.get("OTEL_TRACES_SAMPLER"):
        return None
    from azure.monitor.opentelemetry.exporter import RateLimitedSampler

    return RateLimitedSampler(TRACES_PER_SECOND)


def _otlp_pipeline(settings: Settings) -> tuple[list[Any], list[Any]]:
    """OTLP/HTTP exporters; they read ``OTEL_EXPORTER_OTLP_*`` (headers, timeouts) themselves
    and append ``/v1/traces`` and ``/v1/metrics`` to the endpoint."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    base = settings.otel_exporter_otlp_endpoint.rstrip("/")
    return (
        [BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces"))],
        [PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{base}/v1/metrics"))],
    )
