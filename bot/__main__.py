"""``python -m bot`` runs the service; ``python -m bot chat`` a terminal chat with it;
``python -m bot playground`` the service together with Microsoft's Agents Playground;
``python -m bot audit …`` the consent audit (read only); ``python -m bot stats`` the weekly
numbers without names (read only)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from pydantic import ValidationError

from bot.config import ConfigurationError, Settings
from bot.hosting.service_logging import configure_logging

EXIT_CONFIGURATION = 2
EXIT_STORAGE_UNAVAILABLE = 3


def serve(settings: Settings) -> int:
    """Run until SIGTERM or SIGINT, then stop gracefully (``bot/hosting/shutdown.py``) and
    return 0. Storage that cannot be used at start-up (a read-only or broken
    SQLite file, Cosmos DB not answering) ends the process with one line and exit code 3,
    before it listens: a supervisor sees the failure and restarts it later."""
    from bot.app import create_app, instance_id
    from bot.hosting.service_logging import RouteAccessLogger
    from bot.hosting.shutdown import serve as serve_until_stopped
    from bot.hosting.telemetry import configure_telemetry
    from bot.storage import StoreUnavailableError

    configure_logging(log_format=settings.log_format)
    try:
        app = create_app(settings)
        telemetry = configure_telemetry(settings, instance_id())
    except ConfigurationError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION
    mode = "local mode (no credentials)" if settings.local_mode else "authenticated"
    logging.getLogger("bot").info("starting in %s on %s:%s", mode, settings.host, settings.port)
    code = 0
    try:
        asyncio.run(
            serve_until_stopped(
                app,
                settings.host,
                settings.port,
                grace_seconds=settings.shutdown_grace_seconds,
                deregister_seconds=settings.shutdown_deregister_seconds,
                access_log_class=RouteAccessLogger,
            )
        )
    except StoreUnavailableError as error:
        print(f"Storage unavailable, not starting: {error}", file=sys.stderr)
        code = EXIT_STORAGE_UNAVAILABLE
    if not telemetry.shutdown():  # sends what is still buffered, or gives up in time
        logging.shutdown()
        sys.stdout.flush()
        os._exit(code)  # the exporters' exit hooks would wait for the endpoint again
    return code


def load_settings() -> Settings:
    """The settings from the environment; ``ConfigurationError`` names every problem."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise ConfigurationError(problems) from None


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    argv = sys.argv[1:] if argv is None else argv
    command, rest = (argv[0], argv[1:]) if argv and not argv[0].startswith("-") else ("serve", argv)
    if command == "chat":
        from bot.devtools.terminal_chat import main as chat_main

        return chat_main(rest)
    if command == "playground":
        from bot.devtools.playground import main as playground_main

        return playground_main(rest)
    if command == "audit":  # its own arguments first: "--help" needs no settings
        from bot.audit import main as audit_main

        return audit_main(rest, load_settings)
    if command == "stats":
        from bot.stats_report import main as stats_main

        return stats_main(rest, load_settings)
    parser = argparse.ArgumentParser(
        prog="python -m bot [serve|chat|playground|audit|stats]", description=__doc__
    )
    parser.parse_args(rest if command == "serve" else argv)
    try:
        settings = load_settings()
    except ConfigurationError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
