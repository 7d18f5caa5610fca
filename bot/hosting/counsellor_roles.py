"""Who is a counsellor, read from a Teams activity: the configured policy, plus Entra groups."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from botbuilder.schema import Activity

from bot.domain.counsellors import CounsellorPolicy
from bot.integrations.graph import GraphClient, GraphError
from dialogs.session import sender_object_id

log = logging.getLogger(__name__)


def tenant_of(activity: Activity) -> str:
    conversation_tenant = activity.conversation.tenant_id if activity.conversation else None
    channel_tenant = ((activity.channel_data or {}).get("tenant") or {}).get("id")
    return conversation_tenant or channel_tenant or ""


class CounsellorRoles:
    """The policy, plus Entra group membership looked up in Microsoft Graph.

    Lookups are cached for a while (a removed member stays a counsellor until the entry
    expires); a failed lookup counts as "not a counsellor" — the safe side.
    """

    def __init__(
        self,
        policy: CounsellorPolicy,
        graph: GraphClient | None = None,
        cache_seconds: float = 600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._graph = graph
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, bool]] = {}

    def tenant_allowed(self, activity: Activity) -> bool:
        return self.policy.tenant_allowed(tenant_of(activity))

    async def is_counsellor(self, activity: Activity) -> bool:
        object_id, tenant_id = sender_object_id(activity), tenant_of(activity)
        if self.policy.is_counsellor(object_id, tenant_id):
            return True
        if (
            not object_id
            or not self.policy.group_ids
            or self._graph is None
            or not self.policy.tenant_allowed(tenant_id)
        ):
            return False
        now = self._clock()
        cached = self._cache.get(object_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            member_of = await self._graph.check_member_groups(
                object_id, list(self.policy.group_ids)
            )
        except GraphError as error:
            log.warning("group membership unknown (%s); treated as a client", type(error).__name__)
            return False
        member = bool(member_of & set(self.policy.group_ids))
        self._cache[object_id] = (now + self._cache_seconds, member)
        return member
