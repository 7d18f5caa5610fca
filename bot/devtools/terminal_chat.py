"""Terminal chat with the bot, posting activities the way Microsoft Teams does in a personal chat.

A :class:`~bot.devtools.connector_standin.LocalConnector` on a loopback port acts as the
``serviceUrl``, so the bot's replies (texts and Adaptive Cards) arrive here and are printed as
plain text. ``#N`` clicks button N of the newest card. Developer tool only: it talks to a bot
running locally without app id/password (no Authorization header is sent).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import re
import sys
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import aiohttp

from bot.devtools.connector_standin import ConnectorCall, LocalConnector
from bot.devtools.teams_activity import PersonalChat

__all__ = [
    "ADAPTIVE_CARD",
    "LOCAL_TENANT_ID",
    "CardButton",
    "ChatError",
    "main",
    "render_card_text",
    "run_chat",
]

JsonDict = dict[str, Any]

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
DEFAULT_BOT_URL = "http://127.0.0.1:3978/api/messages"
LOCAL_TENANT_ID = "7c1d2a4e-3b5f-4c6d-9e8f-0a1b2c3d4e5f"
BOT_ACCOUNT: JsonDict = {"id": "28:videoberatung-bot", "name": "Videoberatung"}

_CLICK = re.compile(r"#(\d+)")
_CLICKABLE = {"Action.Submit", "Action.Execute"}
_INPUT_KINDS = {
    "Input.Text": "text",
    "Input.Number": "number",
    "Input.Date": "date, YYYY-MM-DD",
    "Input.Time": "time, HH:MM",
}
_YES = {"j", "ja", "y", "yes"}
_NO = {"n", "nein", "no"}


class ChatError(Exception):
    """The chat could not start, e.g. because the bot is not reachable."""


# -- card rendering ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardButton:
    """A numbered action of a rendered card.

    ``inputs`` are the Input elements whose values a click submits (the action's own card and,
    for actions inside an Action.ShowCard, its parent cards).
    """

    number: int
    title: str
    action: JsonDict
    inputs: tuple[JsonDict, ...] = ()

    @property
    def type(self) -> str:
        return str(self.action.get("type", ""))


@dataclass(slots=True)
class _Renderer:
    next_number: int
    lines: list[str] = field(default_factory=list)
    buttons: list[CardButton] = field(default_factory=list)

    def card(self, card: JsonDict, indent: str, outer_inputs: tuple[JsonDict, ...]) -> None:
        body = _dicts(card.get("body"))
        inputs = outer_inputs + tuple(_collect_inputs(body))
        self.elements(body, indent, inputs)
        self.actions(_dicts(card.get("actions")), indent, inputs)

    def elements(
        self, elements: Iterable[JsonDict], indent: str, inputs: tuple[JsonDict, ...]
    ) -> None:
        for element in elements:
            if element.get("isVisible", True) is not False:
                self.element(element, indent, inputs)

    def element(self, element: JsonDict, indent: str, inputs: tuple[JsonDict, ...]) -> None:
        kind = element.get("type")
        if kind == "TextBlock":
            self.text(str(element.get("text", "")), indent)
        elif kind == "RichTextBlock":
            self.text(
                "".join(_inline_text(inline) for inline in _list(element.get("inlines"))), indent
            )
        elif kind == "FactSet":
            for fact in _dicts(element.get("facts")):
                self.text(f"{fact.get('title', '')}: {fact.get('value', '')}", indent)
        elif kind in {"Container", "Column"}:
            self.elements(_dicts(element.get("items")), indent, inputs)
        elif kind == "ColumnSet":
            for column in _dicts(element.get("columns")):
                self.element(column, indent, inputs)
        elif kind == "Table":
            for row in _dicts(element.get("rows")):
                self.text(
                    " | ".join(self.cell_text(cell) for cell in _dicts(row.get("cells"))), indent
                )
        elif kind == "Image":
            self.text(f"[image: {element.get('altText') or element.get('url', '')}]", indent)
        elif kind == "ImageSet":
            self.elements(_dicts(element.get("images")), indent, inputs)
        elif kind == "ActionSet":
            self.actions(_dicts(element.get("actions")), indent, inputs)
        elif isinstance(kind, str) and kind.startswith("Input."):
            self.input(element, indent)
        elif isinstance(element.get("fallback"), dict):
            self.element(element["fallback"], indent, inputs)
        elif element.get("fallback") != "drop":
            self.text(f"[unsupported element: {kind}]", indent)

    def cell_text(self, cell: JsonDict) -> str:
        sub = _Renderer(self.next_number)
        sub.elements(_dicts(cell.get("items")), "", ())
        return " ".join(sub.lines)

    def input(self, element: JsonDict, indent: str) -> None:
        kind = element.get("type")
        label = _input_label(element)
        default = element.get("value")
        if kind == "Input.Toggle":
            checked = default is not None and default == element.get("valueOn", "true")
            if element.get("label"):
                self.text(str(element["label"]), indent)
            self.text(f"[{'x' if checked else ' '}] {element.get('title', '')}".rstrip(), indent)
        elif kind == "Input.ChoiceSet":
            multi = bool(element.get("isMultiSelect"))
            chosen = _split_values(default, multi)
            self.text(f"{label} ({'choose several' if multi else 'choose one'})", indent)
            for choice in _dicts(element.get("choices")):
                mark = "x" if str(choice.get("value")) in chosen else " "
                box = f"[{mark}]" if multi else f"({mark})"
                self.text(f"  {box} {choice.get('title', choice.get('value', ''))}", indent)
        else:
            what = _INPUT_KINDS.get(str(kind), str(kind))
            placeholder = element.get("placeholder")
            hint = f": {placeholder}" if placeholder and placeholder != label else ""
            shown = f" = {default}" if default not in (None, "") else ""
            self.text(f"{label}: [{what}{hint}]{shown}", indent)

    def actions(
        self, actions: Iterable[JsonDict], indent: str, inputs: tuple[JsonDict, ...]
    ) -> None:
        for action in actions:
            if action.get("isEnabled", True) is False:
                continue
            number = self.next_number
            self.next_number += 1
            title = str(action.get("title") or "(untitled)")
            self.buttons.append(CardButton(number, title, action, inputs))
            kind = action.get("type")
            if kind == "Action.OpenUrl":
                self.text(f"[{number}] {title} -> {action.get('url', '')}", indent)
            elif kind == "Action.ShowCard" and isinstance(action.get("card"), dict):
                self.text(f"[{number}] {title} (expands:)", indent)
                self.card(action["card"], indent + "    ", inputs)
            else:
                self.text(f"[{number}] {title}", indent)

    def text(self, text: str, indent: str) -> None:
        for line in text.strip("\n").splitlines() or [""]:
            self.lines.append(f"{indent}{line}".rstrip())


def render_card_text(card: JsonDict, *, first_number: int = 1) -> tuple[str, list[CardButton]]:
    """Render an Adaptive Card as plain text and number its buttons from ``first_number``.

    Markdown in texts is left as is; hidden elements are skipped.
    """
    renderer = _Renderer(first_number)
    renderer.card(card, "", ())
    return "\n".join(renderer.lines), renderer.buttons


def _dicts(value: object) -> list[JsonDict]:
    return [item for item in _list(value) if isinstance(item, dict)]


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _inline_text(inline: object) -> str:
    if isinstance(inline, str):
        return inline
    return str(inline.get("text", "")) if isinstance(inline, dict) else ""


def _collect_inputs(elements: Iterable[JsonDict]) -> list[JsonDict]:
    """Input elements of a card body, in document order (not those inside Action.ShowCard)."""
    found: list[JsonDict] = []
    for element in elements:
        kind = element.get("type")
        if isinstance(kind, str) and kind.startswith("Input.") and element.get("id"):
            found.append(element)
        for key in ("items", "columns"):
            found.extend(_collect_inputs(_dicts(element.get(key))))
        for row in _dicts(element.get("rows")):
            for cell in _dicts(row.get("cells")):
                found.extend(_collect_inputs(_dicts(cell.get("items"))))
    return found


def _input_label(element: JsonDict) -> str:
    for key in ("label", "title", "placeholder", "id"):
        if element.get(key):
            return str(element[key])
    return "input"


def _split_values(value: object, multi: bool) -> list[str]:
    if value in (None, ""):
        return []
    text = str(value)
    return [part.strip() for part in text.split(",")] if multi else [text]


# -- chat session --------------------------------------------------------------------------


async def _read_line(stream: TextIO) -> str:
    """Read one line in a daemon thread, so Ctrl-C does not wait for a pending ``readline``."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def deliver(line: str | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(line or "")

    def worker() -> None:
        try:
            line, error = stream.readline(), None
        except Exception as exc:
            line, error = None, exc
        # RuntimeError: the loop is already closed, so nobody waits for the line any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, line, error)

    threading.Thread(target=worker, name="chat-stdin", daemon=True).start()
    return await future


