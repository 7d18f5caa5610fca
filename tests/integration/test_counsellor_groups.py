"""Counsellors by Entra group: membership looked up in Microsoft Graph (a checking local
stand-in), cached, and refused on any doubt."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from bot.domain.counsellors import CounsellorPolicy
from bot.hosting.counsellor_roles import CounsellorRoles
from bot.integrations.graph import GraphClient
from tests.support.graph_standin import GraphStandIn

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
GROUP = "0e7f5a1c-1111-4222-8333-944455556666"
MEMBER = "aaaaaaaa-0000-4000-8000-000000000001"
OUTSIDER = "bbbbbbbb-0000-4000-8000-000000000002"


@pytest.fixture
async def standin(tmp_path: Path) -> AsyncIterator[GraphStandIn]:
    async with GraphStandIn(
        tmp_path / "tls", tenant_id=TENANT, client_id="graph-app", client_secret="graph-secret"
    ) as running:
        running.group_members[GROUP] = {MEMBER}
        yield running
        assert running.problems == []


@pytest.fixture
async def graph(standin: GraphStandIn) -> AsyncIterator[GraphClient]:
    async with GraphClient.with_secret(
        TENANT,
        "graph-app",
        "graph-secret",
        authority_host=standin.authority_host,
        base_url=standin.graph_url,
        ca_file=standin.ca_file,
    ) as client:
        yield client


def message_from(object_id: str, tenant: str = TENANT) -> Activity:
    return Activity(
        type="message",
        from_property=ChannelAccount(id=f"29:{object_id}", aad_object_id=object_id),
        conversation=ConversationAccount(id="a:1", tenant_id=tenant),
        channel_data={"tenant": {"id": tenant}},
    )


async def test_group_members_are_counsellors_and_the_answer_is_cached(
    graph: GraphClient, standin: GraphStandIn
) -> None:
    now = [0.0]
    roles = CounsellorRoles(
        CounsellorPolicy.from_lists([TENANT], [], [], [GROUP]),
        graph,
        cache_seconds=600,
        clock=lambda: now[0],
    )
    assert await roles.is_counsellor(message_from(MEMBER))
    assert not await roles.is_counsellor(message_from(OUTSIDER))
    asked = len(standin.graph_requests)
    assert await roles.is_counsellor(message_from(MEMBER))  # from the cache
    assert len(standin.graph_requests) == asked
    standin.group_members[GROUP] = set()  # removed from the group
    now[0] = 601
    assert not await roles.is_counsellor(message_from(MEMBER))
    [request] = [r for r in standin.graph_requests if r.path.endswith("/checkMemberGroups")][:1]
    assert request.body == {"groupIds": [GROUP]}


async def test_other_tenants_and_graph_failures_count_as_clients(
    graph: GraphClient, standin: GraphStandIn
) -> None:
    roles = CounsellorRoles(CounsellorPolicy.from_lists([TENANT], [], [], [GROUP]), graph)
    assert not await roles.is_counsellor(message_from(MEMBER, tenant="another-tenant"))
    assert standin.graph_requests == []  # not even asked
    standin.fail_next(1, 403)
    assert not await roles.is_counsellor(message_from(MEMBER))


async def test_team_leads_by_group_are_asked_apart_from_counsellors(
    graph: GraphClient, standin: GraphStandIn
) -> None:
    leads = "0e7f5a1c-2222-4222-8333-944455556666"
    standin.group_members[leads] = {OUTSIDER}
    roles = CounsellorRoles(
        CounsellorPolicy.from_lists([TENANT], [], [], [GROUP], lead_group_ids=[leads]), graph
    )
    assert await roles.is_counsellor(message_from(MEMBER))
    assert not await roles.is_team_lead(message_from(MEMBER))  # a counsellor is no lead
    assert await roles.is_team_lead(message_from(OUTSIDER))
    assert not await roles.is_counsellor(message_from(OUTSIDER))
    assert not await roles.is_team_lead(message_from(OUTSIDER, tenant="another-tenant"))
