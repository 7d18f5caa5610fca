"""Invitation codes: hashed storage, single use, expiry, rate limit, deep link and QR code."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import segno
from PIL import Image

from bot.domain.invitations import (
    ALPHABET,
    CODE_ATTEMPTS,
    CODE_LENGTH,
    INVITATION,
    Invitations,
    IssuedInvitation,
    RedeemStatus,
    looks_like_code,
    new_code,
    normalize_code,
    teams_chat_link,
)
from bot.storage.documents import Document, DocumentStore, JsonObject
from bot.storage.sqlite import SqliteDocumentStore
from tests.support.stores import DelegatingStore

PEPPER = "test-pepper-0123456789-abcdefghij"
APP_ID = "0f2c6a3e-1b7d-4c8e-9a4f-2d3b5e6f7a8c"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
COUNSELLOR = "aad-counsellor-1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def invitations(store: DocumentStore, clock: FakeClock) -> Invitations:
    return Invitations(store, PEPPER, bot_app_id=APP_ID, clock=clock)


async def all_rows(store: DocumentStore) -> list[tuple[str, str, str, str, float | None]]:
    """Every stored row, raw: kind, key, partition, body (JSON text), time to live in seconds."""
    assert isinstance(store, SqliteDocumentStore)
    rows = await store.db.execute_fetchall(
        "SELECT kind, key, partition, body, expires_at - created_at FROM documents"
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def stored_invitation(store: DocumentStore, issued: IssuedInvitation) -> JsonObject:
    key = issued.invitation_id
    document = await store.get(INVITATION, key, partition=key)
    assert document is not None
    return document.body


def wrong_code(right: str) -> str:
    """A well-formed code that is not ``right``."""
    while (code := new_code()) == right:
        pass
    return code


# -- codes -------------------------------------------------------------------------------------


def test_alphabet_leaves_out_every_look_alike() -> None:
    assert set(ALPHABET).isdisjoint("0O1IL5S2Z8BQ")
    assert len(set(ALPHABET)) == len(ALPHABET) == 24


def test_codes_are_grouped_from_the_alphabet_and_unique() -> None:
    codes = [new_code() for _ in range(3000)]
    for code in codes:
        first, second = code.split("-")
        assert len(first) == len(second) == 4
        plain = first + second
        assert len(plain) == CODE_LENGTH >= 8
        assert set(plain) <= set(ALPHABET)
        assert any(char.isdigit() for char in plain)
        assert any(char.isalpha() for char in plain)
        assert normalize_code(code) == plain
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize(
    "typed",
    [
        "K7RM-HX4P",
        "k7rm-hx4p",
        "K7RMHX4P",
        "k7rm hx4p",
        "  K7 RM HX 4P \n",
        "K7RM – HX4P",  # en dash, as word processors write it
        "K7RM\u00a0HX4P",  # no-break space
        "Ｋ７ＲＭ－ＨＸ４Ｐ",  # full-width, from an East Asian keyboard
    ],
)
def test_typed_variants_are_accepted(typed: str) -> None:
    assert normalize_code(typed) == "K7RMHX4P"
    assert looks_like_code(typed)


@pytest.mark.parametrize("typed", ["KORM-HX4P", "K0RM-HX4P", "KQRM-HX4P", "kdrm-hx4p"])
def test_a_typed_o_zero_or_q_means_d(typed: str) -> None:
    assert normalize_code(typed) == "KDRMHX4P"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "Ja",
        "Hallo, ich habe einen Termin",
        "Tagewerk",  # 8 letters of the alphabet, but a code always has a digit
        "34679346",  # 8 digits of the alphabet, but a code always has a letter
        "K7RM-HX4",  # too short
        "K7RM-HX4PA",  # too long
        "K1RM-HX4P",  # 1 could be I, L or 7: not guessed
        "K7RS-HX4P",
        "K7RM-HX4P-K7RM-HX4P",
        "Montag 10 Uhr",
        "K7RM/HX4P!",
        "x" * 1000,
    ],
)
def test_other_answers_do_not_look_like_codes(text: str | None) -> None:
    assert normalize_code(text) is None
    assert not looks_like_code(text)


# -- storage -----------------------------------------------------------------------------------


async def test_storage_holds_only_a_keyed_hash_of_the_code(
    invitations: Invitations, store: DocumentStore, clock: FakeClock
) -> None:
    issued = await invitations.create(COUNSELLOR, note="Termin am 12.3. um 10 Uhr")
    assert (await invitations.redeem(issued.code, "client-1")).linked  # the used record too

    plain = issued.code.replace("-", "")
    expected_key = hmac.new(
        PEPPER.encode(), b"invitation-code:v1:" + plain.encode(), hashlib.sha256
    ).hexdigest()
    assert issued.invitation_id == expected_key
    assert expected_key != hashlib.sha256(plain.encode()).hexdigest()  # not a bare hash

    rows = await all_rows(store)
    invitation_rows = [row for row in rows if row[0] == INVITATION]
    assert len(invitation_rows) == 1
    _kind, key, partition, body, _ttl = invitation_rows[0]
    assert key == partition == expected_key
    for row in rows:
        text = json.dumps(row).upper()
        for form in (issued.code, plain, plain[:4] + " " + plain[4:]):
            assert form.upper() not in text

    stored = json.loads(body)
    assert stored["counsellor_object_id"] == COUNSELLOR
    assert stored["created_at"] == clock.now.isoformat()
    assert stored["expires_at"] == (clock.now + timedelta(days=14)).isoformat()
    assert stored["used_by"] == "client-1"
    assert stored["used_at"] == clock.now.isoformat()
    assert stored["note"] == "Termin am 12.3. um 10 Uhr"


async def test_invitations_disappear_thirty_days_after_expiry(
    invitations: Invitations, store: DocumentStore
) -> None:
    issued = await invitations.create(COUNSELLOR, valid_days=7)
    ttl = next(row[4] for row in await all_rows(store) if row[0] == INVITATION)
    assert ttl == pytest.approx(timedelta(days=37).total_seconds(), abs=2)

    await invitations.redeem(issued.code, "client-1")  # the replace keeps the time to live
    ttl = next(row[4] for row in await all_rows(store) if row[0] == INVITATION)
    assert ttl == pytest.approx(timedelta(days=37).total_seconds(), abs=2)


async def test_a_different_pepper_does_not_find_the_code(
    invitations: Invitations, store: DocumentStore, clock: FakeClock
) -> None:
    issued = await invitations.create(COUNSELLOR)
    other = Invitations(store, PEPPER + "-rotated", bot_app_id=APP_ID, clock=clock)
    assert (await other.redeem(issued.code, "client-1")).status is RedeemStatus.UNKNOWN


def test_a_short_pepper_is_refused(store: DocumentStore) -> None:
    with pytest.raises(ValueError, match="pepper"):
        Invitations(store, "short")


@pytest.mark.parametrize("days", [0, -1, 91])
async def test_validity_is_bounded(invitations: Invitations, days: int) -> None:
    with pytest.raises(ValueError, match="valid"):
        await invitations.create(COUNSELLOR, valid_days=days)


# -- redeeming ---------------------------------------------------------------------------------


async def test_redeem_links_the_client_once(invitations: Invitations) -> None:
    issued = await invitations.create(COUNSELLOR, note="Videotermin")

    first = await invitations.redeem(issued.code, "client-1")
    assert first.linked
    assert first.status is RedeemStatus.LINKED
    assert first.counsellor_object_id == COUNSELLOR
    assert first.note == "Videotermin"
    assert not first.already_linked

    second = await invitations.redeem(issued.code, "client-2")
    assert second.status is RedeemStatus.USED
    assert not second.linked
    assert second.counsellor_object_id == ""


async def test_the_same_client_redeeming_again_is_linked_again(
    invitations: Invitations, clock: FakeClock
) -> None:
    issued = await invitations.create(COUNSELLOR)
    assert (await invitations.redeem(issued.code, "client-1")).linked
    for _ in range(8):  # more than the rate limit: a repeat is no failure
        clock.advance(timedelta(minutes=1))
        again = await invitations.redeem(issued.code.lower(), "client-1")
        assert again.linked
        assert again.already_linked
        assert again.counsellor_object_id == COUNSELLOR


async def test_typed_variants_redeem(invitations: Invitations) -> None:
    issued = await invitations.create(COUNSELLOR)
    typed = "  " + issued.code.replace("-", " ").lower() + " "
    assert (await invitations.redeem(typed, "client-1")).linked


class RacingStore(DelegatingStore):
    """Lets the first two invitation reads both finish before either caller goes on, so that
    two redeems act on the same eTag, as two service instances could."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.barrier = asyncio.Barrier(2)
        self.racing_reads = 2

    async def get(self, kind: str, key: str, *, partition: str) -> Document | None:
        document = await super().get(kind, key, partition=partition)
        if kind == INVITATION and self.racing_reads > 0:
            self.racing_reads -= 1
            await asyncio.wait_for(self.barrier.wait(), timeout=5)
        return document


