"""The email channel's store (app/storage/mail.py) on SQLite and PostgreSQL, with two stores on one
database standing for two server processes: batches, one sender per batch, follow-ups sent once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from app.storage.mail import MailStore, utcnow
from app.storage.sql import SqlStore
from handoff.state import Action


async def conversation(store: SqlStore, cid: str) -> None:
    await store.create_conversation(cid, "h" + cid, "en", None)


def agent_messages(event: Any, thread: Any) -> bool:
    return event.kind == "message" and event.sender == "agent"


async def collect(mail: MailStore, plan: Any = lambda e: None, batch: float = 0) -> int:
    await asyncio.sleep(1.1)  # the cursor reads only events older than a second (SETTLE)
    return await mail.collect(agent_messages, plan, batch)


@pytest.fixture
async def second(store: SqlStore) -> Any:
    other = SqlStore.from_url(store.engine.url.render_as_string(hide_password=False))  # another process
    yield other
    await other.close()


async def test_replies_in_the_window_make_one_batch_and_one_process_sends_it(store: SqlStore, second: SqlStore) -> None:
    mail, other = MailStore(store), MailStore(second)
    assert await mail.collect(agent_messages, lambda e: None, 0) == 0  # the first call starts at the newest event
    await conversation(store, "c_a1")
    await conversation(store, "c_b2")
    seqs = [(await store.append_event("c_a1", "message", "agent", f"reply {i}"))[0].seq for i in range(2)]
    await store.append_event("c_a1", "message", "customer", "not emailed")
    await store.append_event("c_b2", "message", "agent", "other conversation")
    assert await collect(mail) == 4
    assert await collect(other) == 0  # the cursor is shared: nothing is read twice
    assert [i.seqs for i in await mail.outbox("c_a1")] == [seqs]
    claimed = await asyncio.gather(mail.claim_due(), other.claim_due())
    ids = sorted(i.id for batch in claimed for i in batch)
    assert len(ids) == 2 and len(set(ids)) == 2  # each batch claimed by exactly one process
    assert all(i.status == "sending" and i.attempts == 1 for batch in claimed for i in batch)


async def test_a_connected_customer_marks_the_batch_seen(store: SqlStore) -> None:
    mail = MailStore(store)
    await mail.collect(agent_messages, lambda e: None, 0)
    await conversation(store, "c_s1")
    await store.append_event("c_s1", "message", "agent", "hello")
    await collect(mail, batch=60)
    assert await mail.pending_conversations() == ["c_s1"]
    assert await mail.mark_seen(["c_s1"]) == 1
    assert await mail.claim_due() == [] and (await mail.outbox("c_s1"))[0].status == "seen"


async def test_a_failed_batch_waits_for_its_retry(store: SqlStore) -> None:
    mail = MailStore(store)
    await mail.collect(agent_messages, lambda e: None, 0)
    await conversation(store, "c_r1")
    await store.append_event("c_r1", "message", "agent", "hello")
    await collect(mail)
    [item] = await mail.claim_due()
    await mail.finish(item.id, "pending", error="SMTPServerDisconnected: down", retry_at=utcnow() + timedelta(hours=1))
    assert await mail.claim_due() == []
    assert (await mail.outbox("c_r1"))[0].last_error == "SMTPServerDisconnected: down"


async def resolved_case(store: SqlStore, cid: str) -> tuple[int, int]:
    user = await store.create_user(f"{cid}@example.com", "Ann Agent", "x", "agent")
    await conversation(store, cid)
    t = await store.escalate(cid, "customer_request", {}, lambda p: ("queued", {}))
    await store.case_action(t.case.id, Action.CLAIM, actor_id=user.id, text="joined", data={"status": "assigned"})
    await store.case_action(t.case.id, Action.RESOLVE, actor_id=user.id, text="resolved",
                            data={"status": "resolved"})
    return t.case.id, user.id


def plan(event: Any) -> Any:
    from app.followup import plan as followup_plan

    return followup_plan(event, 0.01)


async def test_a_follow_up_is_scheduled_once_sent_once_and_no_reopens_with_the_owner(
        store: SqlStore, second: SqlStore) -> None:
    mail, other = MailStore(store), MailStore(second)
    await mail.collect(agent_messages, lambda e: None, 0)
    case_id, owner = await resolved_case(store, "c_f1")
    await collect(mail, plan)
    await collect(other, plan)
    [due] = await mail.due_followups()
    assert (due.case_id, due.reason, due.status) == (case_id, "resolved", "scheduled")
    sent = await asyncio.gather(mail.send_followup(due.id, "widget", "Did that solve it?", {"followup_id": due.id}),
                                other.send_followup(due.id, "widget", "Did that solve it?", {"followup_id": due.id}))
    events = [e for e in sent if e is not None]
    assert len(events) == 1 and events[0].kind == "followup"  # one process sent it
    answers = await asyncio.gather(mail.answer_followup(due.id, "no"), other.answer_followup(due.id, "yes"))
    assert len([a for a in answers if a is not None]) == 1  # the first answer counts
    reopened = await mail.reopen_with_owner(case_id, "open again", {})
    assert reopened is not None and reopened[1].status == "assigned" and reopened[1].agent_id == owner
    conv = await store.get_conversation("c_f1")
    assert conv is not None and conv.status == "assigned"
    assert await mail.reopen_with_owner(case_id, "open again", {}) is None  # not resolved any more
