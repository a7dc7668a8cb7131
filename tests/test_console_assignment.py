"""Automatic assignment and release: round robin to online agents under capacity, and cases that
return to the queue when their agent goes offline or leaves the customer without a reply."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import httpx

from app.assignment import release_reason
from app.config import Settings
from app.storage.console import AssignedCase
from tests.e2e.test_core_loop import agent, ask, customer
from tests.harness import LiveServer, is_type

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
SETTINGS = Settings(offline_release_seconds=60, reply_timeout_seconds=300)
BASE = AssignedCase(1, "c_x", 7, assigned_at=NOW - timedelta(seconds=30), presence="online", last_seen=NOW,
                    last_customer_at=NOW - timedelta(seconds=40), last_agent_at=None)


def test_release_rules_are_plain_values_in_and_out() -> None:
    assert release_reason(BASE, NOW, SETTINGS) is None
    offline = replace(BASE, presence="offline", last_seen=NOW - timedelta(seconds=61))
    assert release_reason(offline, NOW, SETTINGS) == "agent_offline"
    assert release_reason(replace(offline, last_seen=NOW - timedelta(seconds=5)), NOW, SETTINGS) is None  # a reload
    assert release_reason(replace(BASE, presence="away", last_seen=NOW - timedelta(hours=1)), NOW,
                          Settings(reply_timeout_seconds=0)) is None  # away keeps its chats
    silent = replace(BASE, assigned_at=NOW - timedelta(seconds=400), last_customer_at=NOW - timedelta(seconds=500))
    assert release_reason(silent, NOW, SETTINGS) == "reply_timeout"
    answered = replace(silent, last_agent_at=NOW - timedelta(seconds=350))
    assert release_reason(answered, NOW, SETTINGS) is None
    waiting_again = replace(answered, last_customer_at=NOW - timedelta(seconds=301))
    assert release_reason(waiting_again, NOW, SETTINGS) == "reply_timeout"
    assert release_reason(silent, NOW, Settings(reply_timeout_seconds=0)) is None


async def wait_assigned(server: LiveServer, token: str, case_id: int, timeout: float = 10) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = httpx.get(f"{server.base_url}/api/cases/{case_id}", headers={"Authorization": f"Bearer {token}"}).json()
        if body["status"] == "assigned" or asyncio.get_running_loop().time() > deadline:
            return body
        await asyncio.sleep(0.2)


async def queued_case(server: LiveServer, token: str, conversation_id: str) -> int:
    r = httpx.get(f"{server.base_url}/api/console/history", params={"q": conversation_id},
                  headers={"Authorization": f"Bearer {token}"})
    return int(r.json()[0]["id"])


async def test_round_robin_assigns_in_turn_respects_capacity_and_releases_offline_agents(
        fresh_server: LiveServer) -> None:
    fresh_server.env.update(PARLEY_ASSIGN_MODE="round_robin", PARLEY_OFFLINE_RELEASE_SECONDS="1",
                            PARLEY_ASSIGN_INTERVAL_SECONDS="0.3", PARLEY_REPLY_TIMEOUT_SECONDS="0")
    fresh_server.start()
    admin_token = fresh_server.login("admin@parley.local")
    agent_token = fresh_server.login("agent@parley.local")
    users = httpx.get(f"{fresh_server.base_url}/api/admin/users", headers={"Authorization": f"Bearer {admin_token}",
                                                                          "X-Requested-With": "t"}).json()
    ids = {u["email"]: u["id"] for u in users}
    for email in ("agent@parley.local", "admin@parley.local"):
        r = httpx.patch(f"{fresh_server.base_url}/api/admin/users/{ids[email]}", json={"capacity": 1},
                        headers={"Authorization": f"Bearer {admin_token}"})
        assert r.status_code == 200

    # Nobody online: the case waits in the queue.
    c1, s1 = await customer(fresh_server)
    await ask(c1, "talk to a person")
    case1 = await queued_case(fresh_server, admin_token, s1["conversation_id"])
    await asyncio.sleep(1)
    assert (await wait_assigned(fresh_server, admin_token, case1, timeout=0))["status"] == "queued"

    # Two agents come online: cases go to them in turn, one each (capacity 1), the third waits.
    alex = await agent(fresh_server, agent_token)
    first = await wait_assigned(fresh_server, admin_token, case1)
    assert first["status"] == "assigned" and first["agent_id"] == ids["agent@parley.local"]
    ada = await agent(fresh_server, admin_token)
    c2, s2 = await customer(fresh_server)
    await ask(c2, "human please")
    case2 = await queued_case(fresh_server, admin_token, s2["conversation_id"])
    second = await wait_assigned(fresh_server, admin_token, case2)
    assert second["status"] == "assigned" and second["agent_id"] == ids["admin@parley.local"]
    await c2.wait_for(is_type("handoff", status="assigned"))
    c3, s3 = await customer(fresh_server)
    await ask(c3, "operator")
    case3 = await queued_case(fresh_server, admin_token, s3["conversation_id"])
    await asyncio.sleep(1)
    assert (await wait_assigned(fresh_server, admin_token, case3, timeout=0))["status"] == "queued"  # both full

    # Alex goes offline: his case returns to the queue (keeping its place, first in line) and goes to
    # nobody offline; the customer is told. When Ada resolves hers, the oldest waiting case goes to her.
    await alex.send({"type": "presence", "status": "offline", "ref": "off"})
    await alex.wait_for(is_type("ack", ref="off"))
    back = await c1.wait_for(lambda f: f["type"] == "handoff" and f["status"] == "queued", timeout=10)
    assert back["position"] == 1
    snapshot = await ada.wait_for(lambda f: f["type"] == "queue" and len(f["cases"]) == 2, timeout=10)
    assert [c["id"] for c in snapshot["cases"]] == [case1, case3]  # oldest first, nobody forgotten
    await ada.send({"type": "resolve", "case_id": case2, "ref": "r"})
    await ada.wait_for(is_type("ack", ref="r"))
    again = await wait_assigned(fresh_server, admin_token, case1)
    assert again["status"] == "assigned" and again["agent_id"] == ids["admin@parley.local"]
    assert (await wait_assigned(fresh_server, admin_token, case3, timeout=0))["status"] == "queued"
    for c in (c1, c2, c3, alex, ada):
        await c.close()


async def test_unanswered_customer_returns_to_the_queue_after_the_reply_timeout(fresh_server: LiveServer) -> None:
    fresh_server.env.update(PARLEY_REPLY_TIMEOUT_SECONDS="2", PARLEY_ASSIGN_INTERVAL_SECONDS="0.3")
    fresh_server.start()
    token = fresh_server.login("agent@parley.local")
    desk = await agent(fresh_server, token)
    client, session = await customer(fresh_server)
    await ask(client, "I need a human")
    case_id = await queued_case(fresh_server, token, session["conversation_id"])
    await desk.send({"type": "claim", "case_id": case_id, "ref": "c"})
    await desk.wait_for(is_type("ack", ref="c"))
    released = await desk.wait_for(lambda f: f["type"] == "case" and f["case"]["id"] == case_id
                                   and f["case"]["status"] == "queued", timeout=10)
    assert released["case"]["agent_id"] is None
    await client.wait_for(is_type("handoff", status="queued"))
    await desk.send({"type": "message", "conversation_id": session["conversation_id"], "text": "late", "ref": "m"})
    assert (await desk.wait_for(is_type("error", ref="m")))["code"] == "invalid_state"
    # Claimed again and answered in time, it stays.
    await desk.send({"type": "claim", "case_id": case_id, "ref": "c2"})
    await desk.wait_for(is_type("ack", ref="c2"))
    await desk.send({"type": "message", "conversation_id": session["conversation_id"], "text": "Here now", "ref": "m2"})
    await desk.wait_for(is_type("ack", ref="m2"))
    await asyncio.sleep(3)
    assert (await wait_assigned(fresh_server, token, case_id, timeout=0))["status"] == "assigned"
    await client.close()
    await desk.close()
