"""The client journey through the SDK's test adapter: every path, typed and clicked."""

from __future__ import annotations

from bot.domain.consent import ConsentLog
from bot.domain.handoff_events import HandoffEvent
from bot.domain.handoffs import Handoffs, HandoffStatus
from bot.domain.profiles import Profiles
from bot.domain.stats import Metric, Stats
from bot.storage import DocumentStore
from tests.support.journey import CLIENT, Chat, reach_consent, reach_tech_check


async def handoffs(store: DocumentStore) -> list:
    return await Handoffs(store).for_client(CLIENT)


async def test_happy_path_by_clicks_creates_one_handoff_within_twelve_turns(
    chat: Chat, store: DocumentStore
) -> None:
    await chat.install()
    assert chat.said("Willkommen im Jobcenter-Chat!")
    assert chat.said("Das Video-Gespräch ist freiwillig, ohne Nachteile für Sie.")
    assert chat.said("Fragen zu Geld und Bürgergeld besprechen wir nur vor Ort.")
    turns = 0
    for answer in (
        "Bewerbung (Lebenslauf, Anschreiben)",
        "Per Video",
        "Smartphone (Handy)",
        "Ja, die Teams-App",
        "Ja, beides",
        "Ja",
        "Mobile Daten (begrenzt)",
        "Mehr als 2 GB",
    ):
        await chat.click(answer)
        turns += 1
    assert chat.said("Ihre Technik ist bereit. Wir haben ein paar Tipps.")
    assert chat.said("in 30 Minuten etwa 225 MB. In 60 Minuten sind es etwa 450 MB.")
    await chat.click("Ja, ich bin einverstanden")
    turns += 1
    assert chat.said("Danke! Wir haben Ihre Einwilligung gespeichert.")
    await chat.click("Weiter", days="mon,wed", parts="morning")
    turns += 1
    assert chat.said(
        "Geschafft! Wir haben Ihre Anfrage an Ihre Beraterin oder Ihren Berater geschickt."
    )
    assert turns <= 12

    [handoff] = await handoffs(store)
    assert handoff.status == HandoffStatus.REQUESTED
    assert (handoff.consultation_type, handoff.topic) == ("video", "application")
    assert handoff.windows == ["mon-morning", "wed-morning"]
    assert handoff.consent_status == "given"
    assert handoff.tech["outcome"] == "ready_with_advice"
    assert handoff.client_name == "Erika Muster"
    assert chat.notifier.events == [(handoff.handoff_id, HandoffEvent.REQUESTED)]
    [event] = await ConsentLog(store).events(CLIENT)
    assert (event.action, event.receipt_id) == ("given", handoff.receipt_id)
    assert event.text_version == "2026-12/de"
    profile = await Profiles(store).get(CLIENT)
    assert profile is not None
    assert profile.stage == "consultation_requested"


async def test_happy_path_typed(chat: Chat, store: DocumentStore) -> None:
    await chat.install()
    for text in ("Bewerbung", "Video", "Laptop", "ja", "ja", "ja", "mobile daten", "1,5 GB"):
        await chat.send(text)
    assert chat.said("Achtung: Ein Gespräch braucht viel von Ihrem Datenvolumen.")
    await chat.send("WLAN")
    await chat.send("ich stimme zu")
    assert chat.said("Danke! Wir haben Ihre Einwilligung gespeichert.")
    await chat.send("Montag und Freitag nachmittags")
    assert chat.said("Geschafft!")
    [handoff] = await handoffs(store)
    assert handoff.windows == ["mon-afternoon", "fri-afternoon"]
    assert handoff.tech["advice"] == ["tech.advice.volume_warning"]
    assert handoff.tech["data_plan"] == "wifi"


