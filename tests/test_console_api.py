"""The console's REST routes and the agent socket over a real server: who may do what, history, export,
canned replies, user management, and bad input that must be refused without corrupting state."""

from __future__ import annotations

import uuid

import httpx
import pytest
import websockets

from tests.e2e.test_core_loop import agent, ask, customer, live_cases
from tests.harness import LiveServer, is_type

ROLES = ("anonymous", "agent", "editor", "admin")
# (method, path, body, roles allowed). Anonymous pages redirect to /login instead of a 401.
MATRIX = [
    ("GET", "/console", None, {"agent", "admin"}),
    ("GET", "/api/console/agents", None, {"agent", "admin"}),
    ("GET", "/api/console/canned", None, {"agent", "admin"}),
    ("POST", "/api/console/canned", "canned", {"admin"}),
    ("DELETE", "/api/console/canned/999999", None, {"admin"}),
    ("GET", "/api/console/articles?q=password", None, {"agent", "admin"}),
    ("GET", "/api/console/history", None, {"agent", "admin"}),
    ("GET", "/api/console/cases/999999/export", None, {"agent", "admin"}),
    ("GET", "/api/cases", None, {"agent", "admin"}),
    ("GET", "/api/admin/users", None, {"admin"}),
    ("POST", "/api/admin/users", "user", {"admin"}),
    ("PATCH", "/api/admin/users/999999", "patch", {"admin"}),
]


@pytest.fixture(scope="module")
def tokens(live_server: LiveServer, agent_token: str, editor_token: str, admin_token: str) -> dict[str, str | None]:
    return {"anonymous": None, "agent": agent_token, "editor": editor_token, "admin": admin_token}


def call(server: LiveServer, method: str, path: str, token: str | None, body: object = None) -> httpx.Response:
    cookies = {"parley_session": token} if token else {}
    return httpx.request(method, server.base_url + path, json=body, cookies=cookies, follow_redirects=False, timeout=15,
                         headers={"X-Requested-With": "test"})


def body_for(kind: str | None) -> object:
    tag = uuid.uuid4().hex[:8]
    return {"canned": {"shortcut": f"t{tag}", "title": "Test", "body": "Hello there"},
            "user": {"email": f"new{tag}@parley.local", "name": "New Person", "password": "long-enough-1",
                     "role": "agent"},
            "patch": {"capacity": 4}}.get(kind or "")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,path,kind,allowed", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_role_matrix(live_server: LiveServer, tokens: dict[str, str | None], role: str, method: str, path: str,
                     kind: str | None, allowed: set[str]) -> None:
    r = call(live_server, method, path, tokens[role], body_for(kind))
    if role in allowed:
        assert r.status_code in (200, 201, 204, 404), (r.status_code, r.text)
    elif role == "anonymous":
        expected = 303 if path == "/console" else 401
        assert r.status_code == expected
        if expected == 303:
            assert r.headers["location"] == "/login"
    else:
        assert r.status_code == 403, r.text


@pytest.mark.parametrize("role,allowed", [("anonymous", False), ("agent", True), ("editor", False), ("admin", True)])
async def test_agent_socket_role_matrix(live_server: LiveServer, tokens: dict[str, str | None], role: str,
                                        allowed: bool) -> None:
    headers = {"Cookie": f"parley_session={tokens[role]}"} if tokens[role] else {}
    async with websockets.connect(f"{live_server.ws_url}/ws/agent", additional_headers=headers) as ws:
        if allowed:
            assert '"hello"' in await ws.recv()
        else:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_login_page_and_assets_are_served(live_server: LiveServer, agent_token: str) -> None:
    page = httpx.get(live_server.base_url + "/login")
    assert page.status_code == 200 and 'id="login-form"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert httpx.get(live_server.base_url + "/console/assets/console.js").status_code == 200
    assert httpx.get(live_server.base_url + "/console/assets/../routes/console.py").status_code == 404
    signed_in = call(live_server, "GET", "/login", agent_token)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console"


