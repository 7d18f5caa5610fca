"""A record of the name lookups and connections a test made (the ``network`` fixture of the
integration tests fills it and refuses everything that would leave the machine)."""

from __future__ import annotations

from bot.config import is_loopback


class NetworkSpy:
    """Records every name lookup and outgoing connection; refuses any that would leave the
    machine (so nothing can hang on the network, and the test sees the attempt)."""

    def __init__(self) -> None:
        self.lookups: list[str] = []
        self.connections: list[str] = []

    def outside(self) -> list[str]:
        return [host for host in [*self.lookups, *self.connections] if not is_loopback(host)]
