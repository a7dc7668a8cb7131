"""Teams, routing rules, priority and tags in the store, on SQLite and PostgreSQL through the migrations."""

from __future__ import annotations

import pytest

from app.storage.sites import Audit
from app.storage.sql import Conflict, NotFound, SqlStore
from handoff.state import Action
from tests.contract.test_store import render

WHO = Audit("test")


async def escalated(store: SqlStore, cid: str, lang: str = "en", site_key: str | None = None,
                    reason: str = "customer_request") -> int:
    await store.create_conversation(cid, "hash-" + cid, lang, site_key)
    return (await store.escalate(cid, reason, {"reason": reason}, render)).case.id


async def test_the_first_matching_rule_by_position_picks_the_team(store: SqlStore) -> None:
    german = await store.create_team("German", WHO)
    vip = await store.create_team("VIP", WHO)
    assert german and vip and await store.create_team("German", WHO) is None
    await store.create_routing_rule(german.id, WHO, position=2, language="de")
    await store.create_routing_rule(vip.id, WHO, position=1, language="de", reason="frustration")
    assert (await store.get_case(await escalated(store, "c_de", "de"))).team_id == german.id  # type: ignore[union-attr]
    angry = await escalated(store, "c_angry", "de", reason="frustration")
    assert (await store.get_case(angry)).team_id == vip.id  # type: ignore[union-attr]
    assert (await store.get_case(await escalated(store, "c_en"))).team_id is None  # type: ignore[union-attr]
    assert [r.position for r in await store.list_routing_rules()] == [1, 2]


async def test_queue_is_priority_first_then_age_and_tags_filter_history(store: SqlStore) -> None:
    first, second, third = [await escalated(store, f"c_{i}") for i in range(3)]
    assert await store.label_case(third, priority="urgent", tags=["refund", "vip_customer"])
    assert await store.label_case(first, priority="low")
    assert not await store.label_case(999_999, priority="low")
    assert [i.case.id for i in await store.queue()] == [third, second, first]
    assert await store.queue_position(third) == 1 and await store.queue_position(first) == 3
    assert [r.case_id for r in await store.search_cases(tag="vip_customer")] == [third]
    assert await store.search_cases(tag="vip%") == [] and await store.search_cases(tag="refun") == []
    assert [r.case_id for r in await store.search_cases(priority="low")] == [first]


async def test_a_release_to_a_team_requeues_the_case_for_it_and_members_are_replaced(store: SqlStore) -> None:
    agent = await store.create_user("a@example.com", "A", "x", "agent")
    team = await store.create_team("Returns", WHO)
    assert team is not None
    updated = await store.update_team(team.id, WHO, member_ids=[agent.id, agent.id])
    assert updated is not None and updated.member_ids == [agent.id]
    with pytest.raises(NotFound):
        await store.update_team(team.id, WHO, member_ids=[999_999])
    other = await store.create_team("Billing", WHO)
    assert other is not None
    with pytest.raises(Conflict):  # the name is taken
        await store.update_team(other.id, WHO, name="Returns")
    case_id = await escalated(store, "c_t")
    await store.case_action(case_id, Action.CLAIM, actor_id=agent.id, text="claimed", data={})
    with pytest.raises(NotFound):
        await store.case_action(case_id, Action.RELEASE, actor_id=agent.id, text="q", data={}, target_team_id=999_999)
    moved = await store.case_action(case_id, Action.RELEASE, actor_id=agent.id, text="q", data={},
                                    target_team_id=team.id)
    assert (moved.case.status, moved.case.team_id, moved.case.agent_id) == ("queued", team.id, None)
    assert moved.conversation.status == "queued"
    assert [(i.case.id, i.team_name) for i in await store.queue()] == [(case_id, "Returns")]
    assert await store.delete_team(team.id, WHO)
    assert (await store.get_case(case_id)).team_id is None  # type: ignore[union-attr]
