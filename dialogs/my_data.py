"""The command "Meine Daten": what is stored about the client, on a card, and the same as a
file through a short-lived link (Art. 15 and 20 GDPR). It answers over any step, which then
asks again, and changes nothing."""

from __future__ import annotations

from botbuilder.dialogs import DialogContext

from cards.my_data_card import my_data_card
from dialogs.services import JourneyServices
from dialogs.session import client_of, texts


async def show_my_data(dialog_context: DialogContext, services: JourneyServices) -> None:
    context = dialog_context.context
    t = texts(context)
    client_id = client_of(context).client_id
    records = await services.my_data.read(client_id)
    link = None if records.empty else services.my_data.link(client_id, t.locale)
    await context.send_activity(my_data_card(t, records, link, services.settings.privacy_url))
    if dialog_context.active_dialog is not None:
        await dialog_context.reprompt_dialog()
