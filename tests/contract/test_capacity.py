"""Capacity holds in the database: concurrent claims and takeovers for one agent, from one store or
two (two server processes), never give the agent more assigned cases than their capacity. Run
against SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from app.storage.sql import Conflict, SqlStore
from handoff.state import Action
from tests.contract.test_store import new_conversation, render


async def queued_cases(store: SqlStore, n: int, prefix: str = "c_q") -> list[int]:
    ids = []
    for i in range(n):
        cid = await new_conversation(store, f"{prefix}{i}")
        ids.append((await store.escalate(cid, "customer_request", {}, render)).case.id)
    return ids


async def assigned_to(store: SqlStore, agent_id: int) -> int:
    return (await store.active_cases_by_agent()).get(agent_id, 0)


@pytest.mark.parametrize("capacity", [1, 3])
async def test_concurrent_claims_by_one_agent_stop_at_capacity(store: SqlStore, capacity: int) -> None:
    agent = await store.create_user("a@x.io", "A", "hash", "agent", capacity=capacity)
    cases = await queued_cases(store, 8)
    other = SqlStore.from_url(store.engine.url.render_as_string(hide_password=False))  # a second process
    try:
        outcomes = await asyncio.gather(*[
            (store if i % 2 else other).case_action(case_id, Action.CLAIM, actor_id=agent.id, text="j", data={})
            for i, case_id in enumerate(cases)], return_exceptions=True)
    finally:
        await other.close()
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(won) == capacity and len(refused) == len(cases) - capacity, outcomes
    assert {o.code for o in refused} == {"at_capacity"}
    assert await assigned_to(store, agent.id) == capacity
    left = [i for i in await store.queue()]
    assert len(left) == len(cases) - capacity  # refused claims left their cases in the queue, untouched


async def test_a_resolved_case_frees_a_place_and_capacity_changes_apply_at_once(store: SqlStore) -> None:
    agent = await store.create_user("a@x.io", "A", "hash", "agent", capacity=1)
    first, second, third = await queued_cases(store, 3)
    await store.case_action(first, Action.CLAIM, actor_id=agent.id, text="j", data={})
    with pytest.raises(Conflict) as refused:
        await store.case_action(second, Action.CLAIM, actor_id=agent.id, text="j", data={})
    assert refused.value.code == "at_capacity" and "capacity is 1" in refused.value.detail
    await store.case_action(first, Action.RESOLVE, actor_id=agent.id, text="r", data={})
    await store.case_action(second, Action.CLAIM, actor_id=agent.id, text="j", data={})
    await store.update_user(agent.id, capacity=2)
    await store.case_action(third, Action.CLAIM, actor_id=agent.id, text="j", data={})
    assert await assigned_to(store, agent.id) == 2


async def test_takeovers_and_claims_race_for_the_last_place(store: SqlStore) -> None:
    agent = await store.create_user("a@x.io", "A", "hash", "agent", capacity=2)
    cases = await queued_cases(store, 3)
    live = [await new_conversation(store, f"c_live{i}") for i in range(3)]
    packet = {"reason": "agent_takeover"}
    outcomes = await asyncio.gather(
        *[store.case_action(c, Action.CLAIM, actor_id=agent.id, text="j", data={}) for c in cases],
        *[store.take_over(cid, agent.id, packet, "A joined", {}) for cid in live], return_exceptions=True)
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(won) == 2, outcomes
    assert {o.code for o in outcomes if isinstance(o, Conflict)} == {"at_capacity"}
    assert await assigned_to(store, agent.id) == 2
    # a refused takeover left the conversation with the bot
    statuses = [(await store.get_conversation(cid)).status for cid in live]  # type: ignore[union-attr]
    assert statuses.count("bot") + statuses.count("assigned") == 3


async def test_take_over_needs_the_bot_to_own_the_conversation(store: SqlStore) -> None:
    agent = await store.create_user("a@x.io", "A", "hash", "agent")
    cid = await new_conversation(store)
    joined = await store.take_over(cid, agent.id, {"reason": "agent_takeover"}, "A joined", {"agent": {"name": "A"}})
    assert joined.case.status == "assigned" and joined.case.agent_id == agent.id
    assert joined.conversation is not None and joined.conversation.status == "assigned"
    assert joined.event.kind == "handoff" and joined.event.data["status"] == "assigned"
    with pytest.raises(Conflict) as again:
        await store.take_over(cid, agent.id, {"reason": "agent_takeover"}, "A joined", {})
    assert again.value.code == "invalid_state"
    # the bot's reply decided before the join is not stored after it
    with pytest.raises(Conflict):
        await store.append_event(cid, "message", "bot", "late answer", only_if_status="bot")
    assert [e.text for e in await store.events_after(cid, 0)] == ["A joined"]
