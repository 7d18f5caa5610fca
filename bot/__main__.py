"""``python -m bot`` runs the service; ``python -m bot chat`` a terminal chat with it;
``python -m bot playground`` the service together with Microsoft's Agents Playground."""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web
from pydantic import ValidationError

from bot.config import ConfigurationError, Settings
from bot.service_logging import configure_logging


def serve(settings: Settings) -> int:
    from bot.app import create_app
    from bot.service_logging import RouteAccessLogger

    try:
        app = create_app(settings)
    except ConfigurationError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    mode = "local mode (no credentials)" if settings.local_mode else "authenticated"
    logging.getLogger("bot").info("starting in %s on %s:%s", mode, settings.host, settings.port)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        access_log_class=RouteAccessLogger,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    argv = sys.argv[1:] if argv is None else argv
    command, rest = (argv[0], argv[1:]) if argv and not argv[0].startswith("-") else ("serve", argv)
    if command == "chat":
        from bot.chat_terminal import main as chat_main

        return chat_main(rest)
    if command == "playground":
        from bot.playground import main as playground_main

        return playground_main(rest)
    parser = argparse.ArgumentParser(
        prog="python -m bot [serve|chat|playground]", description=__doc__
    )
    parser.parse_args(rest if command == "serve" else argv)
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        print(f"Configuration error: {problems}", file=sys.stderr)
        return 2
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