async def test_two_clients_redeeming_at_once_exactly_one_wins(
    store: DocumentStore, clock: FakeClock
) -> None:
    issued = await Invitations(store, PEPPER, clock=clock).create(COUNSELLOR)
    racing = RacingStore(store)
    invitations = Invitations(racing, PEPPER, clock=clock)

    results = await asyncio.gather(
        invitations.redeem(issued.code, "client-a"),
        invitations.redeem(issued.code, "client-b"),
    )

    assert racing.racing_reads == 0  # both really read the unused invitation
    assert sorted(result.status for result in results) == [RedeemStatus.LINKED, RedeemStatus.USED]
    winner = "client-a" if results[0].linked else "client-b"
    assert (await stored_invitation(store, issued))["used_by"] == winner


async def test_an_expired_code_is_refused(invitations: Invitations, clock: FakeClock) -> None:
    issued = await invitations.create(COUNSELLOR, valid_days=3)
    assert issued.expires_at == clock.now + timedelta(days=3)
    clock.advance(timedelta(days=3))
    result = await invitations.redeem(issued.code, "client-1")
    assert result.status is RedeemStatus.EXPIRED
    assert not result.linked


async def test_a_code_works_until_just_before_expiry(
    invitations: Invitations, clock: FakeClock
) -> None:
    issued = await invitations.create(COUNSELLOR)
    clock.advance(timedelta(days=14) - timedelta(seconds=1))
    assert (await invitations.redeem(issued.code, "client-1")).linked


