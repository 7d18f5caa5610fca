"""The shape an inbound activity must have before the SDK or a turn sees it.

The SDK's deserialiser takes almost anything (``membersAdded: "x"``, ids that are numbers, an
invoke whose ``value`` is a list) and the turn then fails inside, behind a 201. Checked here,
such an activity is a 400 at the gate. Only the fields the bot or the SDK reads are checked;
everything else passes through untouched, as Teams adds fields over time.

Invokes: the bot implements ``adaptiveCard/action`` (Universal Actions, ``Action.Execute``)
and nothing else — the app manifest declares no message extension, task module or sign-in.
Any other invoke name is answered 400 ("not supported by this bot") without running a turn.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

SUPPORTED_INVOKES = frozenset({"adaptiveCard/action"})
#: Ids end up in URL paths and headers of the replies (``/v3/conversations/{id}/…``,
#: ``x-ms-conversation-id``): printable ASCII that is safe in both — Teams' ids (``a:1…``,
#: ``19:…@thread.tacv2;messageid=…``, ``29:1…``) and Direct Line's (``…|0000001``) fit.
ID_PATTERN = r"^[A-Za-z0-9!$&'()*+,\-.:;=@_|~]+$"
Id = Annotated[StrictStr, Field(min_length=1, max_length=1024, pattern=ID_PATTERN)]
Text = StrictStr  # bounded by the request size limit
Short = Annotated[StrictStr, Field(max_length=256)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Account(_Shape):
    id: Id
    name: Short | None = None
    aad_object_id: Short | None = Field(None, alias="aadObjectId")
    role: Short | None = None


class Conversation(_Shape):
    id: Id
    tenant_id: Short | None = Field(None, alias="tenantId")
    conversation_type: Short | None = Field(None, alias="conversationType")
    is_group: StrictBool | None = Field(None, alias="isGroup")


class AttachmentShape(_Shape):
    content_type: Short = Field(alias="contentType")
    content_url: Annotated[StrictStr, Field(max_length=8192)] | None = Field(
        None, alias="contentUrl"
    )
    name: StrictStr | None = None  # file names may be long (SharePoint allows 400 characters)


class Entity(_Shape):
    type: Short


class Tenant(_Shape):
    id: Short | None = None


class ChannelData(_Shape):
    tenant: Tenant | None = None


class InboundActivity(_Shape):
    # names, not text: they reach the log (a line break there would forge log lines)
    type: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z]+$")]
    id: Id | None = None
    channel_id: Annotated[StrictStr, Field(min_length=1, max_length=64)] = Field(alias="channelId")
    service_url: Annotated[StrictStr, Field(max_length=2048)] = Field(alias="serviceUrl")
    conversation: Conversation
    from_: Account | None = Field(None, alias="from")
    recipient: Account | None = None
    members_added: list[Account] | None = Field(None, alias="membersAdded")
    members_removed: list[Account] | None = Field(None, alias="membersRemoved")
    attachments: list[AttachmentShape] | None = None
    entities: list[Entity] | None = None
    channel_data: ChannelData | None = Field(None, alias="channelData")
    text: Text | None = None
    text_format: Short | None = Field(None, alias="textFormat")
    locale: Short | None = None
    name: Annotated[StrictStr, Field(max_length=128, pattern=r"^[A-Za-z0-9/._\-]*$")] | None = None
    reply_to_id: Id | None = Field(None, alias="replyToId")
    # expectReplies makes the SDK answer 500 (a serialiser bug in 4.17.1); Teams never sends it
    delivery_mode: Literal["normal"] | None = Field(None, alias="deliveryMode")


class CardAction(_Shape):
    """``value.action`` of an ``adaptiveCard/action`` invoke: only Universal Actions."""

    type: Literal["Action.Execute"]
    verb: Short
    data: dict[str, Any] | None = None


class CardInvokeValue(_Shape):
    action: CardAction
    trigger: Short | None = None


class ActivityShapeError(ValueError):
    """The activity is refused; the message names the offending fields (safe to show)."""


#: what a person sends: without a sender it would be nobody's (client "unknown")
FROM_SOMEONE = frozenset({"message", "invoke"})


def check_activity_shape(body: dict[str, Any]) -> None:
    """``ActivityShapeError`` unless ``body`` has the shape the bot relies on."""
    activity = _validated(InboundActivity, body, "activity")
    if activity.type in FROM_SOMEONE and activity.from_ is None:
        raise ActivityShapeError("not a valid activity: activity.from")
    if activity.type != "invoke":
        return
    if activity.name not in SUPPORTED_INVOKES:
        raise ActivityShapeError(f"invoke {str(activity.name)[:64]!r} is not supported by this bot")
    _validated(CardInvokeValue, body.get("value"), "value")


def _validated(model: type[_Shape], data: Any, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = sorted(
            {where + "".join(f".{part}" for part in item["loc"]) for item in error.errors()}
        )
        raise ActivityShapeError("not a valid activity: " + ", ".join(fields[:8])) from error