class _ChatSession:
    def __init__(
        self,
        bot_url: str,
        locale: str,
        user_name: str,
        stdin: TextIO,
        stdout: TextIO,
        connector: LocalConnector,
        http: aiohttp.ClientSession,
    ) -> None:
        self.bot_url = bot_url
        self.locale = locale
        self.stdin = stdin
        self.stdout = stdout
        self.connector = connector
        self.http = http
        self.conversation: JsonDict = {
            "id": f"a:local-{uuid.uuid4().hex}",
            "conversationType": "personal",
            "tenantId": LOCAL_TENANT_ID,
        }
        self.user: JsonDict = {
            "id": f"29:local-user-{uuid.uuid4().hex}",
            "name": user_name,
            "aadObjectId": str(uuid.uuid4()),
        }
        self.replies: asyncio.Queue[ConnectorCall] = asyncio.Queue()
        self.card_activity_id: str | None = None
        self.buttons: list[CardButton] = []

    # -- activities ------------------------------------------------------------------------

    def activity(self, kind: str, **fields: Any) -> JsonDict:
        """An activity with everything Teams puts into a personal-chat activity."""
        return PersonalChat(
            self.connector.service_url,
            self.conversation["id"],
            LOCAL_TENANT_ID,
            self.user,
            BOT_ACCOUNT,
            self.locale,
        ).activity(kind, **fields)

    def text_message(self, text: str) -> JsonDict:
        # Teams adds the HTML rendering of the message as an attachment.
        return self.activity(
            "message",
            text=text,
            textFormat="plain",
            attachments=[{"contentType": "text/html", "content": f"<p>{html.escape(text)}</p>"}],
        )

    async def post(self, activity: JsonDict) -> tuple[int, Any] | None:
        """POST to the bot, wait until its replies are printed; ``None`` if unreachable."""
        try:
            async with self.http.post(self.bot_url, json=activity) as response:
                status = response.status
                body: Any = None
                if response.content_type == "application/json":
                    body = await response.json()
        except aiohttp.ClientError as exc:
            self.say(f"! Bot not reachable at {self.bot_url} ({type(exc).__name__})")
            return None
        # The bot answers after its turn, so the replies of that turn are already queued.
        await self.replies.join()
        if status >= 400:
            self.say(f"! Bot answered HTTP {status}")
        return status, body

    # -- output ----------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def on_call(self, call: ConnectorCall) -> None:
        if call.kind in {"send", "reply", "update", "delete"}:
            self.replies.put_nowait(call)

    async def print_replies(self) -> None:
        while True:
            call = await self.replies.get()
            try:
                self.show(call)
            except Exception as exc:  # keep printing; a broken activity must not stop the chat
                self.say(f"! Could not display an activity from the bot ({type(exc).__name__})")
            finally:
                self.replies.task_done()

    def show(self, call: ConnectorCall) -> None:
        where = "" if call.conversation_id == self.conversation["id"] else " (other conversation)"
        if call.kind == "delete":
            self.say(f"Bot deleted a message{where}.")
            if call.activity_id == self.card_activity_id:
                self.card_activity_id, self.buttons = None, []
            return
        activity = call.body or {}
        kind = activity.get("type")
        if kind == "typing":
            return
        if kind != "message":
            name = f" {activity['name']}" if activity.get("name") else ""
            self.say(f"Bot sent {kind}{name}{where}.")
            return
        prefix = "Bot (updated message)" if call.kind == "update" else "Bot"
        self.show_message(activity, prefix + where, call.activity_id)

    def show_message(self, activity: JsonDict, prefix: str, activity_id: str | None) -> None:
        text = activity.get("text")
        if isinstance(text, str) and text:
            self.say(_indent(f"{prefix}: ", text))
        cards: list[JsonDict] = [
            content
            for a in _dicts(activity.get("attachments"))
            if a.get("contentType") == ADAPTIVE_CARD
            and isinstance(content := a.get("content"), dict)
        ]
        buttons: list[CardButton] = []
        for card in cards:
            rendered, card_buttons = render_card_text(card, first_number=len(buttons) + 1)
            buttons.extend(card_buttons)
            self.say(f"{prefix} [card]:")
            self.say(_indent("  ", rendered))
        for attachment in _dicts(activity.get("attachments")):
            if attachment.get("contentType") != ADAPTIVE_CARD:
                name = attachment.get("name") or attachment.get("contentUrl") or ""
                self.say(f"{prefix} [attachment {attachment.get('contentType')}] {name}".rstrip())
        if cards:
            self.card_activity_id, self.buttons = activity_id, buttons

    # -- input -----------------------------------------------------------------------------

    async def ask(self, prompt: str) -> str | None:
        """Prompt and read one line; ``None`` at end of input."""
        self.stdout.write(prompt)
        self.stdout.flush()
        line = await _read_line(self.stdin)
        return None if line == "" else line.rstrip("\r\n")

    async def run(self) -> None:
        self.connector.add_member(
            self.conversation["id"],
            {
                **self.user,
                "givenName": self.user["name"].partition(" ")[0],
                "surname": self.user["name"].partition(" ")[2],
                "tenantId": LOCAL_TENANT_ID,
                "userRole": "user",
            },
        )
        self.say(
            f"Chat with {self.bot_url} as {self.user['name']!r} ({self.locale}). "
            "Type a message, #N to click button N of the newest card, /quit to end."
        )
        update = self.activity("conversationUpdate", membersAdded=[dict(BOT_ACCOUNT)])
        if await self.post(update) is None:
            raise ChatError(f"the bot at {self.bot_url} is not reachable")
        while True:
            line = await self.ask("> ")
            if line is None or line.strip() == "/quit":
                return
            line = line.strip()
            click = _CLICK.fullmatch(line)
            if click:
                if not await self.click(int(click.group(1))):
                    return
            elif line:
                await self.post(self.text_message(line))

    async def click(self, number: int) -> bool:
        """Click a button of the newest card; ``False`` if the input ended meanwhile."""
        button = next((b for b in self.buttons if b.number == number), None)
        if button is None:
            if not self.buttons:
                self.say("! There is no card with buttons yet (#N only works on the newest card).")
            else:
                self.say(
                    f"! The newest card has no button [{number}] "
                    f"(buttons 1-{len(self.buttons)}; #N only works on the newest card)."
                )
            return True
        action = button.action
        if button.type == "Action.OpenUrl":
            self.say(f"(would open {action.get('url', '')})")
            return True
        if button.type == "Action.ShowCard":
            self.say("(this button only expands the part shown under it; use its buttons)")
            return True
        if button.type not in _CLICKABLE:
            self.say(f"! {button.type} is not supported in the terminal chat.")
            return True
        values: dict[str, str] = {}
        if action.get("associatedInputs") != "none":
            for element in button.inputs:
                value = await self.ask_input(element)
                if value is None:
                    return False
                values[str(element["id"])] = value
        activity = self.click_activity(button, values)
        if activity is None:
            return True
        result = await self.post(activity)
        if result is not None and activity["type"] == "invoke":
            self.show_invoke_response(result[1])
        return True

    def click_activity(self, button: CardButton, values: dict[str, str]) -> JsonDict | None:
        """The activity Teams sends for a click on an Action.Submit/Action.Execute button."""
        action = button.action
        data = action.get("data")
        reply_to = {"replyToId": self.card_activity_id} if self.card_activity_id else {}
        if button.type == "Action.Execute":
            merged = {**(data if isinstance(data, dict) else {}), **values}
            invoke_action = {"type": "Action.Execute", "verb": action.get("verb"), "data": merged}
            if action.get("id"):
                invoke_action["id"] = action["id"]
            return self.activity(
                "invoke",
                name="adaptiveCard/action",
                value={"action": invoke_action, "trigger": "manual"},
                **reply_to,
            )
        if not isinstance(data, dict) and data is not None:
            return self.activity("message", text=str(data), textFormat="plain", **reply_to)
        data = dict(data or {})
        msteams = data.get("msteams")
        if isinstance(msteams, dict) and msteams.get("type") == "imBack":
            return self.activity("message", text=str(msteams.get("value", "")), **reply_to)
        if isinstance(msteams, dict) and msteams.get("type") == "messageBack":
            value = msteams.get("value")
            merged = {**(value if isinstance(value, dict) else {}), **values}
            fields: JsonDict = {"value": merged, **reply_to}
            if msteams.get("text"):
                fields["text"] = str(msteams["text"])
            return self.activity("message", **fields)
        if isinstance(msteams, dict):
            self.say(f"! msteams action {msteams.get('type')!r} is not supported here.")
            return None
        return self.activity("message", value={**data, **values}, **reply_to)

    def show_invoke_response(self, body: Any) -> None:
        if not isinstance(body, dict):
            return
        if body.get("type") == ADAPTIVE_CARD and isinstance(body.get("value"), dict):
            message = {"attachments": [{"contentType": ADAPTIVE_CARD, "content": body["value"]}]}
            self.show_message(message, "Bot (card refreshed)", self.card_activity_id)
        elif body.get("type") == "application/vnd.microsoft.activity.message":
            self.say(_indent("Bot (notice): ", str(body.get("value", ""))))
        elif isinstance(body.get("statusCode"), int) and body["statusCode"] >= 400:
            self.say(f"! The card action failed with status {body['statusCode']}.")

    async def ask_input(self, element: JsonDict) -> str | None:
        """Ask for one card input; the value as Adaptive Cards submits it, ``None`` at EOF."""
        kind = element.get("type")
        label = _input_label(element)
        default = "" if element.get("value") is None else str(element["value"])
        required = bool(element.get("isRequired"))
        if kind == "Input.Toggle":
            on = str(element.get("valueOn", "true"))
            off = str(element.get("valueOff", "false"))
            title = element.get("title") or label
            shown = "j" if default == on else "n"
            while True:
                answer = await self.ask(f"{title} [j/n, Enter = {shown}]: ")
                if answer is None:
                    return None
                answer = answer.strip().lower()
                if not answer:
                    return default or off
                if answer in _YES or answer in _NO:
                    return on if answer in _YES else off
                self.say("Please answer j or n.")
        if kind == "Input.ChoiceSet":
            return await self.ask_choice(element, label, default, required)
        what = _INPUT_KINDS.get(str(kind), str(kind))
        while True:
            suffix = f", Enter = {default}" if default else ""
            answer = await self.ask(f"{label} ({what}{suffix}): ")
            if answer is None:
                return None
            if answer.strip() or default or not required:
                return answer.strip() or default
            self.say("This input is required.")

    async def ask_choice(
        self, element: JsonDict, label: str, default: str, required: bool
    ) -> str | None:
        choices = [str(c.get("value", "")) for c in _dicts(element.get("choices"))]
        multi = bool(element.get("isMultiSelect"))
        self.say(f"{label}:")
        for index, choice in enumerate(_dicts(element.get("choices")), start=1):
            self.say(f"  {index}) {choice.get('title', choice.get('value', ''))}")
        how = "numbers separated by commas" if multi else "one number"
        while True:
            suffix = f", Enter = {default}" if default else ", Enter = none"
            answer = await self.ask(f"Choose {how}{suffix}: ")
            if answer is None:
                return None
            parts = [part.strip() for part in answer.split(",") if part.strip()]
            if not parts:
                if default or not required:
                    return default
                self.say("This input is required.")
                continue
            if (multi or len(parts) == 1) and all(
                part.isdigit() and 1 <= int(part) <= len(choices) for part in parts
            ):
                return ",".join(choices[int(part) - 1] for part in parts)
            self.say(f"Please enter {how} between 1 and {len(choices)}.")


