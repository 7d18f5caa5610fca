"""Team leads ask for the numbers: "Auswertung" (or "statistics") answers with the stats card.

Team leads are configured like counsellors (``STATS_OBJECT_IDS``, ``STATS_GROUP_IDS``); the
hosting layer sends only their turns here. A counsellor who is not listed hears that only team
leads see the numbers; to a client the word means nothing."""

from __future__ import annotations

from functools import cache

from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.schema import Activity, ChannelAccount

from bot.domain.stats import Stats
from bot.domain.typed_text import normalise
from bot.i18n import STAFF_LOCALES, staff_translator
from cards.stats_card import stats_card

#: the weeks the card shows
CARD_WEEKS = 12


def is_stats_request(activity: Activity) -> bool:
    return normalise(activity.text) in _typed_forms()


@cache
def _typed_forms() -> frozenset[str]:
    return frozenset(
        normalise(form)
        for locale in STAFF_LOCALES
        for form in staff_translator(locale).variants("desk.command.stats.typed")
    )


class StatsDesk(ActivityHandler):
    def __init__(self, stats: Stats) -> None:
        self._stats = stats

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        t = staff_translator(turn_context.activity.locale)
        if is_stats_request(turn_context.activity):
            weeks = await self._stats.weeks(CARD_WEEKS)
            await turn_context.send_activity(stats_card(t, weeks))
        else:
            await turn_context.send_activity(t("stats.help"))

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        await turn_context.send_activity(
            staff_translator(turn_context.activity.locale)("stats.help")
        )