async def test_benefits_are_routed_to_an_in_person_appointment(
    chat: Chat, store: DocumentStore
) -> None:
    await chat.install()
    await chat.click("Geld vom Jobcenter (zum Beispiel Bürgergeld)")
    assert chat.said("Fragen zu Geld besprechen wir nur vor Ort.")
    await chat.click("Ja, Termin im Jobcenter")
    assert chat.said("Wann passt Ihnen ein Termin?")
    await chat.send("egal")
    assert chat.said("Sie bekommen hier im Chat einen Termin im Jobcenter.")
    [handoff] = await handoffs(store)
    assert (handoff.topic, handoff.consultation_type) == ("benefits", "in_person")
    assert handoff.consent_status == "none"
    assert len(handoff.windows) == 10


async def test_benefits_can_choose_another_topic(chat: Chat) -> None:
    await chat.install()
    await chat.send("Bürgergeld")
    await chat.click("Nein, anderes Thema wählen")
    assert chat.said("Worüber möchten Sie sprechen?")


async def test_phone_consultation_asks_for_a_valid_number_and_skips_consent(
    chat: Chat, store: DocumentStore
) -> None:
    await chat.install()
    await chat.click("Ausbildung")
    await chat.click("Per Telefon")
    assert chat.said("Unter welcher Telefonnummer können wir Sie anrufen?")
    await chat.send("ruf mich an")
    assert chat.said("Diese Nummer können wir nicht lesen.")
    await chat.click("Weiter", phone="0171 / 234 56 78")
    await chat.click("Weiter", days="tue", parts="")
    [handoff] = await handoffs(store)
    assert (handoff.consultation_type, handoff.phone) == ("phone", "01712345678")
    assert handoff.windows == ["tue-morning", "tue-afternoon"]
    assert await ConsentLog(store).events(CLIENT) == []
    assert (await Stats(store).weeks(1))[0].count(Metric.dropout("chose_phone")) == 1


async def test_help_needed_offers_a_tech_help_call_back(chat: Chat, store: DocumentStore) -> None:
    await reach_tech_check(chat)
    for answer in ("Smartphone (Handy)", "Weiß ich nicht", "Weiß ich nicht", "Ja"):
        await chat.click(answer)
    await chat.click("Mobile Daten (begrenzt)")
    await chat.send("100 MB")
    assert chat.said("Wir helfen Ihnen gern bei der Technik.")
    assert chat.said("Ihr Datenvolumen reicht nicht für ein Video-Gespräch.")
    await chat.click("Rufen Sie mich an (Hilfe bei der Technik)")
    await chat.send("+49 171 2345678")
    await chat.send("Mittwoch vormittags")
    assert chat.said("Wir rufen Sie an und helfen bei der Technik.")
    [handoff] = await handoffs(store)
    assert (handoff.purpose, handoff.phone, handoff.windows) == (
        "tech_help",
        "+491712345678",
        ["wed-morning"],
    )
    assert chat.notifier.events == [(handoff.handoff_id, HandoffEvent.TECH_HELP_REQUESTED)]


async def test_help_needed_can_switch_to_phone_or_try_later(
    chat: Chat, store: DocumentStore
) -> None:
    without_camera = (
        "Tablet",
        "Ja, die Teams-App",
        "Nein, keins von beiden",
        "Ja",
        "WLAN oder Flatrate (unbegrenzt)",
    )
    await reach_tech_check(chat)
    for answer in without_camera:
        await chat.click(answer)
    await chat.click("Lieber ein Telefon-Gespräch")
    assert chat.said("Unter welcher Telefonnummer können wir Sie anrufen?")
    assert (await Stats(store).weeks(1))[0].count(Metric.dropout("prefers_phone")) == 1

    await chat.send("Neu starten")
    await chat.click("Ja, neu beginnen")
    await chat.click("Bewerbung (Lebenslauf, Anschreiben)")
    await chat.click("Per Video")
    for answer in without_camera:
        await chat.click(answer)
    await chat.click("Später noch einmal versuchen")
    assert chat.said("Kein Problem. Schreiben Sie einfach „Neu starten“, wenn Sie so weit sind.")
    assert (await Stats(store).weeks(1))[0].count(Metric.dropout("try_later")) == 1


