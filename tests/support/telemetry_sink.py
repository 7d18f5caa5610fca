"""A stand-in for Application Insights' ingestion endpoint and an OTLP/HTTP collector, on a
loopback port. It records what arrives and checks its shape like the real services would.

* ``POST /v2.1/track``: the Azure Monitor exporter's envelopes (a JSON array, gzip'd or not);
  answered as the breeze endpoint does (``itemsReceived``/``itemsAccepted``).
* ``POST /v1/traces`` and ``/v1/metrics``: OTLP protobuf requests, decoded.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.support.loopback import serve_on_loopback

INSTRUMENTATION_KEY = "5a9f1c3e-7b2d-4e8f-9a1c-3d5e7f9b1c2d"


@dataclass
class TelemetrySink:
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    otlp_spans: list[dict[str, Any]] = field(default_factory=list)
    otlp_metrics: list[dict[str, Any]] = field(default_factory=list)
    #: every raw body received, decoded to text, for searching for what must not be there
    raw: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> TelemetrySink:
        app = web.Application(middlewares=[self._unknown])
        app.router.add_post("/v2.1/track", self._track)
        app.router.add_post("/v1/traces", self._traces)
        app.router.add_post("/v1/metrics", self._metrics)
        self._runner, self._port = await serve_on_loopback(app)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def connection_string(self) -> str:
        return f"InstrumentationKey={INSTRUMENTATION_KEY};IngestionEndpoint={self.origin}"

    def items(self, base_type: str) -> list[dict[str, Any]]:
        """``RequestData``, ``RemoteDependencyData``, ``MetricData``, ``MessageData`` …"""
        return [
            envelope["data"]["baseData"]
            for envelope in self.envelopes
            if envelope.get("data", {}).get("baseType") == base_type
        ]

    def metric_names(self) -> set[str]:
        return {metric["name"] for data in self.items("MetricData") for metric in data["metrics"]}

    @web.middleware
    async def _unknown(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            self.problems.append(f"unexpected {request.method} {request.path}")
            raise

    async def _track(self, request: web.Request) -> web.Response:
        body = await request.read()
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        text = body.decode()
        self.raw.append(text)
        try:
            envelopes = json.loads(text)
        except ValueError:
            self.problems.append("track: body is not JSON")
            return web.json_response({"itemsReceived": 0, "itemsAccepted": 0}, status=400)
        if not isinstance(envelopes, list):
            envelopes = [envelopes]
        for envelope in envelopes:
            if envelope.get("iKey") != INSTRUMENTATION_KEY:
                self.problems.append(f"track: iKey {envelope.get('iKey')}")
        self.envelopes.extend(envelopes)
        count = len(envelopes)
        return web.json_response({"itemsReceived": count, "itemsAccepted": count, "errors": []})

    async def _traces(self, request: web.Request) -> web.Response:
        for spans in self._otlp(await request.read(), ExportTraceServiceRequest, "Spans"):
            self.otlp_spans.extend(spans)
        return _protobuf(ExportTraceServiceResponse())

    async def _metrics(self, request: web.Request) -> web.Response:
        for metrics in self._otlp(await request.read(), ExportMetricsServiceRequest, "Metrics"):
            self.otlp_metrics.extend(metrics)
        return _protobuf(ExportMetricsServiceResponse())

    def _otlp(self, body: bytes, message_type: Any, signal: str) -> list[list[dict[str, Any]]]:
        """The items of an OTLP request (``resource<Signal>`` → ``scope<Signal>`` → items),
        recorded as text for the search for what must not be there."""
        decoded = MessageToDict(message_type.FromString(body))
        self.raw.append(json.dumps(decoded, ensure_ascii=False))
        return [
            scope.get(signal.lower(), [])
            for resource in decoded.get(f"resource{signal}", [])
            for scope in resource.get(f"scope{signal}", [])
        ]


def _protobuf(message: Any) -> web.Response:
    return web.Response(body=message.SerializeToString(), content_type="application/x-protobuf")