async def test_a_configured_default_validity_applies(
    store: DocumentStore, clock: FakeClock
) -> None:
    invitations = Invitations(store, PEPPER, clock=clock, default_valid_days=21)
    issued = await invitations.create(COUNSELLOR)
    assert issued.expires_at == clock.now + timedelta(days=21)


async def test_an_unknown_code_is_refused(invitations: Invitations) -> None:
    result = await invitations.redeem(new_code(), "client-1")
    assert result.status is RedeemStatus.UNKNOWN
    assert result.attempts_left == 4


async def test_malformed_input_is_refused_and_not_counted(
    invitations: Invitations, store: DocumentStore
) -> None:
    for text in ["hallo", "K1RM-HX4P", "", "12345678"] * 3:
        result = await invitations.redeem(text, "client-1")
        assert result.status is RedeemStatus.MALFORMED
        assert not result.linked
    assert await store.get(CODE_ATTEMPTS, "client-1", partition="client-1") is None
    issued = await invitations.create(COUNSELLOR)
    assert (await invitations.redeem(issued.code, "client-1")).linked


# -- rate limit --------------------------------------------------------------------------------


async def test_five_wrong_codes_lock_the_client_for_an_hour(
    invitations: Invitations, store: DocumentStore, clock: FakeClock
) -> None:
    issued = await invitations.create(COUNSELLOR)
    first_failure = clock.now
    for left in [4, 3, 2, 1, 0]:
        result = await invitations.redeem(wrong_code(issued.code), "client-1")
        assert result.status is RedeemStatus.UNKNOWN
        assert result.attempts_left == left
        clock.advance(timedelta(minutes=5))

    # even the right code is refused now, without revealing that it exists
    locked = await invitations.redeem(issued.code, "client-1")
    assert locked.status is RedeemStatus.RATE_LIMITED
    assert locked.retry_after == first_failure + timedelta(hours=1)
    assert locked.counsellor_object_id == ""
    assert (await stored_invitation(store, issued))["used_by"] == ""
    unknown_while_locked = await invitations.redeem(wrong_code(issued.code), "client-1")
    assert unknown_while_locked == locked
    assert (await invitations.redeem("hallo", "client-1")).status is RedeemStatus.RATE_LIMITED

    # the limit is per client, and it is kept in storage: a new instance sees it too
    restarted = Invitations(store, PEPPER, bot_app_id=APP_ID, clock=clock)
    assert (await restarted.redeem(issued.code, "client-1")).status is RedeemStatus.RATE_LIMITED
    other = await invitations.create(COUNSELLOR)
    assert (await restarted.redeem(other.code, "client-2")).linked

    attempts = await store.get(CODE_ATTEMPTS, "client-1", partition="client-1")
    assert attempts is not None
    assert len(attempts.body["attempts"]) == 5

    # sliding window: one hour after the first failure one attempt is free again
    clock.now = first_failure + timedelta(hours=1)
    result = await restarted.redeem(issued.code, "client-1")
    assert result.linked
    assert result.counsellor_object_id == COUNSELLOR