async def test_declining_consent_offers_alternatives(chat: Chat, store: DocumentStore) -> None:
    await reach_consent(chat)
    await chat.click("Nein, lieber Telefon oder vor Ort")
    assert chat.said("Wie möchten Sie stattdessen mit uns sprechen?")
    await chat.click("Vor Ort im Jobcenter")
    await chat.send("egal")
    [handoff] = await handoffs(store)
    assert handoff.consultation_type == "in_person"
    assert await ConsentLog(store).events(CLIENT) == []
    assert (await Stats(store).weeks(1))[0].count(Metric.dropout("consent_declined")) == 1


async def test_confusing_replies_get_a_kind_reprompt_then_the_alternatives(chat: Chat) -> None:
    await reach_tech_check(chat)
    await chat.send("Banane")
    assert chat.said("Das haben wir leider nicht verstanden.")
    assert chat.said("Welches Gerät nutzen Sie für das Video-Gespräch?")
    assert not chat.said("Schreiben Sie „Hilfe“")
    await chat.send("Kartoffel")
    assert chat.said("Sie kommen nicht weiter? Schreiben Sie „Hilfe“.")
    await chat.send("2")
    assert chat.said("Haben Sie die App „Microsoft Teams“ auf dem Gerät?")


async def test_double_click_acts_once_and_an_old_card_is_refused_kindly(chat: Chat) -> None:
    await chat.install()
    topic_click = chat.button("Ausbildung")
    await chat.send(value=topic_click)
    type_card = chat.last_card()
    await chat.send(value=topic_click)  # the second click of a double click
    assert chat.texts() == ["Das haben Sie schon gewählt: Ausbildung."]  # and nothing more
    await chat.send(value={"card": "from-another-day", "answer": "video"})
    assert chat.said("Das ist schon erledigt.")
    await chat.send(value=chat.button("Per Video", type_card))
    assert chat.said("Welches Gerät nutzen Sie für das Video-Gespräch?")


async def test_teams_resending_an_activity_is_answered_once(chat: Chat) -> None:
    await reach_tech_check(chat)
    await chat.send("Laptop", activity_id="teams-retry-1")
    assert chat.said("Haben Sie die App „Microsoft Teams“ auf dem Gerät?")
    await chat.send("Laptop", activity_id="teams-retry-1")  # Teams retries after ~15 s
    assert chat.last_replies == []
    await chat.send("Hilfe", activity_id="teams-retry-2")
    await chat.send("Hilfe", activity_id="teams-retry-2")
    assert chat.last_replies == []


async def test_help_shows_alternatives_and_asks_the_same_question_again(chat: Chat) -> None:
    await reach_tech_check(chat)
    await chat.send("Hilfe")
    assert chat.said("Telefon: 0221 123456")
    assert chat.said("Im Jobcenter: Musterstraße 1, 50667 Köln")
    assert chat.said("Welches Gerät nutzen Sie für das Video-Gespräch?")
    await chat.send(value={"command": "help"})
    assert chat.said("Video ist freiwillig.")


async def test_language_switch_keeps_the_step(chat: Chat) -> None:
    await reach_tech_check(chat)
    await chat.send("Sprache")
    await chat.click("Sprache wählen", locale="en")
    assert chat.said("All right, we will now write in English.")
    assert chat.said("Which device will you use for the video call?")
    await chat.send("laptop")
    assert chat.said("Do you have the “Microsoft Teams” app on your device?")
    await chat.send("Deutsch")
    assert chat.said("Gut, wir schreiben jetzt auf Deutsch.")
    assert chat.said("Haben Sie die App „Microsoft Teams“ auf dem Gerät?")


async def test_english_teams_locale_gets_english_texts(settings, store: DocumentStore) -> None:
    chat = Chat(settings, store, locale="en-US")
    await chat.install()
    assert chat.said("Welcome to the job centre chat!")
    await chat.send("job search")
    assert chat.said("How would you like to talk to us?")


async def test_restart_begins_again_without_touching_consent(
    chat: Chat, store: DocumentStore
) -> None:
    await reach_consent(chat)
    await chat.click("Ja, ich bin einverstanden")
    await chat.send("neu starten")
    assert chat.said("Möchten Sie wirklich von vorn beginnen?")
    await chat.click("Ja, neu beginnen")
    assert chat.said("Gut, wir fangen von vorn an.")
    assert chat.said("Worüber möchten Sie sprechen?")
    assert len(await ConsentLog(store).events(CLIENT)) == 1


