"""Invitation codes: a counsellor hands a client a short code that links the client to them.

The code travels by letter, e-mail or phone, so it is short, has no look-alike characters and is
shown in two groups of four for reading aloud (``K7RM-HX4P``). The database never holds the
code itself, only an HMAC-SHA256 of it under a server secret (the *pepper*, kept outside the
database): whoever copies the database can neither read codes nor test guesses offline.

Storage (one ``DocumentStore``):

* kind ``invitation``, key = partition = the HMAC of the code (hex), so a typed code is found
  with one point read. Fields: see ``Invitation``. The document lives until 30 days (by
  default) after its expiry, then the store's time to live removes it, and with it ``used_by``.
* kind ``code_attempts``, key = partition = the client id: the recent code attempts of that
  client, for the rate limit (see ``Invitations.redeem``). It lives one window after its last
  change. "Meine Daten löschen" must delete this kind too.

Alphabet (``ALPHABET``, 24 symbols): the letters and digits without the look-alike groups
0/O/Q, 1/I/L, 2/Z, 5/S and 8/B. Q goes as well because it is read as O. Each group is
dropped *as a whole*, so nobody reading a printed code ever sees one of them; the one exception
is D, the only round letter left, which absorbs a typed O, 0 or Q (``TYPED_CONFUSIONS``). The
other excluded characters cannot be mapped unambiguously (is a typed 1 an I, an L or a 7?), so
input containing them is refused as malformed and the client is asked to check the code.

Every code has at least one digit and one letter. That costs little (≈ 36 bits remain, against
at most five guesses per client and hour) and keeps ordinary answers such as "Tagewerk" or a
row of digits from being taken for a code by ``looks_like_code``.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Self
from urllib.parse import quote

import segno

from bot.domain.record import utc_now
from bot.storage.documents import ConflictError, Document, DocumentStore

INVITATION = "invitation"
CODE_ATTEMPTS = "code_attempts"

ALPHABET = "ACDEFGHJKMNPRTUVWXY34679"
DIGITS = frozenset("34679")
CODE_LENGTH = 8
GROUP_LENGTH = 4
#: typed characters that are not in the alphabet but can only mean one symbol of it
TYPED_CONFUSIONS = {"O": "D", "0": "D", "Q": "D"}
#: characters a client may put between the groups (or anywhere): spaces and dashes of all kinds
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−_.·/]+")

DEFAULT_VALID_DAYS = 14
MAX_VALID_DAYS = 90
#: how long an invitation document stays after its expiry (to answer "expired", not "unknown")
DEFAULT_RETENTION_AFTER_EXPIRY = timedelta(days=30)
MAX_FAILED_ATTEMPTS = 5
ATTEMPT_WINDOW = timedelta(hours=1)
QR_SCALE = 5
MIN_PEPPER_BYTES = 16

TEAMS_CHAT_LINK = "https://teams.microsoft.com/l/chat/0/0"


# --------------------------------------------------------------------------------------------
# Codes


def new_code() -> str:
    """A fresh code in display form, e.g. ``K7RM-HX4P`` (uniform over codes with a digit and a
    letter: drawing again until both are there keeps the choice uniform)."""
    while True:
        chars = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if _has_digit_and_letter(chars):
            return format_code(chars)


def format_code(code: str) -> str:
    """Display form of a normalised code: groups of four joined by a hyphen."""
    return "-".join(code[i : i + GROUP_LENGTH] for i in range(0, len(code), GROUP_LENGTH))


def normalize_code(text: str | None) -> str | None:
    """The canonical code (8 symbols, no hyphen) a client meant, or ``None`` if ``text`` is none.

    Accepts lower case, full-width characters, spaces and any kind of dash anywhere, and maps a
    typed O, 0 or Q to D (see the module docstring). Anything else outside the alphabet makes
    the input malformed: guessing what a typed 1 or S stood for would turn a typo into a failed
    attempt against the rate limit.
    """
    if not isinstance(text, str) or len(text) > 64:
        return None
    folded = unicodedata.normalize("NFKC", text).upper()
    compact = _SEPARATORS.sub("", folded)
    mapped = "".join(TYPED_CONFUSIONS.get(char, char) for char in compact)
    if len(mapped) != CODE_LENGTH or any(char not in ALPHABET for char in mapped):
        return None
    return mapped if _has_digit_and_letter(mapped) else None


def looks_like_code(text: str | None) -> bool:
    """Whether a whole chat answer is an invitation code (for the welcome step).

    Only the whole answer counts: picking a code out of a sentence would misread words, since
    a typed O counts as D ("Code" + "K7RM" would be a valid code).
    """
    return normalize_code(text) is not None


def _has_digit_and_letter(code: str) -> bool:
    return any(char in DIGITS for char in code) and any(char not in DIGITS for char in code)


def teams_chat_link(bot_app_id: str, message: str, tenant_id: str = "") -> str:
    """Deep link that opens the personal chat with the bot, ``message`` in the compose box.

    Teams documents ``/l/chat/0/0?users=28:<bot app id>`` for a chat with a bot and the
    ``message`` parameter for pre-filled text; the client still has to press Send. Whether the
    text is pre-filled differs between Teams clients, which is one more reason for the welcome
    step to recognise a typed code. ``tenantId`` helps users signed in to several tenants.
    """
    link = f"{TEAMS_CHAT_LINK}?users=28:{quote(bot_app_id, safe='')}"
    if tenant_id:
        link += f"&tenantId={quote(tenant_id, safe='')}"
    return f"{link}&message={quote(message, safe='')}"


def qr_png(data: str, scale: int = QR_SCALE) -> bytes:
    """PNG of a QR code for ``data``: error level M (raised by segno when that costs no size),
    the standard quiet zone of four modules. About 250 px and under 1 KB for a deep link."""
    buffer = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Records


@dataclass
class Invitation:
    """Stored under the HMAC of its code; it never holds the code."""

    counsellor_object_id: str
    created_at: str
    expires_at: str
    used_at: str = ""
    used_by: str = ""  # the client id that redeemed it
    note: str = ""  # optional, e.g. the appointment the counsellor has in mind

    def to_body(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        known = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in body.items() if name in known})


@dataclass
class CodeAttempts:
    """Code attempts of one client inside the current window: ``{"id", "at"}`` each.

    An attempt is written *before* its code is looked up and taken back if it linked, so that
    parallel messages of one client cannot slip more than the limit past the check.
    """

    attempts: list[dict[str, str]] = field(default_factory=list)

    def to_body(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        return cls(attempts=list(body.get("attempts", [])))

    def within(self, start: datetime) -> list[dict[str, str]]:
        return [a for a in self.attempts if datetime.fromisoformat(a["at"]) > start]


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """What the counsellor hands over. ``code`` appears here and nowhere in storage."""

    code: str  # display form, K7RM-HX4P
    invitation_id: str  # the HMAC, safe to log or show to staff
    expires_at: datetime
    deep_link: str  # empty without a bot app id (local mode)
    qr_png: bytes  # QR code of the deep link; empty without one


class RedeemStatus(StrEnum):
    LINKED = "linked"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    RATE_LIMITED = "rate_limited"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class RedeemResult:
    status: RedeemStatus
    counsellor_object_id: str = ""
    note: str = ""
    #: the client had already redeemed this code before (a repeated message)
    already_linked: bool = False
    #: after a refused code: further attempts allowed in the current window
    attempts_left: int | None = None
    #: when rate limited: from when on the next attempt is allowed
    retry_after: datetime | None = None

    @property
    def linked(self) -> bool:
        return self.status is RedeemStatus.LINKED


@dataclass(frozen=True, slots=True)
class _Reservation:
    attempt_id: str | None = None  # None: the limit is reached
    attempts_left: int = 0  # further attempts in the window if this one fails
    retry_after: datetime | None = None


# --------------------------------------------------------------------------------------------
# Repository


class Invitations:
    """Issues and redeems invitation codes.

    Rate limit: a sliding window of ``attempt_window`` (one hour) per client; at most
    ``max_failed_attempts`` (5) refused codes in it. Unknown, expired and someone else's used
    codes are refused attempts; malformed input is not (it never reaches the store, so it tells
    an attacker nothing). Once the limit is reached, ``redeem`` answers ``RATE_LIMITED`` before
    looking at the code, until the oldest refused attempt leaves the window.
    """

    def __init__(
        self,
        store: DocumentStore,
        pepper: str | bytes,
        *,
        bot_app_id: str = "",
        tenant_id: str = "",
        clock: Callable[[], datetime] = utc_now,
        default_valid_days: int = DEFAULT_VALID_DAYS,
        retention_after_expiry: timedelta = DEFAULT_RETENTION_AFTER_EXPIRY,
        max_failed_attempts: int = MAX_FAILED_ATTEMPTS,
        attempt_window: timedelta = ATTEMPT_WINDOW,
        qr_scale: int = QR_SCALE,
    ) -> None:
        key = pepper.encode() if isinstance(pepper, str) else bytes(pepper)
        if len(key) < MIN_PEPPER_BYTES:
            raise ValueError(
                f"the invitation pepper needs at least {MIN_PEPPER_BYTES} bytes "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        _check_valid_days(default_valid_days)
        if max_failed_attempts < 1 or attempt_window <= timedelta(0):
            raise ValueError("the rate limit needs at least one attempt and a positive window")
        self._store = store
        self._pepper = key
        self._bot_app_id = bot_app_id.strip()
        self._tenant_id = tenant_id.strip()
        self._clock = clock
        self._default_valid_days = default_valid_days
        self._retention = retention_after_expiry
        self._max_failed = max_failed_attempts
        self._window = attempt_window
        self._qr_scale = qr_scale

    def invitation_id(self, code: str) -> str:
        """HMAC-SHA256 of the normalised code under the pepper, hex; ``ValueError`` if malformed."""
        normalized = normalize_code(code)
        if normalized is None:
            raise ValueError("not an invitation code")
        message = b"invitation-code:v1:" + normalized.encode("ascii")
        return hmac.new(self._pepper, message, hashlib.sha256).hexdigest()

    def deep_link(self, code: str) -> str:
        """Teams link to the bot's personal chat with ``code`` pre-filled; empty without app id."""
        if not self._bot_app_id:
            return ""
        return teams_chat_link(self._bot_app_id, code, self._tenant_id)

    async def create(
        self, counsellor_object_id: str, valid_days: int | None = None, *, note: str = ""
    ) -> IssuedInvitation:
        if not counsellor_object_id:
            raise ValueError("an invitation needs the counsellor's object id")
        days = self._default_valid_days if valid_days is None else valid_days
        _check_valid_days(days)
        now = self._now()
        expires_at = now + timedelta(days=days)
        invitation = Invitation(
            counsellor_object_id=counsellor_object_id,
            created_at=now.isoformat(),
            expires_at=expires_at.isoformat(),
            note=note,
        )
        for _ in range(5):
            code = new_code()
            key = self.invitation_id(code)
            try:
                await self._store.create(
                    INVITATION,
                    key,
                    invitation.to_body(),
                    partition=key,
                    ttl_seconds=self._ttl(expires_at, now),
                )
            except ConflictError:  # the same code drawn twice while the first is still kept
                continue
            link = self.deep_link(code)
            return IssuedInvitation(
                code=code,
                invitation_id=key,
                expires_at=expires_at,
                deep_link=link,
                qr_png=qr_png(link, self._qr_scale) if link else b"",
            )
        raise RuntimeError("could not draw an unused invitation code")  # pragma: no cover

    async def forget_attempts(self, client_id: str) -> None:
        """Part of "Meine Daten löschen": the record of the client's code attempts."""
        await self._store.delete(CODE_ATTEMPTS, client_id, partition=client_id)

    async def redeem(
        self, code_text: str, client_id: str, attempt_id: str | None = None
    ) -> RedeemResult:
        """Link ``client_id`` to the counsellor of the code, once; see the class docstring.

        ``attempt_id`` (the message's activity id) makes a turn that runs again count as the
        same attempt, not as a second one."""
        if not client_id:
            raise ValueError("redeem needs the client id")
        code = normalize_code(code_text)
        if code is None:
            retry_after = await self._locked_until(client_id)
            if retry_after is not None:
                return RedeemResult(RedeemStatus.RATE_LIMITED, retry_after=retry_after)
            return RedeemResult(RedeemStatus.MALFORMED)

        reservation = await self._reserve_attempt(client_id, attempt_id)
        if reservation.attempt_id is None:
            return RedeemResult(RedeemStatus.RATE_LIMITED, retry_after=reservation.retry_after)
        result = await self._redeem(self.invitation_id(code), client_id)
        if result.linked:
            await self._release_attempt(client_id, reservation.attempt_id)
            return result
        return RedeemResult(result.status, attempts_left=reservation.attempts_left)

    async def _redeem(self, key: str, client_id: str) -> RedeemResult:
        while True:
            document = await self._store.get(INVITATION, key, partition=key)
            if document is None:
                return RedeemResult(RedeemStatus.UNKNOWN)
            invitation = Invitation.from_body(document.body)
            if invitation.used_by:
                if invitation.used_by == client_id:
                    return self._linked(invitation, already=True)
                return RedeemResult(RedeemStatus.USED)
            now = self._now()
            expires_at = datetime.fromisoformat(invitation.expires_at)
            if now >= expires_at:
                return RedeemResult(RedeemStatus.EXPIRED)
            invitation.used_at = now.isoformat()
            invitation.used_by = client_id
            try:
                await self._store.replace(
                    INVITATION,
                    key,
                    invitation.to_body(),
                    partition=key,
                    etag=document.etag,
                    ttl_seconds=self._ttl(expires_at, now),  # replace would drop it otherwise
                )
            except ConflictError:  # someone redeemed it meanwhile: read again, then decide
                continue
            return self._linked(invitation, already=False)

    @staticmethod
    def _linked(invitation: Invitation, *, already: bool) -> RedeemResult:
        return RedeemResult(
            RedeemStatus.LINKED,
            counsellor_object_id=invitation.counsellor_object_id,
            note=invitation.note,
            already_linked=already,
        )

    # -- rate limit ------------------------------------------------------------------------

    async def _locked_until(self, client_id: str) -> datetime | None:
        document = await self._store.get(CODE_ATTEMPTS, client_id, partition=client_id)
        if document is None:
            return None
        recent = CodeAttempts.from_body(document.body).within(self._now() - self._window)
        return self._retry_after(recent) if len(recent) >= self._max_failed else None

    async def _reserve_attempt(self, client_id: str, attempt_id: str | None) -> _Reservation:
        """Count an attempt before its code is checked, or refuse when the limit is reached."""
        while True:
            document = await self._store.get(CODE_ATTEMPTS, client_id, partition=client_id)
            now = self._now()
            attempts = CodeAttempts() if document is None else CodeAttempts.from_body(document.body)
            recent = attempts.within(now - self._window)
            if attempt_id is not None and any(a.get("id") == attempt_id for a in recent):
                return _Reservation(attempt_id, self._max_failed - len(recent))  # counted
            if len(recent) >= self._max_failed:
                return _Reservation(retry_after=self._retry_after(recent))
            attempt_id = attempt_id or secrets.token_hex(8)
            attempts.attempts = [*recent, {"id": attempt_id, "at": now.isoformat()}]
            if await self._write_attempts(client_id, attempts, document):
                return _Reservation(attempt_id, self._max_failed - len(attempts.attempts))

    async def _release_attempt(self, client_id: str, attempt_id: str) -> None:
        """Take back the attempt of a code that linked: success is no failure."""
        while True:
            document = await self._store.get(CODE_ATTEMPTS, client_id, partition=client_id)
            if document is None:
                return
            attempts = CodeAttempts.from_body(document.body)
            kept = [a for a in attempts.attempts if a.get("id") != attempt_id]
            if len(kept) == len(attempts.attempts):
                return
            attempts.attempts = kept
            if await self._write_attempts(client_id, attempts, document):
                return

    async def _write_attempts(
        self, client_id: str, attempts: CodeAttempts, document: Document | None
    ) -> bool:
        """Create or eTag-replace the attempts document; ``False`` on a lost race."""
        ttl = int(self._window.total_seconds()) + 60
        try:
            await self._store.save(
                CODE_ATTEMPTS,
                client_id,
                attempts.to_body(),
                partition=client_id,
                read=document,
                ttl_seconds=ttl,
            )
        except ConflictError:
            return False
        return True

    def _retry_after(self, recent: list[dict[str, str]]) -> datetime:
        oldest = min(datetime.fromisoformat(a["at"]) for a in recent)
        return oldest + self._window

    # -- helpers ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the invitation clock must return aware datetimes (UTC)")
        return now.astimezone(UTC)

    def _ttl(self, expires_at: datetime, now: datetime) -> int:
        """Seconds from now until the document may go: its expiry plus the retention."""
        return max(1, int((expires_at + self._retention - now).total_seconds()))


def _check_valid_days(days: int) -> None:
    if not 1 <= days <= MAX_VALID_DAYS:
        raise ValueError(f"an invitation is valid for 1 to {MAX_VALID_DAYS} days, not {days}")