async def test_the_window_slides(invitations: Invitations, clock: FakeClock) -> None:
    issued = await invitations.create(COUNSELLOR)
    for _ in range(5):
        await invitations.redeem(wrong_code(issued.code), "client-1")
        clock.advance(timedelta(minutes=10))
    # 50 minutes after the first failure: still locked; at 60 the first one has left
    assert (await invitations.redeem(issued.code, "client-1")).status is RedeemStatus.RATE_LIMITED
    clock.advance(timedelta(minutes=10))
    failed = await invitations.redeem(wrong_code(issued.code), "client-1")
    assert failed.status is RedeemStatus.UNKNOWN
    assert failed.attempts_left == 0
    locked = await invitations.redeem(issued.code, "client-1")
    assert locked.status is RedeemStatus.RATE_LIMITED


async def test_a_successful_redeem_is_no_failure(invitations: Invitations) -> None:
    for _ in range(4):
        await invitations.redeem(new_code(), "client-1")
    issued = await invitations.create(COUNSELLOR)
    assert (await invitations.redeem(issued.code, "client-1")).linked
    assert (await invitations.redeem(issued.code, "client-1")).linked  # repeat, still free
    last = await invitations.redeem(new_code(), "client-1")
    assert last.status is RedeemStatus.UNKNOWN
    assert last.attempts_left == 0


async def test_used_and_expired_codes_count_as_failures(
    invitations: Invitations, clock: FakeClock
) -> None:
    used = await invitations.create(COUNSELLOR)
    assert (await invitations.redeem(used.code, "client-1")).linked
    short = await invitations.create(COUNSELLOR, valid_days=1)
    clock.advance(timedelta(days=1))
    assert (await invitations.redeem(used.code, "client-2")).attempts_left == 4
    assert (await invitations.redeem(short.code, "client-2")).attempts_left == 3