def _indent(prefix: str, text: str) -> str:
    pad = " " * len(prefix)
    lines = text.splitlines() or [""]
    return "\n".join([prefix + lines[0], *(pad + line if line else "" for line in lines[1:])])


async def run_chat(
    bot_url: str,
    locale: str = "de-DE",
    user_name: str = "Test Kundin",
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> None:
    """Chat with the bot at ``bot_url`` until ``/quit`` or end of input.

    ``stdin``/``stdout`` default to ``sys.stdin``/``sys.stdout`` at call time.
    Raises :class:`ChatError` if the bot does not answer the initial conversationUpdate.
    """
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    timeout = aiohttp.ClientTimeout(total=120)
    async with LocalConnector() as connector, aiohttp.ClientSession(timeout=timeout) as http:
        session = _ChatSession(bot_url, locale, user_name, stdin, stdout, connector, http)
        connector.add_listener(session.on_call)
        printer = asyncio.create_task(session.print_replies())
        try:
            await session.run()
            await session.replies.join()
        finally:
            connector.remove_listener(session.on_call)
            printer.cancel()
            await asyncio.gather(printer, return_exceptions=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot chat",
        description="Chat with a locally running bot in the terminal, as Microsoft Teams would.",
    )
    parser.add_argument("--bot-url", default=DEFAULT_BOT_URL, help="the bot's messaging endpoint")
    parser.add_argument("--locale", default="de-DE", help="locale of the simulated Teams client")
    parser.add_argument("--user-name", default="Test Kundin", help="display name of the user")
    args = parser.parse_args(argv)
    try:
        asyncio.run(run_chat(args.bot_url, locale=args.locale, user_name=args.user_name))
    except ChatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
