"""Where a client's attachment may be fetched from, and whether the bot's token goes along."""

from __future__ import annotations

from dataclasses import dataclass

from yarl import URL

from bot.config import Settings, is_loopback
from bot.integrations.safe_fetch import origin_of


@dataclass(frozen=True)
class FetchRules:
    """Where consent forms may be fetched from (``SECURITY.md``, "Attachments").

    * A picture pasted into the chat lies with the channel and is served only with the bot's
      token: it is fetched only from the origin of the activity's ``serviceUrl`` (vouched for
      by the channel's signed token) or from an exactly listed host — never by a suffix such
      as ``*.trafficmanager.net``, which anyone can register.
    * A file sent with Teams' file card carries a pre-authorised ``downloadUrl`` on SharePoint
      or OneDrive: fetched over https from ``download_hosts`` only, without the bot's token.
    * Outside local mode nothing private, loopback or link-local is reached (``safe_fetch``).
    """

    download_hosts: tuple[str, ...] = (".sharepoint.com",)
    token_hosts: frozenset[str] = frozenset()
    local_mode: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchRules:
        return cls(
            download_hosts=tuple(h.lower() for h in settings.split(settings.download_hosts)),
            token_hosts=frozenset(h.lower() for h in settings.split(settings.token_hosts)),
            local_mode=settings.local_mode,
        )

    def is_download_host(self, url: URL) -> bool:
        host = (url.raw_host or "").lower().rstrip(".")
        if self.local_mode and is_loopback(host):
            return True  # local development: files come from the machine itself
        return any(
            host.endswith(entry) if entry.startswith(".") else host == entry
            for entry in self.download_hosts
        )

    def may_carry_token(self, url: URL, channel: URL) -> bool:
        if url.user or url.password or url.scheme not in ("http", "https"):
            return False
        if origin_of(url) == origin_of(channel):
            return True
        return url.scheme == "https" and origin_of(url)[1] in self.token_hosts
