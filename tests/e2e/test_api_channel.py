"""The REST API channel and API tokens, against the real server (uvicorn, SQLite, MiniLM).

A test client drives a whole conversation over HTTP only: the customer starts it, the bot answers,
the customer asks for a person, an agent claims it with an API token, replies and writes a note,
the customer reads the reply after a seq (and never the note), the agent resolves.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.harness import LiveServer


def _admin(server: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _user_id(admin: httpx.Client, email: str) -> int:
    users = admin.get("/api/admin/users").json()
    return next(u["id"] for u in users if u["email"] == email)


def _token(admin: httpx.Client, name: str, scopes: list[str], user_id: int | None = None) -> dict[str, Any]:
    r = admin.post("/api/admin/tokens", json={"name": name, "scopes": scopes, "user_id": user_id})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["token"].startswith("pk_") and body["prefix"] == body["token"][:11]
    return body  # type: ignore[no-any-return]


def test_a_whole_conversation_through_the_rest_channel(live_server: LiveServer, admin_token: str) -> None:
    admin = _admin(live_server, admin_token)
    agent_id = _user_id(admin, "agent@parley.local")
    agent_token = _token(admin, "mobile console", ["agent"], agent_id)
    integration = _token(admin, "crm", ["conversations:write", "conversations:read"])
    agent = httpx.Client(base_url=live_server.base_url, headers={"Authorization": f"Bearer {agent_token['token']}"},
                         timeout=30)
    crm = httpx.Client(base_url=live_server.base_url, headers={"Authorization": f"Bearer {integration['token']}"},
                       timeout=30)

    # the customer side: start, ask, get the bot's answer in the same reply
    started = crm.post("/api/v1/conversations", json={"lang": "en", "email": "ann@example.com"})
    assert started.status_code == 201, started.text
    conv_id, conv_token = started.json()["conversation_id"], started.json()["token"]
    customer = httpx.Client(base_url=live_server.base_url, headers={"X-Conversation-Token": conv_token}, timeout=30)
    sent = customer.post(f"/api/v1/conversations/{conv_id}/messages",
                         json={"text": "How do I reset my password?", "client_msg_id": "m-1"})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["duplicate"] is False and body["message"]["seq"] == 1 and body["message"]["client_msg_id"] == "m-1"
    assert body["message"]["sender"] == "customer" and body["message"]["text"] == "How do I reset my password?"
    bot = [e for e in body["events"] if e.get("sender") == "bot"]
    assert bot and bot[0]["article"]["id"] == "reset-password", body["events"]

    # the same client_msg_id again (a retry after a lost answer): the stored message back, nothing new
    retry = customer.post(f"/api/v1/conversations/{conv_id}/messages",
                          json={"text": "How do I reset my password?", "client_msg_id": "m-1"})
    assert retry.status_code == 200 and retry.json()["duplicate"] is True
    assert retry.json()["message"]["seq"] == 1 and retry.json()["events"] == []
    everything = customer.get(f"/api/v1/conversations/{conv_id}/events").json()
    assert [e["seq"] for e in everything["events"]] == sorted({e["seq"] for e in everything["events"]})
    assert sum(1 for e in everything["events"] if e.get("client_msg_id") == "m-1") == 1
    assert len([e for e in everything["events"] if e.get("sender") == "bot"]) == 1

    # ask for a person; the agent finds it in the queue and claims it with an API token
    handoff = customer.post(f"/api/v1/conversations/{conv_id}/request_human")
    assert handoff.status_code == 200 and handoff.json()["event"]["status"] == "queued"
    assert customer.post(f"/api/v1/conversations/{conv_id}/request_human").status_code == 409  # already queued
    queue = agent.get("/api/v1/agent/queue").json()["cases"]
    case = next(c for c in queue if c["conversation_id"] == conv_id)
    claimed = agent.post(f"/api/v1/agent/cases/{case['id']}/claim")
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["case"]["status"] == "assigned" and claimed.json()["case"]["agent_id"] == agent_id
    again = agent.post(f"/api/v1/agent/cases/{case['id']}/claim")
    assert again.status_code == 409

    seen = everything["events"][-1]["seq"]
    reply = agent.post(f"/api/v1/agent/conversations/{conv_id}/messages",
                       json={"text": "Hi Ann, I can help with that.", "client_msg_id": "a-1"})
    assert reply.status_code == 201, reply.text
    note = agent.post(f"/api/v1/agent/conversations/{conv_id}/notes", json={"text": "customer is on the old app"})
    assert note.status_code == 201 and note.json()["event"]["visibility"] == "internal"

    # the customer reads after the seq it saw: the claim and the reply, never the note
    after = customer.get(f"/api/v1/conversations/{conv_id}/events", params={"after_seq": seen}).json()
    texts = [e["text"] for e in after["events"]]
    assert "Hi Ann, I can help with that." in texts
    assert "customer is on the old app" not in texts
    assert all(e["seq"] > seen for e in after["events"]) and after["status"] == "assigned"
    agent_view = agent.get(f"/api/v1/agent/conversations/{conv_id}/events", params={"after_seq": seen}).json()
    assert "customer is on the old app" in [e["text"] for e in agent_view["events"]]

    # long polling: a read that waits is answered as soon as the agent writes
    async def poll_and_reply() -> tuple[dict[str, Any], float]:
        async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30,
                                     headers={"X-Conversation-Token": conv_token}) as c:
            loop = asyncio.get_running_loop()
            start = loop.time()
            waiting = asyncio.create_task(c.get(f"/api/v1/conversations/{conv_id}/events",
                                                params={"after_seq": agent_view["last_seq"], "wait": 15}))
            await asyncio.sleep(0.5)
            assert not waiting.done()
            await asyncio.to_thread(agent.post, f"/api/v1/agent/conversations/{conv_id}/messages",
                                    json={"text": "Done: check your inbox."})
            r = await waiting
            return r.json(), loop.time() - start

    polled, took = asyncio.run(poll_and_reply())
    assert [e["text"] for e in polled["events"]] == ["Done: check your inbox."] and took < 10

    resolved = agent.post(f"/api/v1/agent/cases/{case['id']}/resolve")
    assert resolved.status_code == 200 and resolved.json()["case"]["status"] == "resolved"
    final = customer.get(f"/api/v1/conversations/{conv_id}/events", params={"after_seq": polled["last_seq"]}).json()
    assert final["status"] == "resolved" and final["events"][-1]["status"] == "resolved"
    assert customer.post(f"/api/v1/conversations/{conv_id}/rating", json={"score": 5}).json()["recorded"] is True

    # the token was used: its last-used time is recorded; the list never shows the token itself
    listed = {t["id"]: t for t in admin.get("/api/admin/tokens").json()}
    assert listed[agent_token["id"]]["last_used_at"] is not None
    assert "token" not in listed[agent_token["id"]]


def test_api_tokens_are_scoped_revocable_and_checked(live_server: LiveServer, admin_token: str) -> None:
    admin = _admin(live_server, admin_token)
    agent_id = _user_id(admin, "agent@parley.local")
    reader = _token(admin, "reader", ["conversations:read"], agent_id)
    headers = {"Authorization": f"Bearer {reader['token']}"}
    base = live_server.base_url
    # a read-only token may not act as an agent, start conversations or use admin routes
    assert httpx.get(base + "/api/v1/agent/queue", headers=headers).status_code == 403
    assert httpx.post(base + "/api/v1/conversations", json={}, headers=headers).status_code == 403
    assert httpx.get(base + "/api/admin/tokens", headers=headers).status_code == 403
    assert httpx.get(base + "/api/cases", headers=headers).status_code == 403  # existing agent routes check scopes too
    assert httpx.get(base + "/api/auth/me", headers=headers).json()["email"] == "agent@parley.local"
    # an agent may not hold the admin scope; unknown scopes are refused
    assert admin.post("/api/admin/tokens", json={"name": "x", "scopes": ["admin"], "user_id": agent_id}).status_code == 422
    assert admin.post("/api/admin/tokens", json={"name": "x", "scopes": ["root"]}).status_code == 422
    # the agent scope opens the existing agent REST routes
    agent = _token(admin, "agent", ["agent"], agent_id)
    assert httpx.get(base + "/api/cases", headers={"Authorization": f"Bearer {agent['token']}"}).status_code == 200
    # revoked: refused at once; unknown and malformed tokens too
    assert admin.delete(f"/api/admin/tokens/{agent['id']}").json()["revoked_at"] is not None
    assert httpx.get(base + "/api/cases", headers={"Authorization": f"Bearer {agent['token']}"}).status_code == 401
    assert httpx.get(base + "/api/cases", headers={"Authorization": "Bearer pk_" + "x" * 43}).status_code == 401
    assert httpx.get(base + "/api/cases", headers={"Authorization": "Bearer pk_" + "x" * 500}).status_code == 401
    assert admin.delete("/api/admin/tokens/999999").status_code == 404


def test_the_rest_channel_refuses_bad_input_with_4xx(live_server: LiveServer, admin_token: str) -> None:
    admin = _admin(live_server, admin_token)
    crm = _token(admin, "crm", ["conversations:write", "conversations:read", "agent"])
    c = httpx.Client(base_url=live_server.base_url, headers={"Authorization": f"Bearer {crm['token']}"}, timeout=30)
    conv = c.post("/api/v1/conversations", json={}).json()["conversation_id"]
    msgs = f"/api/v1/conversations/{conv}/messages"
    cases = {
        "empty": (c.post(msgs, json={"text": "  "}), 422),
        "zero-width only": (c.post(msgs, json={"text": "\u200b"}), 422),
        "bidi override": (c.post(msgs, json={"text": "abc\u202edef"}), 422),
        "too long": (c.post(msgs, json={"text": "a" * 4001}), 422),
        "NUL in text is stripped, control chars refused": (c.post(msgs, json={"text": "a\x01b"}), 422),
        "bad client_msg_id": (c.post(msgs, json={"text": "hi", "client_msg_id": "x" * 65}), 422),
        "extra field": (c.post(msgs, json={"text": "hi", "sender": "agent"}), 422),
        "not JSON": (c.post(msgs, content=b"{", headers={"Content-Type": "application/json"}), 422),
        "unknown conversation": (c.post("/api/v1/conversations/c_nope/messages", json={"text": "hi"}), 404),
        "bad conversation id": (c.get("/api/v1/conversations/" + "x" * 41 + "/events"), 422),
        "seq out of range": (c.get(f"/api/v1/conversations/{conv}/events", params={"after_seq": 2**40}), 422),
        "negative seq": (c.get(f"/api/v1/conversations/{conv}/events", params={"after_seq": -1}), 422),
        "wait too long": (c.get(f"/api/v1/conversations/{conv}/events", params={"wait": 3600}), 422),
        "case id out of range": (c.post(f"/api/v1/agent/cases/{2**40}/claim"), 422),
        "unknown case": (c.post("/api/v1/agent/cases/999999/claim"), 404),
        "reply before claiming": (c.post(f"/api/v1/agent/conversations/{conv}/messages", json={"text": "hi"}), 409),
        "wrong conversation token": (httpx.get(f"{live_server.base_url}/api/v1/conversations/{conv}/events",
                                               headers={"X-Conversation-Token": "nope"}), 404),
        "no credentials": (httpx.get(f"{live_server.base_url}/api/v1/conversations/{conv}/events"), 401),
        "rating before resolution": (c.post(f"/api/v1/conversations/{conv}/rating", json={"score": 5}), 409),
        "rating out of range": (c.post(f"/api/v1/conversations/{conv}/rating", json={"score": 9}), 422),
    }
    wrong = {name: (r.status_code, r.text[:200]) for name, (r, expected) in cases.items() if r.status_code != expected}
    assert not wrong
    # nothing refused was stored
    assert c.get(f"/api/v1/conversations/{conv}/events").json()["events"] == []


def test_messages_over_the_rest_channel_are_rate_limited_like_the_socket(demo_template: Any, tmp_path: Any) -> None:
    from tests.harness import copy_data

    server = LiveServer(copy_data(demo_template, tmp_path / "data"), PARLEY_MESSAGES_PER_MINUTE="3").start()
    try:
        admin = _admin(server, server.login("admin@parley.local"))
        crm = _token(admin, "crm", ["conversations:write"])
        c = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {crm['token']}"}, timeout=30)
        conv = c.post("/api/v1/conversations", json={}).json()["conversation_id"]
        codes = [c.post(f"/api/v1/conversations/{conv}/messages", json={"text": f"hello {i}"}).status_code
                 for i in range(4)]
        assert codes == [201, 201, 201, 429]
    finally:
        server.stop()


@pytest.mark.parametrize("path", ["/api/v1/conversations", "/api/admin/webhooks", "/api/admin/tokens"])
def test_the_new_routes_are_in_the_openapi_spec(live_server: LiveServer, path: str) -> None:
    spec = httpx.get(live_server.base_url + "/openapi.json").json()
    assert path in spec["paths"]


async def test_an_agent_seen_offline_long_ago_keeps_a_case_claimed_over_rest(fresh_server: LiveServer) -> None:
    """An agent who used the console earlier (presence offline, last seen long ago) and now works over
    the REST channel: the claim is theirs and stays theirs while they act, not released at the next
    assignment check as 'agent_offline' (their REST requests count as being seen; found as a test that
    failed only after other suites had used the shared agent's socket)."""
    from tests.e2e.test_core_loop import agent as agent_socket

    fresh_server.env.update({"PARLEY_OFFLINE_RELEASE_SECONDS": "2", "PARLEY_ASSIGN_INTERVAL_SECONDS": "0.2"})
    server = fresh_server.start()
    admin = _admin(server, server.login("admin@parley.local"))
    agent_id = _user_id(admin, "agent@parley.local")
    console = await agent_socket(server, server.login("agent@parley.local"))
    await console.close()  # offline, seen now ...
    await asyncio.sleep(3)  # ... and no longer within the grace period
    rest = httpx.Client(base_url=server.base_url, timeout=30,
                        headers={"Authorization": f"Bearer {_token(admin, 'mobile', ['agent'], agent_id)['token']}"})
    integration = _token(admin, "crm", ["conversations:write", "conversations:read"])
    crm = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {integration['token']}"}, timeout=30)
    conv_id = crm.post("/api/v1/conversations", json={"lang": "en"}).json()["conversation_id"]
    assert crm.post(f"/api/v1/conversations/{conv_id}/request_human").status_code == 200
    case = next(c for c in rest.get("/api/v1/agent/queue").json()["cases"] if c["conversation_id"] == conv_id)
    assert rest.post(f"/api/v1/agent/cases/{case['id']}/claim").status_code == 200
    for i in range(3):  # several assignment checks pass while the agent keeps working
        await asyncio.sleep(1)
        reply = rest.post(f"/api/v1/agent/conversations/{conv_id}/messages",
                          json={"text": f"still here {i}", "client_msg_id": f"a-{i}"})
        assert reply.status_code == 201, reply.text
    assert rest.get("/api/v1/agent/cases", params={"status": "assigned"}).json()["cases"][0]["id"] == case["id"]
