"""The SDK's bare echo bot, as a user starts from Microsoft's Python sample "02.echo-bot".

The baseline of ``python -m bench.run``: aiohttp, ``CloudAdapter`` with
``ConfigurationBotFrameworkAuthentication`` and empty credentials, an ``ActivityHandler`` that
answers ``Echo: <text>``, ``POST /api/messages`` through ``adapter.process``. Nothing is tuned.

    PORT=3978 HOST=127.0.0.1 python bench/echo_bot.py
"""

from __future__ import annotations

import os
import sys
import traceback
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.web import Request, Response
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.core.integration import aiohttp_error_middleware
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount


class DefaultConfig:
    """Bot configuration (the sample's config.py)."""

    PORT = int(os.environ.get("PORT", "3978"))
    HOST = os.environ.get("HOST", "127.0.0.1")
    # The Bot Framework's well-known setting names, as in the sample.
    APP_ID = os.environ.get("MicrosoftAppId", "")  # noqa: SIM112
    APP_PASSWORD = os.environ.get("MicrosoftAppPassword", "")  # noqa: SIM112
    APP_TYPE = os.environ.get("MicrosoftAppType", "MultiTenant")  # noqa: SIM112
    APP_TENANTID = os.environ.get("MicrosoftAppTenantId", "")  # noqa: SIM112


class EchoBot(ActivityHandler):
    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        for member in members_added:
            if member.id != turn_context.activity.recipient.id:
                await turn_context.send_activity("Hello and welcome!")

    async def on_message_activity(self, turn_context: TurnContext):
        return await turn_context.send_activity(
            MessageFactory.text(f"Echo: {turn_context.activity.text}")
        )


CONFIG = DefaultConfig()
ADAPTER = CloudAdapter(ConfigurationBotFrameworkAuthentication(CONFIG))


async def on_error(context: TurnContext, error: Exception) -> None:
    """Catch-all for errors (as in the sample)."""
    print(f"\n [on_turn_error] unhandled error: {error}", file=sys.stderr)
    traceback.print_exc()
    await context.send_activity("The bot encountered an error or bug.")
    await context.send_activity("To continue to run this bot, please fix the bot source code.")
    if context.activity.channel_id == "emulator":
        trace_activity = Activity(
            label="TurnError",
            name="on_turn_error Trace",
            timestamp=datetime.now(UTC),
            type=ActivityTypes.trace,
            value=f"{error}",
            value_type="https://www.botframework.com/schemas/error",
        )
        await context.send_activity(trace_activity)


ADAPTER.on_turn_error = on_error
BOT = EchoBot()


async def messages(req: Request) -> Response:
    """Main bot message handler."""
    return await ADAPTER.process(req, BOT)


APP = web.Application(middlewares=[aiohttp_error_middleware])
APP.router.add_post("/api/messages", messages)

if __name__ == "__main__":
    web.run_app(APP, host=CONFIG.HOST, port=CONFIG.PORT)
