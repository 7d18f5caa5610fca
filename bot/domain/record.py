"""What every domain record is: a dataclass stored as a plain JSON object, keyed by client."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any, Self


def utc_now() -> datetime:
    return datetime.now(UTC)


def seconds_until(moment: datetime, now: datetime) -> int:
    """A time to live for the store: seconds from ``now`` to ``moment``, at least one.

    The store measures time on its own clock, so it is given a duration, not a point in time."""
    return max(1, int((moment - now).total_seconds()))


class Record:
    """Dataclass records stored as plain JSON objects."""

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = asdict(self)  # type: ignore[call-overload]
        return body

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{name: value for name, value in body.items() if name in known})


def record_key(client_id: str, record_id: str) -> str:
    """Records of a client are keyed ``client:record`` inside the client's partition."""
    return f"{client_id}:{record_id}"
