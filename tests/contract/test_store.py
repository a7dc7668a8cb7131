"""The Store contract, run against SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from app.storage.sql import Conflict, SqlStore
from handoff.state import Action


async def new_conversation(store: SqlStore, cid: str = "c_1") -> str:
    await store.create_conversation(cid, "hash-" + cid, "en", None)
    return cid


def render(position: int) -> tuple[str, dict]:
    return f"you are number {position}", {"position": position}


async def test_events_get_gapless_sequence_numbers_in_order(store: SqlStore) -> None:
    cid = await new_conversation(store)
    results = await asyncio.gather(*[store.append_event(cid, "message", "customer", f"m{i}") for i in range(20)])
    seqs = sorted(e.seq for e, _ in results)
    assert seqs == list(range(1, 21))
    stored = await store.events_after(cid, 0)
    assert [e.seq for e in stored] == list(range(1, 21))
    assert [e.seq for e in await store.events_after(cid, 15)] == [16, 17, 18, 19, 20]


async def test_a_repeated_client_msg_id_is_stored_once(store: SqlStore) -> None:
    cid = await new_conversation(store)
    results = await asyncio.gather(*[store.append_event(cid, "message", "customer", "hi", client_msg_id="same")
                                     for _ in range(5)])
    assert sum(created for _, created in results) == 1
    assert {e.seq for e, _ in results} == {1}
    assert len(await store.events_after(cid, 0)) == 1


async def test_an_append_returns_the_conversation_and_saves_bot_state_in_the_same_transaction(store: SqlStore) -> None:
    cid = await new_conversation(store)
    event, created, conv = await store.append_event_returning(cid, "message", "customer", "hi", client_msg_id="m1")
    assert created and conv is not None and conv.last_seq == event.seq == 1 and conv.status == "bot"
    # a retry is answered from the stored row: nothing new, no conversation snapshot, seq unchanged
    again, created, conv = await store.append_event_returning(cid, "message", "customer", "hi", client_msg_id="m1")
    assert (again.seq, created, conv) == (1, False, None)
    # state as a dict, and state built from the new event's own seq
    await store.append_event(cid, "message", "bot", "a", bot_state={"last_action": "answer"})
    assert (await store.get_conversation(cid)).bot_state == {"last_action": "answer"}  # type: ignore[union-attr]
    reply, _ = await store.append_event(cid, "message", "bot", "b", bot_state=lambda seq: {"offered": [seq]})
    stored = await store.get_conversation(cid)
    assert stored is not None and stored.bot_state == {"offered": [reply.seq]} and stored.last_seq == reply.seq == 3
    assert [e.seq for e in await store.events_after(cid, 0)] == [1, 2, 3]


async def test_internal_events_are_hidden_unless_asked_for(store: SqlStore) -> None:
    cid = await new_conversation(store)
    await store.append_event(cid, "message", "customer", "public")
    await store.append_event(cid, "note", "agent", "secret", visibility="internal")
    assert [e.text for e in await store.events_after(cid, 0)] == ["public"]
    assert [e.text for e in await store.events_after(cid, 0, include_internal=True)] == ["public", "secret"]


async def test_escalate_claim_resolve_follow_the_state_machine(store: SqlStore) -> None:
    cid = await new_conversation(store)
    agent = await store.create_user("a@x.io", "A", "hash", "agent")
    t = await store.escalate(cid, "customer_request", {"question": "q"}, render)
    assert t.case.status == "queued" and t.conversation.status == "queued"
    assert t.event.data["position"] == 1 and t.event.text == "you are number 1"
    with pytest.raises(Conflict):  # already queued
        await store.escalate(cid, "customer_request", {}, render)
    claimed = await store.case_action(t.case.id, Action.CLAIM, actor_id=agent.id, text="joined", data={})
    assert claimed.case.status == "assigned" and claimed.conversation.status == "assigned"
    resolved = await store.case_action(t.case.id, Action.RESOLVE, actor_id=agent.id, text="done", data={})
    assert resolved.case.status == "resolved" and resolved.conversation.status == "resolved"
    with pytest.raises(Conflict) as again:
        await store.case_action(t.case.id, Action.RESOLVE, actor_id=agent.id, text="done", data={})
    assert again.value.code == "invalid_state"
    events = await store.events_after(cid, 0)
    assert [e.data.get("case_id") for e in events] == [t.case.id] * 3


async def test_concurrent_claims_have_exactly_one_winner(store: SqlStore) -> None:
    cid = await new_conversation(store)
    agents = [await store.create_user(f"a{i}@x.io", f"A{i}", "hash", "agent") for i in range(5)]
    case = (await store.escalate(cid, "low_confidence", {}, render)).case
    outcomes = await asyncio.gather(*[store.case_action(case.id, Action.CLAIM, actor_id=a.id, text="j", data={})
                                      for a in agents], return_exceptions=True)
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1 and len(losers) == 4
    assert {o.code for o in losers} == {"already_claimed"}
    final = await store.get_case(case.id)
    assert final is not None and final.agent_id == winners[0].case.agent_id


async def test_only_the_owner_may_resolve_or_hand_back(store: SqlStore) -> None:
    cid = await new_conversation(store)
    owner = await store.create_user("o@x.io", "O", "hash", "agent")
    other = await store.create_user("p@x.io", "P", "hash", "agent")
    case = (await store.escalate(cid, "frustration", {}, render)).case
    await store.case_action(case.id, Action.CLAIM, actor_id=owner.id, text="j", data={})
    for action in (Action.RESOLVE, Action.HAND_BACK, Action.TRANSFER):
        with pytest.raises(Conflict) as refused:
            await store.case_action(case.id, action, actor_id=other.id, text="x", data={}, target_agent_id=other.id)
        assert refused.value.code == "not_owner"
    back = await store.case_action(case.id, Action.HAND_BACK, actor_id=owner.id, text="bot", data={})
    assert back.conversation.status == "bot" and back.case.status == "bot"


async def test_queue_is_oldest_first_with_positions(store: SqlStore) -> None:
    ids = [await new_conversation(store, f"c_{i}") for i in range(3)]
    cases = [(await store.escalate(cid, "out_of_scope", {}, render)).case for cid in ids]
    await store.append_event(ids[1], "message", "customer", "older")
    await store.append_event(ids[1], "message", "customer", "still there?")
    await store.append_event(ids[1], "message", "bot", "not the customer's")
    await store.append_event(ids[1], "note", "customer", "not a message")
    queue = await store.queue()
    assert [q.case.id for q in queue] == [c.id for c in cases]
    assert [q.position for q in queue] == [1, 2, 3]
    assert queue[1].last_message == "still there?"
    assert await store.queue_position(cases[2].id) == 3
    agent = await store.create_user("a@x.io", "A", "hash", "agent")
    await store.case_action(cases[0].id, Action.CLAIM, actor_id=agent.id, text="j", data={})
    assert await store.queue_position(cases[2].id) == 2


async def test_articles_are_versioned_and_unchanged_saves_are_no_ops(store: SqlStore) -> None:
    a, outcome = await store.upsert_article("a-1", "Title", "Body", "Cat", ["q1"], ["t"], "published")
    assert outcome == "created" and a.version == 1
    _, outcome = await store.upsert_article("a-1", "Title", "Body", "Cat", ["q1"], ["t"], "published")
    assert outcome == "unchanged"
    b, outcome = await store.upsert_article("a-1", "Title 2", "Body", "Cat", ["q1", "q2"], ["t"], "published")
    assert outcome == "updated" and b.version == 2 and b.questions == ["q1", "q2"]
    assert [v.version for v in await store.article_versions("a-1")] == [1, 2]


async def test_vectors_round_trip_and_changes_are_logged(store: SqlStore) -> None:
    await store.upsert_article("a-1", "T", "B", None, [], [], "published")
    vectors = np.random.default_rng(0).random((3, 8), dtype=np.float32)
    first = await store.replace_entries("a-1", "m", [("title", 0, "T"), ("question", 0, "q"), ("chunk", 0, "c")], vectors)
    loaded = await store.load_entries("m")
    assert [r[0] for r in loaded["a-1"]] == ["title", "question", "chunk"]
    assert np.allclose(np.stack([r[3] for r in loaded["a-1"]]), vectors)
    assert await store.load_entries("other-model") == {}
    second = await store.delete_entries("a-1")
    assert await store.kb_changes_since(0) == [(first, "a-1"), (second, "a-1")]
    assert await store.kb_stamp() == second


async def test_sessions_expire_and_deactivated_users_lose_them(store: SqlStore) -> None:
    from datetime import timedelta

    from app.storage.sql import utcnow

    user = await store.create_user("u@x.io", "U", "hash", "editor")
    await store.create_session("live", user.id, utcnow() + timedelta(hours=1))
    await store.create_session("old", user.id, utcnow() - timedelta(seconds=1))
    assert (await store.session_user("live")) == user
    assert await store.session_user("old") is None
    await store.update_user(user.id, active=False)
    assert await store.session_user("live") is None
    with pytest.raises(Conflict):
        await store.create_user("U@x.io", "dup", "hash", "agent")


async def test_presence_counts_only_recent_online_agents(store: SqlStore) -> None:
    a = await store.create_user("a@x.io", "A", "hash", "agent")
    b = await store.create_user("b@x.io", "B", "hash", "agent")
    await store.set_presence(a.id, "online")
    await store.set_presence(b.id, "away")
    assert [u.id for u in await store.online_agents()] == [a.id]
    await store.set_presence(a.id, "offline")
    assert await store.online_agents() == []
