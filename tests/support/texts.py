"""German texts the bot says, as the tests expect them: taken from the catalog
(``dialogs/locales/de.po``), so a changed wording changes the tests with it."""

from __future__ import annotations

from bot.i18n import translator

_t = translator("de")

APOLOGY = _t("error.apology")
TOPIC_QUESTION = _t("choice.topic")
TYPE_QUESTION = _t("choice.type")