async def test_withdrawal_is_recorded_cancels_the_handoff_and_offers_alternatives(
    chat: Chat, store: DocumentStore
) -> None:
    await chat.send("Einwilligung widerrufen")
    assert chat.said("Sie haben noch keine Einwilligung gegeben.")

    await reach_consent(chat)
    await chat.click("Ja, ich bin einverstanden")
    await chat.click("Weiter", days="thu", parts="afternoon")
    await chat.send(value={"command": "withdraw"})
    assert chat.said("Sie haben Ihre Einwilligung widerrufen")
    assert chat.said("Wie möchten Sie stattdessen mit uns sprechen?")
    events = await ConsentLog(store).events(CLIENT)
    assert [event.action for event in events] == ["given", "withdrawn"]
    [handoff] = await handoffs(store)
    assert handoff.status == HandoffStatus.CANCELLED
    assert chat.notifier.events[-1] == (handoff.handoff_id, HandoffEvent.CONSENT_WITHDRAWN)


async def test_delete_my_data_erases_everything_but_the_consent_proof(
    chat: Chat, store: DocumentStore, settings
) -> None:
    await reach_consent(chat)
    await chat.click("Ja, ich bin einverstanden")
    await chat.click("Weiter", days="mon", parts="")
    await chat.send("Meine Daten löschen")
    assert chat.said("Möchten Sie Ihre Daten wirklich löschen?")
    await chat.send("nein")
    assert chat.said("Gut, Ihre Daten bleiben gespeichert.")
    assert len(await handoffs(store)) == 1

    await chat.send("Meine Daten löschen")
    await chat.click("Ja, löschen")
    assert chat.said("Wir haben Ihre Angaben gelöscht.")
    assert chat.said("Wir behalten nur den Nachweis über Ihre Einwilligung")
    assert await handoffs(store) == []
    assert await Profiles(store).get(CLIENT) is None
    state_key = f"msteams/conversations/a:{CLIENT}/"
    assert await store.get("state", state_key, partition=state_key) is None
    assert [e.action for e in await ConsentLog(store).events(CLIENT)] == ["given"]

    await chat.send("Hallo")
    assert chat.said("Willkommen")


async def test_a_new_bot_process_resumes_at_the_same_step(
    chat: Chat, store: DocumentStore, settings
) -> None:
    await reach_tech_check(chat)
    await chat.click("Smartphone (Handy)")
    restarted = Chat(settings, store)
    await restarted.send("App")
    assert restarted.said("Hat Ihr Gerät eine Kamera und ein Mikrofon?")


async def test_card_answers_of_another_json_type_get_a_kind_reprompt(chat: Chat) -> None:
    """A card submit carries whatever JSON a client sends: a list where a number or a choice
    is expected is not understood — it does not break the turn."""
    await chat.install()
    await chat.click("Ausbildung")
    await chat.click("Per Telefon")
    for odd in (["0171 2345678"], {"number": "0171"}, 171, True):
        await chat.send(value={**chat.button("Weiter"), "phone": odd})
        assert chat.said("Diese Nummer können wir nicht lesen.")
    await chat.send("Neu starten")
    await chat.click("Ja, neu beginnen")
    await chat.click("Bewerbung (Lebenslauf, Anschreiben)")
    await chat.click("Per Video")
    for answer in ("Smartphone (Handy)", "Ja, die Teams-App", "Ja, beides", "Ja"):
        await chat.click(answer)
    await chat.click("Mobile Daten (begrenzt)")
    assert chat.said("Wie viel davon haben Sie diesen Monat noch?")
    card = chat.button("Mehr als 2 GB")["card"]
    for odd_answer in (["more"], {"x": 1}, 2048, None):
        await chat.send(value={"card": card, "answer": odd_answer})
        assert chat.said("Das haben wir leider nicht verstanden.")
    assert not chat.said("Entschuldigung, da ist bei uns etwas schiefgegangen.")
