"""Unhappy customers and the history filters, against SQLite and PostgreSQL: low ratings, frustration,
repeated failure and customers who came back within N days of a resolution (same conversation, same
email, or the same verified user of the same site; a claimed user id is not the same customer)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from app.storage import tables as t
from app.storage.quality import DuplicateDecision
from app.storage.sql import SqlStore
from handoff.state import Action

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def render(position: int) -> tuple[str, dict]:
    return f"you are number {position}", {"position": position}


async def resolved_case(store: SqlStore, cid: str, reason: str, agent_id: int, queued: datetime,
                        contact: dict | None = None, rating: int | None = None, site: str | None = None) -> int:
    await store.create_conversation(cid, "hash-" + cid, "en", site)
    if contact:
        await store.update_conversation(cid, contact=contact)
    await store.append_event(cid, "message", "customer", "my parcel never came")
    case = (await store.escalate(cid, reason, {"question": "q"}, render)).case
    await store.case_action(case.id, Action.CLAIM, actor_id=agent_id, text="joined", data={})
    await store.case_action(case.id, Action.RESOLVE, actor_id=agent_id, text="done", data={})
    if rating:
        await store.update_case(case.id, rating=rating)
    async with store.engine.begin() as conn:
        await conn.execute(t.conversations.update().where(t.conversations.c.id == cid).values(created_at=queued))
        await conn.execute(t.cases.update().where(t.cases.c.id == case.id).values(
            queued_at=queued, assigned_at=queued, resolved_at=queued + timedelta(hours=1)))
        await conn.execute(t.events.update().where(t.events.c.conversation_id == cid).values(created_at=queued))
    return case.id


async def comes_back(store: SqlStore, cid: str, at: datetime, contact: dict, site: str | None = None) -> None:
    await store.create_conversation(cid, "hash-" + cid, "en", site)
    await store.update_conversation(cid, contact=contact)
    await store.append_event(cid, "message", "customer", "it still has not arrived")
    async with store.engine.begin() as conn:
        await conn.execute(t.conversations.update().where(t.conversations.c.id == cid).values(created_at=at))
        await conn.execute(t.events.update().where(t.events.c.conversation_id == cid).values(created_at=at))


async def build(store: SqlStore) -> dict[str, int]:
    agent = await store.create_user("a@x.io", "Ana", "hash", "agent")
    day = timedelta(days=1)
    ids = {
        "angry_rated_1": await resolved_case(store, "c_angry", "frustration", agent.id, T0, {"email": "Jo@Example.com"},
                                             rating=1),
        "failed_twice": await resolved_case(store, "c_failed", "repeated_failure", agent.id, T0 + day),
        "rated_2": await resolved_case(store, "c_two", "low_confidence", agent.id, T0 + 2 * day, rating=2),
        "happy": await resolved_case(store, "c_happy", "low_confidence", agent.id, T0 + 3 * day, {"email": "h@x.io"},
                                     rating=5),
        "late_return": await resolved_case(store, "c_late", "customer_request", agent.id, T0 + 4 * day,
                                           {"email": "late@x.io"}, rating=4),
        "verified": await resolved_case(store, "c_ver", "customer_request", agent.id, T0 + 5 * day,
                                        {"user_id": "u1", "verified": True, "verified_fields": ["user_id"]}, site="s1"),
        "claimed_only": await resolved_case(store, "c_claim", "customer_request", agent.id, T0 + 6 * day,
                                            {"user_id": "u2", "verified": True, "verified_fields": ["user_id"]},
                                            site="s1"),
        "same_conversation": await resolved_case(store, "c_same", "out_of_scope", agent.id, T0 + 7 * day),
    }
    # Jo comes back 2 days after her case was resolved, with her email in another case
    await comes_back(store, "c_angry_again", T0 + 2 * day, {"email": "jo@example.COM"})
    # the happy customer never comes back; late@ comes back after 9 days
    await comes_back(store, "c_late_again", T0 + 13 * day, {"email": "late@x.io"})
    # u1 comes back verified the next day; someone only claiming u2 (unverified) too
    await comes_back(store, "c_ver_again", T0 + 6 * day, {"user_id": "u1", "verified": True,
                                                         "verified_fields": ["user_id"]}, site="s1")
    await comes_back(store, "c_claim_again", T0 + 7 * day, {"user_id": "u2", "verified": False,
                                                           "verified_fields": []}, site="s1")
    # a customer writes again in the same conversation a day after the resolution
    event, _ = await store.append_event("c_same", "message", "customer", "sorry, one more thing")
    async with store.engine.begin() as conn:
        await conn.execute(t.events.update().where(t.events.c.conversation_id == "c_same",
                                                   t.events.c.seq == event.seq).values(created_at=T0 + 8 * day))
    return ids


async def test_unhappy_lists_low_ratings_frustration_repeated_failure_and_recontacts(store: SqlStore) -> None:
    ids = await build(store)
    rows, total = await store.unhappy_cases(T0 - timedelta(days=1), T0 + timedelta(days=30))
    by_id = {r.case_id: r for r in rows}
    assert set(by_id) == {ids["angry_rated_1"], ids["failed_twice"], ids["rated_2"], ids["verified"],
                          ids["same_conversation"]}
    assert total == 5
    assert by_id[ids["angry_rated_1"]].recontact and by_id[ids["angry_rated_1"]].rating == 1
    assert not by_id[ids["failed_twice"]].recontact and by_id[ids["failed_twice"]].agent_name == "Ana"
    assert [r.case_id for r in rows] == sorted(by_id, key=lambda i: by_id[i].queued_at, reverse=True)
    # a claimed user id is not the same customer; a return after 9 days is not within 7
    only_recontacts, n = await store.unhappy_cases(T0 - timedelta(days=1), T0 + timedelta(days=30), ("recontact",))
    assert {r.case_id for r in only_recontacts} == {ids["angry_rated_1"], ids["verified"], ids["same_conversation"]}
    longer, _ = await store.unhappy_cases(T0 - timedelta(days=1), T0 + timedelta(days=30), ("recontact",),
                                          recontact_days=10)
    assert ids["late_return"] in {r.case_id for r in longer}
    back = await store.first_return(ids["angry_rated_1"])
    assert back is not None and back.conversation_id == "c_angry_again" and back.at == T0 + timedelta(days=2)
    same = await store.first_return(ids["same_conversation"])
    assert same is not None and same.conversation_id == "c_same" and same.text == "sorry, one more thing"
    assert await store.first_return(ids["happy"]) is None


async def test_unhappy_pages_and_respects_the_period(store: SqlStore) -> None:
    ids = await build(store)
    first, total = await store.unhappy_cases(T0 - timedelta(days=1), T0 + timedelta(days=30), limit=2)
    second, _ = await store.unhappy_cases(T0 - timedelta(days=1), T0 + timedelta(days=30), limit=2, offset=2)
    third, _ = await store.unhappy_cases(T0 - timedelta(days=1), T0 + timedelta(days=30), limit=2, offset=4)
    pages = [r.case_id for r in first + second + third]
    assert total == 5 and len(pages) == 5 and len(set(pages)) == 5
    early, n = await store.unhappy_cases(T0, T0 + timedelta(days=2))
    assert {r.case_id for r in early} == {ids["angry_rated_1"], ids["failed_twice"]} and n == 2
    assert await store.unhappy_cases(T0, T0 + timedelta(days=30), ()) == ([], 0)


async def test_history_filters_by_rating_reason_and_recontact(store: SqlStore) -> None:
    ids = await build(store)
    assert [r.case_id for r in await store.search_cases(rating=2)] == [ids["rated_2"]]
    assert {r.case_id for r in await store.search_cases(rating_max=2)} == {ids["rated_2"], ids["angry_rated_1"]}
    assert {r.case_id for r in await store.search_cases(reasons=("frustration", "repeated_failure"))} == {
        ids["angry_rated_1"], ids["failed_twice"]}
    assert {r.case_id for r in await store.search_cases(recontact_days=7)} == {
        ids["angry_rated_1"], ids["verified"], ids["same_conversation"]}
    assert ids["late_return"] in {r.case_id for r in await store.search_cases(recontact_days=9)}
    assert await store.search_cases(rating=3) == []


async def test_a_suggestion_is_decided_once(store: SqlStore) -> None:
    user = await store.create_user("e@x.io", "Ed", "hash", "editor")
    await store.decide_suggestion("returns", "Can I send it back?", "dismissed", user.id)
    try:
        await store.decide_suggestion("returns", "can i   send it back?", "accepted", user.id)
        raise AssertionError("a second decision on the same question was stored")
    except DuplicateDecision:
        pass
    decisions = await store.suggestion_decisions()
    assert list(decisions) == [("returns", "can i send it back?")]
    assert decisions[("returns", "can i send it back?")].status == "dismissed"
    async with store.engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.desk_suggestions))).scalar_one() == 1
