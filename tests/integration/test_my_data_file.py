"""The client's data as a file over HTTP (Art. 20 GDPR; issue 12, item 1): the link from the
"Meine Daten" card opens exactly that client's records, and nothing of anyone else; lapsed,
forged and foreign tokens get a short page and a 4xx."""

from __future__ import annotations

import json
import time
from urllib.parse import urlparse

import aiohttp

from bot.app import SERVICE, STORE
from bot.devtools.connector_standin import LocalConnector
from bot.domain.handoffs import Handoffs
from bot.domain.my_data import FORMAT, LINK_MINUTES
from bot.domain.techcheck_links import LinkClaims, codec_for
from cards.reading import card_actions
from tests.support.http_bot import RunningBot, TeamsClient
from tests.support.http_journey import walk_to_handoff

ANNA = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
BERT = "3f2504e0-4f89-41d3-9a0c-0305e82c3302"


def file_link(client: TeamsClient) -> str:
    for card in reversed(client.cards()):
        for action in card_actions(card):
            if action.get("title") == "Als Datei herunterladen":
                return str(action["url"])
    raise AssertionError(f"no download link: {client.texts()}")


def path_of(url: str) -> str:
    return urlparse(url).path


async def fetch(http: aiohttp.ClientSession, bot: RunningBot, path: str, **headers: str):
    async with http.get(bot.url(path), headers=headers) as response:
        return response.status, response.headers, await response.text()


async def test_the_file_holds_the_clients_own_records_and_nothing_of_another(
    bot: RunningBot, http: aiohttp.ClientSession, connector: LocalConnector
) -> None:
    anna = TeamsClient(http, bot, connector, aad_object_id=ANNA, name="Anna Alpha")
    bert = TeamsClient(http, bot, connector, aad_object_id=BERT, name="Bert Beta")
    await anna.install()
    await bert.install()
    anna_receipt = await walk_to_handoff(anna)
    bert_receipt = await walk_to_handoff(bert, days="tue")
    await anna.say("Meine Daten")
    status, headers, body = await fetch(http, bot, path_of(file_link(anna)))

    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Content-Disposition"].startswith('attachment; filename="my-data-')
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    data = json.loads(body)
    assert data["format"] == FORMAT
    assert data["chat_language"] == "de"
    assert data["controller"]["phone"] == "0221 123456"
    assert data["profile"]["topic"] == "application"
    assert data["profile"]["preferred_times"] == [
        f"{day}-morning" for day in ("mon", "tue", "wed", "thu", "fri")
    ]
    [consent] = data["consent_events"]
    assert (consent["receipt"], consent["action"], consent["by"]) == (anna_receipt, "given", "you")
    assert consent["text_version"] == "2026-12/de"
    assert consent["kept_until"] > data["created_at"]
    [request] = data["requests"]
    assert (request["name_in_teams"], request["receipt"]) == ("Anna Alpha", anna_receipt)
    assert request["status"] == "requested"

    # nothing of Bert, and no internal id (the client's own object id included)
    [bert_handoff] = await Handoffs(bot.app[STORE]).for_client(BERT)
    [anna_handoff] = await Handoffs(bot.app[STORE]).for_client(ANNA)
    for foreign in ("Bert", bert_receipt, BERT, ANNA, anna_handoff.handoff_id):
        assert foreign not in body, foreign
    assert bert_handoff.handoff_id not in body
    assert "conversation" not in json.dumps(data["requests"])  # no conversation reference


async def test_the_link_lapses_and_cannot_be_forged_or_borrowed(
    bot: RunningBot, http: aiohttp.ClientSession, client: TeamsClient
) -> None:
    await client.install()
    await walk_to_handoff(client)
    my_data = bot.app[SERVICE].my_data
    past = time.time() - LINK_MINUTES * 60 - 1
    lapsed = path_of(my_data.link(ANNA, "ar", now=past) or "")
    status, headers, page = await fetch(http, bot, lapsed)
    assert status == 410
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<html lang="ar" dir="rtl">' in page  # in the chat's language, even lapsed
    assert ANNA not in page

    token = path_of(my_data.link(ANNA, "de") or "").rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    status, _, page = await fetch(http, bot, f"/my-data/{forged}", **{"Accept-Language": "en"})
    assert status == 404
    assert "The link is not valid" in page

    # a tech-check token is sealed with other keys: it opens nothing here
    claims = LinkClaims(ANNA, "x", int(time.time()) + 600, "de")
    techcheck_token = codec_for(bot.app[SERVICE].techcheck.settings).mint(claims)
    assert (await fetch(http, bot, f"/my-data/{techcheck_token}"))[0] == 404
    for hostile in ("/my-data/", "/my-data/%00", "/my-data/" + "A" * 5000):
        assert (await fetch(http, bot, hostile))[0] in (404, 414), hostile
    async with http.post(bot.url(f"/my-data/{token}")) as response:
        assert response.status == 405
