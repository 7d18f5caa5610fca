"""Step 4 (video only): consent, per appointment, in plain language.

Two ways, as in the interview: confirm in the card (electronic form), or send a photo or
scan of the signed paper form, which the counsellor verifies. Either way the client gets a
receipt. Saying no costs nothing: phone and in person stay open.

The card shows a short summary — what, voluntary, no recording, Microsoft Teams processes
picture and sound, how to withdraw — with the full text one tap away, and agreeing is one
explicit button. The event records the text version, the full text's SHA-256 and the SHA-256
of the summary shown. Every version's text stays in the catalogs (``consent.<version>.*``), so
the text an old event names can be rendered and its hash checked.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.schema import Activity, Attachment

from bot.domain.consent import ConsentAction, ConsentEvent, ConsentStatus, new_receipt_id
from bot.domain.consent_forms import TEAMS_FILE_INFO, UploadError
from bot.domain.local_time import format_local
from bot.domain.stats import Metric
from bot.i18n import DEFAULT_LOCALE, Translator, translator
from cards import ADAPTIVE_CARD_CONTENT_TYPE, card_message
from dialogs.consent_texts import (
    consent_fingerprints,
    consent_summary,
    consent_text,
    version_id,
)
from dialogs.question import (
    ChoiceQuestion,
    Options,
    Question,
    Reprompt,
    ask,
    chosen,
    recognize_choice,
)
from dialogs.services import JourneyServices
from dialogs.session import client_of, effect_key, session_of, texts

ANSWERS = ["agree", "upload", "decline"]


class ConsentOutcome(StrEnum):
    """How the consent step ended, for the journey."""

    GIVEN = ConsentStatus.GIVEN.value
    PENDING_VERIFICATION = ConsentStatus.PENDING_VERIFICATION.value  # a signed form to check
    DECLINED = "declined"
    NOT_NEEDED = "not_needed"  # no video: no consent to a video consultation


class ConsentQuestion(Question):
    """The consent card: tick and confirm, send the signed form, or say no."""

    def __init__(self, dialog_id: str, services: JourneyServices) -> None:
        super().__init__(dialog_id)
        self._services = services

    def render(self, t: Translator, options: Options, card_id: str, retry_text: str) -> Activity:
        summary = consent_summary(t)
        paragraphs = consent_text(t, self._services.settings)
        # a translated text offers the German original (a German card has none to offer)
        german = translator(DEFAULT_LOCALE)
        original = (
            consent_text(german, self._services.settings) if t.locale != german.locale else []
        )
        return card_message(
            t,
            "consent",
            {
                "card": card_id,
                "retry": bool(retry_text),
                "retry_text": retry_text,
                "title": t("consent.title"),
                "summary": [{"text": text} for text in summary],
                "full_text_label": t("consent.full_text"),
                "paragraphs": [{"text": text} for text in paragraphs],
                "translated": bool(original),
                "original_note": t("consent.original_note"),
                "original_label": t("consent.original"),
                "original": [{"text": text} for text in original],
                "version_note": t("consent.version", version=version_id(t.locale)),
                "agree_label": t("consent.answer.agree"),
                "upload_label": t("consent.answer.upload"),
                "decline_label": t("consent.answer.decline"),
                "fallback": "\n\n".join(
                    [t("consent.title"), *paragraphs, t("consent.fallback_answers")]
                ),
            },
        )

    def choice_key(self, options: Options, answer: object) -> str:
        return f"consent.answer.{answer}" if answer in ANSWERS else ""

    async def recognize(
        self, context: TurnContext, options: Options, submit: dict[str, Any] | None
    ) -> str | dict[str, Any] | Reprompt | None:
        if _uploaded(context.activity.attachments):
            return await receive_form(context, self._services)
        if submit is not None:
            answer = submit.get("answer")
            if answer == "agree" and submit.get("agree") not in (None, "true"):
                return Reprompt("consent.retry_agree")  # a card from before 2026-12, unticked
            return answer if answer in ANSWERS else None
        return recognize_choice(context.activity.text, "consent.answer", ANSWERS)


class FormUploadQuestion(ChoiceQuestion):
    """Waits for the photo or scan; the client can still go back or say no."""

    def __init__(self, dialog_id: str, services: JourneyServices) -> None:
        super().__init__(dialog_id)
        self._services = services

    async def recognize(
        self, context: TurnContext, options: Options, submit: dict[str, Any] | None
    ) -> str | dict[str, Any] | Reprompt | None:
        if _uploaded(context.activity.attachments):
            return await receive_form(context, self._services)
        return chosen(context, options, submit)


def _uploaded(attachments: list[Attachment] | None) -> list[Attachment]:
    """Files and pictures; Teams also attaches the message itself as text/html."""
    return [
        attachment
        for attachment in attachments or []
        if attachment.content_type
        and not attachment.content_type.startswith("text/")
        and attachment.content_type != ADAPTIVE_CARD_CONTENT_TYPE
    ]


async def receive_form(
    context: TurnContext, services: JourneyServices
) -> dict[str, Any] | Reprompt:
    """Fetch, check and store the first uploaded file; a ``Reprompt`` says what was wrong."""
    attachment = _uploaded(context.activity.attachments)[0]
    try:
        if attachment.content_type == TEAMS_FILE_INFO:
            content = attachment.content if isinstance(attachment.content, dict) else {}
            data = await services.forms.fetch_download(str(content.get("downloadUrl") or ""))
        else:
            data = await services.forms.fetch_from_channel(
                attachment.content_url or "",
                context.activity.service_url or "",
                lambda: _bot_token(context),
            )
        stored = await services.forms.save(client_of(context).client_id, data)
    except UploadError as error:
        limit: dict[str, object] = {"mb": upload_limit_mb(services)}
        return Reprompt(f"consent.upload.problem.{error.problem}", limit)
    return {"ref": stored.ref, "sha256": stored.sha256, "content_type": stored.content_type}


def upload_limit_mb(services: JourneyServices) -> int:
    """The size limit of an uploaded form, in MB, as the client is told it."""
    return services.forms.max_bytes // (1024 * 1024)


async def _bot_token(context: TurnContext) -> str | None:
    """Teams serves pasted pictures only to the bot itself, with its own token (asked for only
    once the URL is known to be the channel's)."""
    client = context.turn_state.get(context.adapter.BOT_CONNECTOR_CLIENT_KEY)
    credentials = getattr(getattr(client, "config", None), "credentials", None)
    if credentials is None or not getattr(credentials, "microsoft_app_id", None):
        return None
    return await asyncio.to_thread(credentials.get_access_token)


class ConsentDialog(ComponentDialog):
    def __init__(self, services: JourneyServices) -> None:
        super().__init__(ConsentDialog.__name__)
        self._services = services
        self.add_dialog(ConsentQuestion("consent.ask", services))
        self.add_dialog(FormUploadQuestion("consent.upload_ask", services))
        self.add_dialog(
            WaterfallDialog("consent.steps", [self._ask, self._after_answer, self._after_upload])
        )
        self.initial_dialog_id = "consent.steps"

    async def _ask(self, step: WaterfallStepContext):
        return await step.begin_dialog("consent.ask", {})

    async def _after_answer(self, step: WaterfallStepContext):
        answer = await self._services.first_answer(step.context, step.result)
        if answer == "upload":
            mb = upload_limit_mb(self._services)
            return await step.begin_dialog(
                "consent.upload_ask",
                ask("consent.upload", ["back", "decline"], intro=["consent.upload.how"], mb=mb),
            )
        return await step.next(answer)

    async def _after_upload(self, step: WaterfallStepContext):
        answer = await self._services.first_answer(step.context, step.result)
        if answer == "back":
            return await step.replace_dialog("consent.steps")
        if answer == "decline":
            await self._services.dropped_out(step.context, "consent_declined", "consent")
            return await step.end_dialog(ConsentOutcome.DECLINED)
        if answer == "agree":
            event = self._event(step, ConsentAction.GIVEN, method="card")
        else:
            event = self._event(
                step,
                ConsentAction.FORM_UPLOADED,
                method="paper_form",
                form_ref=answer["ref"],
                form_sha256=answer["sha256"],
            )
        # The stored event — the same however often this answer arrives — and its receipt.
        event, created = await self._services.consents.append(event)
        if created:
            metric = Metric.CONSENTS_GIVEN if answer == "agree" else Metric.CONSENT_FORMS_UPLOADED
            self._services.counted(step.context, metric)
        status = ConsentOutcome.GIVEN if answer == "agree" else ConsentOutcome.PENDING_VERIFICATION
        session_of(step.context).answers["consent"] = {
            "status": status.value,
            "receipt_id": event.receipt_id,
        }
        await step.context.send_activity(self._receipt(step.context, event, status))
        await self._services.progress(step.context, f"consent_{status}")
        return await step.end_dialog(status)

    def _event(
        self, step: WaterfallStepContext, action: ConsentAction, **fields: str
    ) -> ConsentEvent:
        t = texts(step.context)
        text_sha256, summary_sha256 = consent_fingerprints(t, self._services.settings)
        # One answer to one card is one event: a double click, a resent message or a turn
        # that runs again (here or on another instance) finds the event already there.
        return ConsentEvent(
            event_id=f"{action}-{effect_key(step.context)}",
            client_id=client_of(step.context).client_id,
            action=action,
            text_version=version_id(t.locale),
            text_sha256=text_sha256,
            summary_sha256=summary_sha256,
            receipt_id=new_receipt_id(),
            cause=step.context.activity.id or "",
            **fields,
        )

    @staticmethod
    def _receipt(context: TurnContext, event: ConsentEvent, status: str) -> Activity:
        t = texts(context)
        facts = [
            (t("receipt.id"), event.receipt_id),
            (t("receipt.time"), format_local(event.at, t.locale)),
            (t("receipt.version"), event.text_version),
            (t("receipt.method"), t(f"receipt.method.{event.method}")),
        ]
        title = t(f"receipt.title.{status}")
        return card_message(
            t,
            "receipt",
            {
                "title": title,
                "facts": [{"title": name, "value": value} for name, value in facts],
                "withdraw_hint": t("receipt.withdraw"),
                "withdraw_label": t("command.withdraw.label"),
                "fallback": "\n".join(
                    [title, *(f"{name}: {value}" for name, value in facts), t("receipt.withdraw")]
                ),
            },
        )
