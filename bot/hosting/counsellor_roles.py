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
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, bool]] = {}

    def tenant_allowed(self, activity: Activity) -> bool:
        return self.policy.tenant_allowed(tenant_of(activity))

    async def is_counsellor(self, activity: Activity) -> bool:
        object_id, tenant_id = sender_object_id(activity), tenant_of(activity)
        if self.policy.is_counsellor(object_id, tenant_id):
            return True
        return await self._in_groups(object_id, tenant_id, self.policy.group_ids)

    async def is_team_lead(self, activity: Activity) -> bool:
        """Sees the numbers ("Auswertung"): listed in STATS_OBJECT_IDS or STATS_GROUP_IDS."""
        object_id, tenant_id = sender_object_id(activity), tenant_of(activity)
        if self.policy.is_lead(object_id, tenant_id):
            return True
        return await self._in_groups(object_id, tenant_id, self.policy.lead_group_ids)

    async def _in_groups(self, object_id: str, tenant_id: str, groups: tuple[str, ...]) -> bool:
        if (
            not object_id
            or not groups
            or self._graph is None
            or not self.policy.tenant_allowed(tenant_id)
        ):
            return False
        now = self._clock()
        key = (object_id.lower(), groups)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            member_of = await self._graph.check_member_groups(object_id, list(groups))
        except GraphError as error:
            log.warning("group membership unknown (%s); treated as a client", type(error).__name__)
            return False
        member = bool(member_of & set(groups))
        self._cache[key] = (now + self._cache_seconds, member)
        return member
