"""A local stand-in for the Microsoft identity platform token endpoint and Microsoft Graph.

It listens on a loopback port over HTTPS (msal refuses ``http://`` authorities) with a
throw-away CA made here, CHECKS every request it receives, answers like the real services,
and records what it saw. A request that breaks one of its rules gets the error the real
service would send *and* is noted in ``problems``, so a test fails even if the client
swallowed the error.

Only what the bot uses is served: OpenID discovery and the v2.0 token endpoint of one
tenant; the managed identity endpoint of Azure Container Apps and App Service (plain HTTP on
loopback, as there: ``IDENTITY_ENDPOINT`` with the ``X-IDENTITY-HEADER`` secret); calendar
events with a Teams meeting (``POST``/``DELETE`` ``/v1.0/users/{id}/events``), finding and
setting up their online meetings (``GET ?$filter=JoinWebUrl eq …``, ``PATCH``), the ``DELETE``
of an older online meeting, and ``checkMemberGroups``. Like Graph, a created event with a
``transactionId`` already used by that user is answered with the first event.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import re
import secrets
import ssl
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from multidict import CIMultiDict

from tests.support.loopback import serve_on_loopback

GRAPH_SCOPE = "https://graph.microsoft.com/.default"

#: Writable properties of the v1.0 onlineMeeting resource (and its base type) that a create
#: request may carry; Graph rejects unknown properties, and so does the stand-in.
DOCUMENTED_MEETING_FIELDS = frozenset(
    {
        "allowAttendeeToEnableCamera",
        "allowAttendeeToEnableMic",
        "allowBreakoutRooms",
        "allowCopyingAndSharingMeetingContent",
        "allowedLobbyAdmitters",
        "allowedPresenters",
        "allowLiveShare",
        "allowMeetingChat",
        "allowParticipantsToChangeName",
        "allowPowerPointSharing",
        "allowRecording",
        "allowTeamworkReactions",
        "allowTranscription",
        "allowWhiteboard",
        "chatRestrictions",
        "endDateTime",
        "externalId",
        "isEntryExitAnnounced",
        "joinMeetingIdSettings",
        "lobbyBypassSettings",
        "participants",
        "recordAutomatically",
        "shareMeetingChatHistoryDefault",
        "startDateTime",
        "subject",
        "watermarkProtection",
    }
)
#: Writable properties of the v1.0 event resource that a create request may carry.
DOCUMENTED_EVENT_FIELDS = frozenset(
    {
        "allowNewTimeProposals",
        "attendees",
        "body",
        "categories",
        "end",
        "hideAttendees",
        "importance",
        "isAllDay",
        "isOnlineMeeting",
        "isReminderOn",
        "location",
        "onlineMeetingProvider",
        "reminderMinutesBeforeStart",
        "responseRequested",
        "sensitivity",
        "showAs",
        "start",
        "subject",
        "transactionId",
    }
)
#: What every appointment must say: a Teams meeting, private, and a transaction id (so that a
#: repeated request makes no second one).
REQUIRED_EVENT_SETTINGS: dict[str, Any] = {
    "isOnlineMeeting": True,
    "onlineMeetingProvider": "teamsForBusiness",
    "sensitivity": "private",
}
#: How a meeting made with a calendar event starts: the tenant's defaults, not what we want.
TENANT_MEETING_DEFAULTS: dict[str, Any] = {
    "lobbyBypassSettings": {"scope": "organization", "isDialInBypassEnabled": True},
    "allowedPresenters": "everyone",
    "allowRecording": True,
    "recordAutomatically": False,
    "allowTranscription": True,
}
_JOIN_URL_FILTER = re.compile(r"^JoinWebUrl eq '((?:[^']|'')*)'$")
#: What the bot must always send: nobody but the counsellor skips the lobby or presents,
#: and nothing is recorded or transcribed.
REQUIRED_MEETING_SETTINGS: dict[str, Any] = {
    "lobbyBypassSettings": {"scope": "organizer", "isDialInBypassEnabled": False},
    "allowedPresenters": "organizer",
    "allowRecording": False,
    "recordAutomatically": False,
    "allowTranscription": False,
}


@dataclass(frozen=True)
class Recorded:
    """One request as the stand-in received it (``body``: form fields or parsed JSON)."""

    method: str
    path: str
    headers: CIMultiDict[str]
    body: Any


@dataclass
class _Planned:
    status: int | None  # None: stall until the stand-in closes (or drop, with ``handled``)
    retry_after: str | None = None
    code: str = ""
    #: the request is carried out, and only its answer is lost: ``status`` instead, or the
    #: connection dropped (``status`` None)
    handled: bool = False


@dataclass
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_tls(
    directory: Path, ips: tuple[str, ...] = ("127.0.0.1",), names: tuple[str, ...] = ("localhost",)
) -> TlsFiles:
    """A throw-away CA and a server certificate for ``ips`` and ``names`` signed by it."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Graph stand-in test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
                + [x509.DNSName(name) for name in names]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@dataclass