def test_admin_creates_changes_and_deactivates_a_user(live_server: LiveServer, admin_token: str) -> None:
    email = f"temp{uuid.uuid4().hex[:8]}@parley.local"
    created = call(live_server, "POST", "/api/admin/users", admin_token,
                   {"email": email, "name": "Temp Agent", "password": "temporary-pass", "role": "agent", "capacity": 2})
    assert created.status_code == 201 and created.json()["capacity"] == 2
    user_id = created.json()["id"]
    again = call(live_server, "POST", "/api/admin/users", admin_token,
                 {"email": email, "name": "Dup", "password": "temporary-pass", "role": "agent"})
    assert again.status_code == 409
    short = call(live_server, "POST", "/api/admin/users", admin_token,
                 {"email": "x" + email, "name": "Short", "password": "short", "role": "agent"})
    assert short.status_code == 422
    token = live_server.login(email, "temporary-pass")
    assert call(live_server, "GET", "/api/console/history", token).status_code == 200
    assert call(live_server, "PATCH", f"/api/admin/users/{user_id}", admin_token, {"role": "editor"}).json()["role"] == "editor"
    assert call(live_server, "GET", "/api/console/history", token).status_code == 401  # a new role ends the sessions
    token = live_server.login(email, "temporary-pass")
    assert call(live_server, "GET", "/api/console/history", token).status_code == 403  # the role is checked per request
    off = call(live_server, "PATCH", f"/api/admin/users/{user_id}", admin_token, {"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert call(live_server, "GET", "/api/auth/me", token).status_code == 401  # sessions end on deactivation
    login = httpx.post(live_server.base_url + "/api/auth/login", json={"email": email, "password": "temporary-pass"})
    assert login.status_code == 401
    me = call(live_server, "GET", "/api/auth/me", admin_token).json()
    selfie = call(live_server, "PATCH", f"/api/admin/users/{me['id']}", admin_token, {"active": False})
    assert selfie.status_code == 400 and "yourself" in selfie.json()["detail"]
    assert call(live_server, "PATCH", "/api/admin/users/999999", admin_token, {"capacity": 2}).status_code == 404


def test_canned_replies_can_be_added_listed_and_removed(live_server: LiveServer, admin_token: str,
                                                         agent_token: str) -> None:
    starters = call(live_server, "GET", "/api/console/canned", agent_token).json()
    assert {"hello", "order"} <= {c["shortcut"] for c in starters}  # shipped by the migration
    shortcut = "refund" + uuid.uuid4().hex[:4]
    made = call(live_server, "POST", "/api/console/canned", admin_token,
                {"shortcut": shortcut, "title": "Refund", "body": "Your refund is on its way."})
    assert made.status_code == 201
    dup = call(live_server, "POST", "/api/console/canned", admin_token,
               {"shortcut": shortcut, "title": "Again", "body": "x"})
    assert dup.status_code == 409
    assert shortcut in {c["shortcut"] for c in call(live_server, "GET", "/api/console/canned", agent_token).json()}
    assert call(live_server, "DELETE", f"/api/console/canned/{made.json()['id']}", admin_token).status_code == 204
    assert call(live_server, "DELETE", f"/api/console/canned/{made.json()['id']}", admin_token).status_code == 404


def test_article_search_for_agents_uses_the_live_knowledge_base(live_server: LiveServer, agent_token: str) -> None:
    hits = call(live_server, "GET", "/api/console/articles?q=I forgot my password", agent_token).json()
    assert hits and hits[0]["id"] == "reset-password" and hits[0]["url"] == "/kb/reset-password"
    everything = call(live_server, "GET", "/api/console/articles", agent_token).json()
    assert len(everything) >= 10


async def test_history_search_filters_and_export_include_notes_but_the_customer_copy_does_not(
        live_server: LiveServer, agent_token: str) -> None:
    client, session = await customer(live_server)
    marker = uuid.uuid4().hex[:10]
    await ask(client, f"I want a person about order {marker}")
    desk = await agent(live_server, agent_token)
    case_id = (await live_cases(live_server, agent_token, session["conversation_id"]))["id"]
    await desk.send({"type": "claim", "case_id": case_id, "ref": "c"})
    await desk.wait_for(is_type("ack", ref="c"))
    note = f"internal only {marker}"
    await desk.send({"type": "note", "conversation_id": session["conversation_id"], "text": note, "ref": "n"})
    await desk.wait_for(is_type("ack", ref="n"))
    await desk.send({"type": "message", "conversation_id": session["conversation_id"], "text": "On it", "ref": "m"})
    await desk.wait_for(is_type("ack", ref="m"))
    await desk.send({"type": "resolve", "case_id": case_id, "ref": "r"})
    await desk.wait_for(is_type("ack", ref="r"))
    await client.send({"type": "rating", "score": 3, "comment": "ok"})
    await client.wait_for(is_type("rating"))

    def search(**params: object) -> list[dict]:
        r = httpx.get(live_server.base_url + "/api/console/history", params=params,
                      cookies={"parley_session": agent_token})
        assert r.status_code == 200, r.text
        return r.json()

    assert [r["id"] for r in search(q=marker)] == [case_id]
    assert [r["id"] for r in search(q=note)] == [case_id]  # notes are searchable
    assert case_id in [r["id"] for r in search(q=marker, status="resolved", reason="customer_request")]
    assert search(q=marker, status="queued") == []
    assert search(q=marker, reason="frustration") == []
    me = httpx.get(live_server.base_url + "/api/auth/me", cookies={"parley_session": agent_token}).json()
    assert [r["id"] for r in search(q=marker, agent_id=me["id"])] == [case_id]
    assert [r["id"] for r in search(q=marker, date_from="2000-01-01", date_to="2999-01-01")] == [case_id]
    assert search(q=marker, date_to="2000-01-01") == []
    assert httpx.get(live_server.base_url + "/api/console/history", params={"reason": "nonsense"},
                     cookies={"parley_session": agent_token}).status_code == 422
    row = search(q=marker)[0]
    assert row["rating"] == 3 and row["agent_name"] == "Alex Agent"

    export = httpx.get(f"{live_server.base_url}/api/console/cases/{case_id}/export", params={"format": "json"},
                       cookies={"parley_session": agent_token})
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    body = export.json()
    assert body["case"]["rating"] == 3
    assert any(e["kind"] == "note" and e["text"] == note and e["visibility"] == "internal" for e in body["events"])
    seqs = [e["seq"] for e in body["events"]]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    text = httpx.get(f"{live_server.base_url}/api/console/cases/{case_id}/export", params={"format": "txt"},
                     cookies={"parley_session": agent_token}).text
    assert f"(internal note) Alex Agent: {note}" in text and "Rating: 3/5" in text and "Alex Agent: On it" in text
    public = httpx.get(live_server.base_url + "/api/chat/transcript", params={"token": session["token"], "format": "json"})
    assert note not in public.text and "On it" in public.text
    await client.close()
    await desk.close()


async def test_bad_agent_input_gets_a_clear_error_and_changes_nothing(live_server: LiveServer, agent_token: str,
                                                                     admin_token: str) -> None:
    client, session = await customer(live_server)
    await ask(client, "human please")
    owner, other = await agent(live_server, agent_token), await agent(live_server, admin_token)
    conv = session["conversation_id"]
    case_id = (await live_cases(live_server, agent_token, conv))["id"]
    # Replying before claiming, an oversized message, a blank one.
    await owner.send({"type": "message", "conversation_id": conv, "text": "too early", "ref": "e"})
    assert (await owner.wait_for(is_type("error", ref="e")))["code"] == "invalid_state"
    await owner.send({"type": "claim", "case_id": case_id, "ref": "c"})
    await owner.wait_for(is_type("ack", ref="c"))
    await owner.send({"type": "message", "conversation_id": conv, "text": "x" * 4001, "ref": "big"})
    assert (await owner.wait_for(is_type("error", ref="big")))["code"] == "text_too_long"
    await owner.send({"type": "message", "conversation_id": conv, "text": "   ", "ref": "blank"})
    assert (await owner.wait_for(is_type("error", ref="blank")))["code"] == "empty_text"
    # A stale claim by the other agent, and their actions on a case they do not own.
    await other.send({"type": "claim", "case_id": case_id, "ref": "stale"})
    assert (await other.wait_for(is_type("error", ref="stale")))["code"] == "already_claimed"
    await other.send({"type": "hand_back", "case_id": case_id, "ref": "hb"})
    # admins may act on any case; an agent may not act on the admin's: check the other direction below
    hb = await other.wait_for(lambda f: f.get("ref") == "hb")
    assert hb["type"] == "ack"  # the admin took the case back to the bot on purpose
    await owner.send({"type": "resolve", "case_id": case_id, "ref": "late"})
    assert (await owner.wait_for(is_type("error", ref="late")))["code"] == "invalid_state"
    await owner.send({"type": "message", "conversation_id": conv, "text": "still mine?", "ref": "m2"})
    assert (await owner.wait_for(is_type("error", ref="m2")))["code"] == "invalid_state"
    r = httpx.get(f"{live_server.base_url}/api/cases/{case_id}", headers={"Authorization": f"Bearer {agent_token}"})
    stored = r.json()
    assert stored["status"] == "bot"
    texts = [e["text"] for e in stored["transcript"]]
    assert "too early" not in texts and "still mine?" not in texts and "x" * 4001 not in texts
    seqs = [e["seq"] for e in stored["transcript"]]
    assert seqs == list(range(1, len(seqs) + 1))  # no gaps, nothing half-written
    for c in (client, owner, other):
        await c.close()