async def test_parallel_attempts_cannot_pass_the_limit(
    invitations: Invitations, store: DocumentStore
) -> None:
    results = await asyncio.gather(*(invitations.redeem(new_code(), "client-1") for _ in range(12)))
    statuses = [result.status for result in results]
    assert statuses.count(RedeemStatus.UNKNOWN) == 5
    assert statuses.count(RedeemStatus.RATE_LIMITED) == 7


# -- deep link and QR code ---------------------------------------------------------------------


async def test_the_deep_link_opens_the_bot_chat_with_the_code(invitations: Invitations) -> None:
    issued = await invitations.create(COUNSELLOR)
    parts = urlsplit(issued.deep_link)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "teams.microsoft.com",
        "/l/chat/0/0",
    )
    assert f"users=28:{APP_ID}" in issued.deep_link
    assert f"message={quote(issued.code, safe='')}" in issued.deep_link
    assert parse_qs(parts.query) == {"users": [f"28:{APP_ID}"], "message": [issued.code]}


def test_the_deep_link_encodes_message_and_tenant() -> None:
    link = teams_chat_link(APP_ID, "Code: K7RM HX4P & mehr?", TENANT_ID)
    assert link == (
        f"https://teams.microsoft.com/l/chat/0/0?users=28:{APP_ID}&tenantId={TENANT_ID}"
        "&message=Code%3A%20K7RM%20HX4P%20%26%20mehr%3F"
    )
    assert parse_qs(urlsplit(link).query)["message"] == ["Code: K7RM HX4P & mehr?"]


async def test_without_an_app_id_there_is_no_link(store: DocumentStore, clock: FakeClock) -> None:
    issued = await Invitations(store, PEPPER, clock=clock).create(COUNSELLOR)
    assert (issued.deep_link, issued.qr_png) == ("", b"")


async def test_the_qr_code_is_a_small_png_of_the_deep_link(invitations: Invitations) -> None:
    issued = await invitations.create(COUNSELLOR)
    png = issued.qr_png
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) < 2048

    expected = segno.make(issued.deep_link, error="m", micro=False)
    assert expected.error in {"M", "Q", "H"}
    modules = expected.symbol_size(scale=1, border=0)[0]
    assert modules == 17 + 4 * int(expected.version)
    scale, border = 5, 4
    image = Image.open(io.BytesIO(png))
    side = (modules + 2 * border) * scale
    assert image.size == (side, side)

    # every module of segno's matrix is where the PNG has a dark (or light) square
    pixels = image.convert("L")
    for row, line in enumerate(expected.matrix):
        for column, dark in enumerate(line):
            x = (column + border) * scale + scale // 2
            y = (row + border) * scale + scale // 2
            assert (pixels.getpixel((x, y)) < 128) == bool(dark), (row, column)
    assert pixels.getpixel((1, 1)) > 128  # quiet zone


async def test_the_qr_code_decodes_to_the_deep_link(invitations: Invitations) -> None:
    import zxingcpp  # a dev dependency: decoding proves the picture really is the link

    issued = await invitations.create(COUNSELLOR)
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(issued.qr_png)))
    assert [barcode.text for barcode in decoded] == [issued.deep_link]


async def test_the_same_message_counts_as_one_attempt(invitations: Invitations) -> None:
    """A turn that runs again (it lost the race for the conversation state) passes the same
    attempt id: one wrong code is one attempt, however often its turn runs."""
    code = new_code()
    first = await invitations.redeem(code, "client-1", attempt_id="activity-1")
    again = await invitations.redeem(code, "client-1", attempt_id="activity-1")
    assert (first.status, first.attempts_left) == (RedeemStatus.UNKNOWN, 4)
    assert (again.status, again.attempts_left) == (RedeemStatus.UNKNOWN, 4)
    other = await invitations.redeem(code, "client-1", attempt_id="activity-2")
    assert other.attempts_left == 3