class GraphStandIn:
    """``async with GraphStandIn(tls_dir, tenant_id=…, client_id=…, client_secret=…)``.

    ``forbidden`` lists words (client names, e-mail addresses …) that must never appear in a
    meeting subject; digits are always forbidden there.
    """

    tls_dir: Path
    tenant_id: str
    client_id: str
    client_secret: str
    forbidden: Iterable[str] = ()
    token_lifetime: int = 3599

    token_requests: list[Recorded] = field(default_factory=list, init=False)
    #: the managed identity's client id the service must name (a user-assigned identity)
    identity_client_id: str = "mi-client-id"
    #: the audiences the identity may get tokens for (Graph; the Bot Framework for the bot's own)
    identity_resources: tuple[str, ...] = ("https://graph.microsoft.com",)
    identity_requests: list[Recorded] = field(default_factory=list, init=False)
    graph_requests: list[Recorded] = field(default_factory=list, init=False)
    discovery_requests: int = field(default=0, init=False)
    issued_tokens: list[str] = field(default_factory=list, init=False)
    #: meeting id → {"user_id", "body", "joinWebUrl"} of meetings that exist now (``body``:
    #: their settings)
    meetings: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    #: event id → {"user_id", "body", "meeting_id"} of appointments that exist now
    events: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    #: group id → member object ids, for checkMemberGroups
    group_members: dict[str, set[str]] = field(default_factory=dict, init=False)
    #: every rule a request broke; tests expect it empty
    problems: list[str] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.forbidden = tuple(self.forbidden)
        self.tls = make_tls(self.tls_dir)
        self._valid_tokens: set[str] = set()
        self._planned: deque[_Planned] = deque()
        self._refused: dict[str, int] = {}
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._identity_runner: web.AppRunner | None = None
        self._port = 0
        self._identity_port = 0
        self.identity_header = secrets.token_urlsafe(16)

    # --- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> GraphStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._unknown_routes])
        app.router.add_get(
            "/{tenant}/v2.0/.well-known/openid-configuration", self._openid_configuration
        )
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/v1.0/users/{user_id}/events", self._create_event)
        app.router.add_delete("/v1.0/users/{user_id}/events/{event_id}", self._delete_event)
        app.router.add_get("/v1.0/users/{user_id}/onlineMeetings", self._find_meeting)
        app.router.add_patch(
            "/v1.0/users/{user_id}/onlineMeetings/{meeting_id}", self._update_meeting
        )
        app.router.add_delete(
            "/v1.0/users/{user_id}/onlineMeetings/{meeting_id}", self._delete_meeting
        )
        app.router.add_post("/v1.0/users/{user_id}/checkMemberGroups", self._check_groups)
        self._runner, self._port = await serve_on_loopback(app, self.tls.server_context())
        identity = web.Application()
        identity.router.add_get("/msi/token", self._identity_token)
        self._identity_runner, self._identity_port = await serve_on_loopback(identity)

    async def close(self) -> None:
        self._release.set()  # let stalled handlers finish
        for runner in (self._runner, self._identity_runner):
            if runner is not None:
                await runner.cleanup()
        self._runner = self._identity_runner = None

    # --- what tests point the client at ----------------------------------------------------

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self._port}"

    @property
    def authority_host(self) -> str:
        return self.origin

    @property
    def graph_url(self) -> str:
        return f"{self.origin}/v1.0"

    @property
    def identity_endpoint(self) -> str:
        """``IDENTITY_ENDPOINT`` for azure-identity (with ``IDENTITY_HEADER``)."""
        return f"http://127.0.0.1:{self._identity_port}/msi/token"

    @property
    def ca_file(self) -> str:
        return str(self.tls.ca_file)

    # --- steering --------------------------------------------------------------------------

    def fail_next(
        self, count: int, status: int, *, retry_after: str | None = None, code: str = ""
    ) -> None:
        """Answer the next ``count`` Graph requests with ``status`` (e.g. 429, 503)."""
        self._planned.extend(_Planned(status, retry_after, code) for _ in range(count))

    def refuse(self, method: str, status: int) -> None:
        """Answer every ``method`` request with ``status`` from now on (e.g. PATCH 403)."""
        self._refused[method] = status

    def lose_answer_next(self, status: int | None) -> None:
        """Carry out the next Graph request, then answer ``status`` (502, 504) instead of its
        answer, or drop the connection (``None``): the client cannot know it happened."""
        self._planned.append(_Planned(status, handled=True))

    def add_meeting(self, user_id: str) -> str:
        """An online meeting made before appointments were events (for the old cancel)."""
        meeting_id = f"MSp{secrets.token_urlsafe(18)}"
        self.meetings[meeting_id] = {"user_id": user_id, "body": {}, "joinWebUrl": _join_url()}
        return meeting_id

    def stall_next(self, count: int = 1) -> None:
        """Do not answer the next ``count`` Graph requests until the stand-in closes."""
        self._planned.extend(_Planned(None) for _ in range(count))

    def revoke_tokens(self) -> None:
        """Tokens issued so far are refused from now on (as after a secret rotation)."""
        self._valid_tokens.clear()

    # --- identity platform -----------------------------------------------------------------

    async def _openid_configuration(self, request: web.Request) -> web.Response:
        self.discovery_requests += 1
        tenant = request.match_info["tenant"]
        if tenant != self.tenant_id:
            return self._refuse(400, "invalid_tenant", f"discovery for unknown tenant {tenant}")
        base = f"{self.origin}/{tenant}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "response_types_supported": ["code", "id_token", "token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append(_recorded(request, form))
        tenant = request.match_info["tenant"]
        if tenant != self.tenant_id:
            return self._refuse(400, "invalid_request", f"token for unknown tenant {tenant}")
        if form.get("grant_type") != "client_credentials":
            return self._refuse(400, "unsupported_grant_type", f"grant {form.get('grant_type')}")
        if form.get("client_id") != self.client_id:
            return self._refuse(400, "unauthorized_client", "unknown client_id")
        if form.get("client_secret") != self.client_secret:
            return self._refuse(401, "invalid_client", "wrong client secret")
        scopes = str(form.get("scope", "")).split()
        if scopes != [GRAPH_SCOPE]:
            return self._refuse(400, "invalid_scope", f"scope {scopes}, want [{GRAPH_SCOPE}]")
        token = f"standin.{secrets.token_urlsafe(24)}"
        self.issued_tokens.append(token)
        self._valid_tokens.add(token)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            }
        )

    async def _identity_token(self, request: web.Request) -> web.Response:
        """The App Service / Container Apps managed identity protocol (api-version
        2019-08-01): the header proves the caller runs in the app, ``resource`` names the
        audience, ``client_id`` the user-assigned identity."""
        query = dict(request.query)
        self.identity_requests.append(_recorded(request, query))
        if request.headers.get("X-IDENTITY-HEADER") != self.identity_header:
            self.problems.append("identity: missing or wrong X-IDENTITY-HEADER")
            return web.json_response({"message": "missing identity header"}, status=401)
        if query.get("api-version") != "2019-08-01":
            self.problems.append(f"identity: api-version {query.get('api-version')}")
            return web.json_response({"message": "unsupported api-version"}, status=400)
        if query.get("resource") not in self.identity_resources:
            self.problems.append(f"identity: resource {query.get('resource')}")
            return web.json_response({"message": "unknown resource"}, status=400)
        if query.get("client_id") != self.identity_client_id:
            self.problems.append(f"identity: client_id {query.get('client_id')}")
            return web.json_response({"message": "identity not assigned"}, status=400)
        token = f"standin.mi.{secrets.token_urlsafe(24)}"
        self.issued_tokens.append(token)
        self._valid_tokens.add(token)
        expires_on = int(dt.datetime.now(dt.UTC).timestamp()) + self.token_lifetime
        return web.json_response(
            {
                "access_token": token,
                "expires_on": str(expires_on),
                "resource": query["resource"],
                "token_type": "Bearer",
                "client_id": self.identity_client_id,
            }
        )

    # --- Graph -----------------------------------------------------------------------------

    async def _create_event(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        self.graph_requests.append(_recorded(request, body))
        return await self._graph(request, lambda: self._created(request, body))

    async def _find_meeting(self, request: web.Request) -> web.Response:
        self.graph_requests.append(_recorded(request, None))

        async def answer() -> web.Response:
            user_id = request.match_info["user_id"]
            match = _JOIN_URL_FILTER.match(request.query.get("$filter", ""))
            if match is None or set(request.query) != {"$filter"}:
                self.problems.append(f"onlineMeetings lookup {request.query_string!r}")
                return _graph_error(400, "BadRequest", "filter by JoinWebUrl only")
            join_url = match.group(1).replace("''", "'")
            found = [
                {"id": meeting_id, "joinWebUrl": meeting["joinWebUrl"], **meeting["body"]}
                for meeting_id, meeting in self.meetings.items()
                if meeting["user_id"] == user_id and meeting["joinWebUrl"] == join_url
            ]
            return web.json_response({"value": found})

        return await self._graph(request, answer)

    async def _update_meeting(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        self.graph_requests.append(_recorded(request, body))

        async def answer() -> web.Response:
            meeting = self.meetings.get(request.match_info["meeting_id"])
            if meeting is None or meeting["user_id"] != request.match_info["user_id"]:
                return _graph_error(404, "NotFound", "The meeting was not found.")
            broken = self._settings_problems(body)
            if broken:
                self.problems.extend(broken)
                return _graph_error(400, "BadRequest", "; ".join(broken))
            meeting["body"] = {**meeting["body"], **body}
            return web.json_response(
                {"id": request.match_info["meeting_id"], "joinWebUrl": meeting["joinWebUrl"]}
            )

        return await self._graph(request, answer)

    async def _delete_event(self, request: web.Request) -> web.Response:
        self.graph_requests.append(_recorded(request, None))

        async def answer() -> web.Response:
            event = self.events.get(request.match_info["event_id"])
            if event is None or event["user_id"] != request.match_info["user_id"]:
                return _graph_error(404, "NotFound", "The event was not found.")
            del self.events[request.match_info["event_id"]]
            self.meetings.pop(event["meeting_id"], None)  # the meeting goes with it
            return web.Response(status=204)

        return await self._graph(request, answer)

    async def _check_groups(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.graph_requests.append(_recorded(request, body))
        groups = body.get("groupIds") if isinstance(body, dict) else None
        if not isinstance(groups, list) or not groups or len(groups) > 20:
            self.problems.append("checkMemberGroups needs 1–20 groupIds")
            return _graph_error(400, "Request_BadRequest", "groupIds")
        user = request.match_info["user_id"]

        async def answer() -> web.Response:
            member_of = [g for g in groups if user in self.group_members.get(g, set())]
            return web.json_response({"value": member_of})

        return await self._graph(request, answer)

    async def _delete_meeting(self, request: web.Request) -> web.Response:
        self.graph_requests.append(_recorded(request, None))
        return await self._graph(request, lambda: self._deleted(request))

    async def _graph(
        self, request: web.Request, handle: Callable[[], Awaitable[web.Response]]
    ) -> web.Response:
        """What every Graph route does first: authentication, then any planned answer."""
        authorization = request.headers.get("Authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or token not in self.issued_tokens:
            self.problems.append(f"{request.method} {request.path} without a token it issued")
        if scheme != "Bearer" or token not in self._valid_tokens:
            return _graph_error(401, "InvalidAuthenticationToken", "Access token is invalid.")
        if request.method in self._refused:
            status = self._refused[request.method]
            return _graph_error(status, _default_code(status), "refused")
        if self._planned:
            planned = self._planned.popleft()
            if planned.handled:
                await handle()  # done, but the client never hears of it
                if planned.status is None:
                    assert request.transport is not None
                    request.transport.abort()
                    return web.Response(status=204)
                return _graph_error(planned.status, _default_code(planned.status), "planned")
            if planned.status is None:
                await self._release.wait()
                return _graph_error(503, "ServiceUnavailable", "stalled")
            headers = {"Retry-After": planned.retry_after} if planned.retry_after else {}
            return _graph_error(
                planned.status, planned.code or _default_code(planned.status), "planned", headers
            )
        return await handle()

    async def _created(self, request: web.Request, body: Any) -> web.Response:
        user_id = request.match_info["user_id"]
        broken = self._event_problems(request, user_id, body)
        if broken:
            self.problems.extend(broken)
            return _graph_error(400, "BadRequest", "; ".join(broken))
        first = next(
            (
                event_id
                for event_id, event in self.events.items()
                if event["user_id"] == user_id
                and event["body"]["transactionId"] == body["transactionId"]
            ),
            None,
        )
        if first is None:  # a transaction id seen before: the first event, not a second one
            first = f"AAMkAG{secrets.token_urlsafe(24)}"
            meeting_id = f"MSp{secrets.token_urlsafe(18)}"
            self.meetings[meeting_id] = {
                "user_id": user_id,
                "body": dict(TENANT_MEETING_DEFAULTS),
                "joinWebUrl": _join_url(),
            }
            self.events[first] = {"user_id": user_id, "body": body, "meeting_id": meeting_id}
        event = self.events[first]
        join_url = self.meetings[event["meeting_id"]]["joinWebUrl"]
        return web.json_response(
            {
                "@odata.type": "#microsoft.graph.event",
                "id": first,
                **event["body"],
                "webLink": f"https://outlook.office365.com/owa/?itemid={first}",
                "organizer": {"emailAddress": {"address": f"{user_id}@example.org"}},
                "onlineMeeting": {"joinUrl": join_url},
            },
            status=201,
        )

    async def _deleted(self, request: web.Request) -> web.Response:
        user_id = request.match_info["user_id"]
        meeting_id = request.match_info["meeting_id"]
        meeting = self.meetings.get(meeting_id)
        if meeting is None or meeting["user_id"] != user_id:
            return _graph_error(404, "NotFound", "The meeting was not found.")
        del self.meetings[meeting_id]
        return web.Response(status=204)

    def _event_problems(self, request: web.Request, user_id: str, body: Any) -> list[str]:
        found: list[str] = []
        try:
            uuid.UUID(user_id)
        except ValueError:
            found.append(f"user id {user_id!r} is not an Entra object id")
        if not request.content_type.startswith("application/json"):
            found.append(f"content type {request.content_type!r}")
        if not isinstance(body, dict):
            return [*found, "body is not a JSON object"]
        unknown = set(body) - DOCUMENTED_EVENT_FIELDS
        if unknown:
            found.append(f"undocumented properties {sorted(unknown)}")
        for key, want in REQUIRED_EVENT_SETTINGS.items():
            if body.get(key) != want:
                found.append(f"{key} is {body.get(key)!r}, want {want!r}")
        transaction = body.get("transactionId")
        if not isinstance(transaction, str) or not 1 <= len(transaction) <= 64:
            found.append("no transactionId: a repeated request would make a second event")
        if body.get("attendees"):
            found.append("attendees: nobody is invited through the calendar")
        start = _event_time(body.get("start"), "start", found)
        end = _event_time(body.get("end"), "end", found)
        if start and end and not start < end:
            found.append("start is not before end")
        subject = body.get("subject")
        if not isinstance(subject, str) or not subject.strip():
            found.append("no subject")
        text = (
            (body.get("body") or {}).get("content") if isinstance(body.get("body"), dict) else None
        )
        if not isinstance(text, str) or (body.get("body") or {}).get("contentType") != "text":
            found.append("no plain-text body")
        for name, value in (("subject", subject), ("body", text)):
            if not isinstance(value, str):
                continue
            if re.search(r"\d", value):
                found.append(f"digits in the {name}")
            found.extend(
                f"forbidden word {word!r} in the {name}"
                for word in self.forbidden
                if word.casefold() in value.casefold()
            )
        return found

    def _settings_problems(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            return ["meeting settings are not a JSON object"]
        unknown = set(body) - DOCUMENTED_MEETING_FIELDS
        found = [f"undocumented properties {sorted(unknown)}"] if unknown else []
        for key, want in REQUIRED_MEETING_SETTINGS.items():
            if key not in body or body[key] != want or type(body[key]) is not type(want):
                found.append(f"{key} is {body.get(key)!r}, want {want!r}")
        return found

    # --- helpers ---------------------------------------------------------------------------

    @web.middleware
    async def _unknown_routes(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            self.problems.append(f"unknown route {request.method} {request.path}")
            return _graph_error(404, "UnknownRoute", "No such resource.")
        except web.HTTPMethodNotAllowed:
            self.problems.append(f"unknown route {request.method} {request.path}")
            return _graph_error(405, "MethodNotAllowed", "Method not allowed.")

    def _refuse(self, status: int, error: str, description: str) -> web.Response:
        """An identity-platform error answer; the broken rule is noted as a problem."""
        self.problems.append(f"token endpoint: {error}: {description}")
        return web.json_response(
            {"error": error, "error_description": f"STANDIN: {description}"}, status=status
        )


def _recorded(request: web.Request, body: Any) -> Recorded:
    return Recorded(request.method, request.path, CIMultiDict(request.headers), body)


async def _json_body(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def _join_url() -> str:
    return (
        "https://teams.microsoft.com/l/meetup-join/"
        f"19%3ameeting_{secrets.token_hex(12)}%40thread.v2/0?context=%7b%22Tid%22%3a%22x%22%7d"
    )


def _event_time(value: Any, name: str, found: list[str]) -> dt.datetime | None:
    """A dateTimeTimeZone: the bot sends UTC, without an offset in the time itself."""
    if not isinstance(value, dict) or value.get("timeZone") != "UTC":
        found.append(f"{name} is not a dateTimeTimeZone in UTC: {value!r}")
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value.get("dateTime")))
    except ValueError:
        found.append(f"{name} {value!r} is not ISO 8601")
        return None
    if parsed.tzinfo is not None:
        found.append(f"{name} {value!r} carries an offset besides its time zone")
        return None
    return parsed


def _default_code(status: int) -> str:
    return {
        401: "InvalidAuthenticationToken",
        403: "Forbidden",
        429: "TooManyRequests",
        502: "BadGateway",
        503: "ServiceUnavailable",
        504: "GatewayTimeout",
    }.get(status, "UnknownError")


def _graph_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """An error in Graph's shape, with the ``request-id`` header Graph sends."""
    request_id = str(uuid.uuid4())
    return web.json_response(
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {"request-id": request_id, "client-request-id": request_id},
            }
        },
        status=status,
        headers={"request-id": request_id, **(headers or {})},
    )
