"""``python -m bot`` runs the service; ``python -m bot chat`` a terminal chat with it;
``python -m bot playground`` the service together with Microsoft's Agents Playground."""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from bot.config import ConfigurationError, Settings


def serve(settings: Settings) -> int:
    from bot.app import create_app

    try:
        app = create_app(settings)
    except ConfigurationError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    mode = "local mode (no credentials)" if settings.local_mode else "authenticated"
    logging.getLogger("bot").info("starting in %s on %s:%s", mode, settings.host, settings.port)
    web.run_app(app, host=settings.host, port=settings.port, print=None)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "chat", "playground"]
    )
    args, rest = parser.parse_known_args(argv)
    if args.command == "chat":
        from bot.chat_terminal import main as chat_main

        return chat_main(rest)
    if args.command == "playground":
        from bot.playground import main as playground_main

        return playground_main(rest)
    return serve(Settings())


if __name__ == "__main__":
    sys.exit(main())
