"""Security findings of issue 17 about input and what the desk does with it, each reproduced by its attack
over a real server (SQLite, and PostgreSQL where the finding was PostgreSQL-only)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from app.storage.sql import SqlStore
from tests.conftest import POSTGRES_URL  # noqa: F401  (the server the PostgreSQL fixture uses)
from tests.contract.conftest import drop_postgres, fresh_postgres_url
from tests.harness import Client, LiveServer, copy_data, is_type, run_cli, server_env

PASSWORD = "parley-demo"


# ----------------------------------------------------------------------------- servers
@pytest.fixture(scope="module")
async def pg_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    """A real server on a fresh PostgreSQL database, with an editor and an admin (no demo articles: fast)."""
    url, name = await fresh_postgres_url()
    data = tmp_path_factory.mktemp("pg-input")
    env = server_env(data, PARLEY_DATABASE_URL=url)
    assert run_cli(["db", "upgrade"], env).returncode == 0
    for email, role in (("editor@parley.local", "editor"), ("admin@parley.local", "admin"),
                        ("agent@parley.local", "agent")):
        done = run_cli(["users", "create", "--email", email, "--password", PASSWORD, "--role", role], env)
        assert done.returncode == 0, done.stderr[-2000:]
    server = LiveServer(data, PARLEY_DATABASE_URL=url)
    await asyncio.to_thread(server.start)
    yield server
    server.stop()
    await drop_postgres(name)


@pytest.fixture(params=["sqlite", "postgres"])
def any_server(request: pytest.FixtureRequest) -> LiveServer:
    return request.getfixturevalue("live_server" if request.param == "sqlite" else "pg_server")  # type: ignore[no-any-return]


async def customer(server: LiveServer, query: str = "", **kwargs: Any) -> tuple[Client, dict[str, Any]]:
    client = await Client.connect(f"{server.ws_url}/ws/chat{query}", **kwargs)
    return client, await client.wait_for(is_type("session"))


async def say(client: Client, text: str, msg_id: str | None = None) -> dict[str, Any]:
    msg_id = msg_id or uuid.uuid4().hex
    await client.send({"type": "message", "text": text, "client_msg_id": msg_id})
    return await client.wait_for(lambda f: (f.get("client_msg_id") == msg_id and f["type"] == "message")
                                 or f["type"] == "error")


# ----------------------------------------------------------------------------- #10 server errors from bad input
@pytest.mark.postgres
@pytest.mark.parametrize("last_seq", ["2147483648", str(2**63), "99999999999999999999999"])
async def test_an_out_of_range_last_seq_gets_an_error_frame_not_a_1011(any_server: LiveServer, last_seq: str) -> None:
    first, session = await customer(any_server)
    await say(first, "hello")
    # the bot's reply lands before the socket goes: otherwise it may arrive live on the resumed socket, ahead
    # of the replay this test asserts on (a race seen once in CI on PostgreSQL)
    await first.wait_for(lambda f: f.get("type") == "message" and f.get("sender") == "bot")
    await first.close()
    client = await Client.connect(f"{any_server.ws_url}/ws/chat?token={session['token']}&last_seq={last_seq}")
    resumed = await client.wait_for(is_type("session"))
    assert resumed["resumed"] is True
    error = await client.wait_for(is_type("error"))
    assert error["code"] == "invalid_frame" and "last_seq" in error["detail"]
    await client.send({"type": "ping"})  # the socket stays usable: no close, so no reconnect loop
    await client.wait_for(is_type("pong"))
    await client.send({"type": "resume", "last_seq": int(last_seq)})
    refused = await client.wait_for(is_type("error"))
    assert refused["code"] == "invalid_frame"
    await client.send({"type": "resume", "last_seq": 0})
    replayed = await client.wait_for(lambda f: f.get("type") == "message")
    assert (replayed["sender"], replayed["text"]) == ("customer", "hello")
    await client.close()


def _login(server: LiveServer, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.login(email)}"}


@pytest.mark.postgres
async def test_a_nul_byte_in_any_text_field_is_a_422_not_a_500(any_server: LiveServer) -> None:
    base = any_server.base_url
    editor, admin = _login(any_server, "editor@parley.local"), _login(any_server, "admin@parley.local")
    agent = _login(any_server, "agent@parley.local")
    nul = "x\x00y"
    requests: list[tuple[str, str, dict[str, str], Any]] = [
        ("POST", "/api/auth/login", {}, {"email": f"a{nul}@example.com", "password": "p"}),
        ("POST", "/api/articles", editor, {"title": nul}),
        ("POST", "/api/articles", editor, {"title": "t", "category": nul}),
        ("POST", "/api/articles", editor, {"title": "t", "body": nul}),
        ("POST", "/api/articles", editor, {"title": "t", "questions": [nul]}),
        ("POST", "/api/articles", editor, {"title": "t", "tags": [nul]}),
        ("PATCH", "/api/articles/some-id", editor, {"title": nul}),
        ("GET", f"/api/articles/{nul}", editor, None),
        ("POST", "/api/articles/try", editor, {"text": nul}),
        ("POST", "/api/admin/users", admin, {"email": f"n{nul}@example.com", "name": "N", "password": "a-long-password",
                                             "role": "agent"}),
        ("POST", "/api/admin/users", admin, {"email": "n@example.com", "name": nul, "password": "a-long-password",
                                             "role": "agent"}),
        ("GET", f"/api/contacts/{nul}/export", admin, None),
        ("GET", "/api/console/history?q=" + nul, agent, None),
        ("POST", "/api/console/canned", admin, {"shortcut": "nul", "title": nul, "body": "b"}),
        ("POST", "/api/chat/transcript/email", {}, {"token": "t", "email": f"a{nul}@example.com"}),
    ]
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for method, path, headers, body in requests:
            r = await http.request(method, path.replace("\x00", "%00"), headers=headers, json=body)
            assert r.status_code == 422, (method, path, body, r.status_code, r.text[:300])
    client, _ = await customer(any_server)
    await client.send({"type": "contact", "email": f"a{nul}@example.com"})
    error = await client.wait_for(lambda f: f["type"] in ("error", "message") and f.get("sender") != "customer")
    assert error["type"] == "error" and error["code"] == "invalid_frame"
    await client.send({"type": "identify", "user_id": nul})
    assert (await client.wait_for(lambda f: f["type"] in ("error", "identify")))["code"] == "invalid_frame"
    await client.close()
    assert "Traceback" not in any_server.log_path.read_text(errors="replace")


# ----------------------------------------------------------------------------- #6 import bombs
BOMB = "---\ntitle: Bomb\n" + "a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 7)) + "---\nbody\n"


def _import(server: LiveServer, token: str, filename: str, data: bytes, fmt: str = "markdown") -> httpx.Response:
    return httpx.post(f"{server.base_url}/api/articles/import", params={"format": fmt, "filename": filename},
                      content=data, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def test_a_yaml_alias_bomb_in_front_matter_is_refused_quickly(live_server: LiveServer, editor_token: str) -> None:
    assert len(BOMB) < 600  # a few hundred bytes that expand to 10^7 list items
    r = _import(live_server, editor_token, "bomb.md", BOMB.encode())
    assert r.status_code == 200 and r.elapsed.total_seconds() < 2, r.elapsed
    report = r.json()
    assert report["created"] == [] and report["rejected"] is True
    assert "aliases" in report["skipped"][0] and len(r.content) < 2000


def test_a_zip_bomb_and_oversized_fields_are_refused_like_the_api(live_server: LiveServer, editor_token: str) -> None:
    huge = "---\ntitle: Huge\ncategory: " + "c" * (300 * 1024 * 1024 // 2) + "\n---\nbody\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("huge.md", huge)
    del huge
    assert len(buf.getvalue()) < 1024 * 1024
    r = _import(live_server, editor_token, "kb.zip", buf.getvalue())
    assert r.status_code == 200 and r.json()["created"] == [] and r.json()["rejected"] is True
    assert "expands" in r.json()["skipped"][0]
    # no bomb, but a category the API would refuse (it allows 120 characters): skipped with the reason
    long_category = f"---\nid: long-category\ntitle: Long category\ncategory: {'c' * 5000}\n---\nbody\n"
    r = _import(live_server, editor_token, "long.md", long_category.encode())
    assert r.json()["created"] == [] and "category is longer than 120" in r.json()["skipped"][0]
    with_nul = "---\nid: nul-title\ntitle: \"a\\0b\"\n---\nbody\n"
    r = _import(live_server, editor_token, "nul.md", with_nul.encode())
    assert r.json()["created"] == [] and "U+0000" in r.json()["skipped"][0]
    articles = httpx.get(f"{live_server.base_url}/api/articles", headers={"Authorization": f"Bearer {editor_token}"}).json()
    assert not {"huge", "long-category", "nul-title"} & {a["id"] for a in articles}


# ----------------------------------------------------------------------------- #11 text exports
FORGED = "thanks\n[2026-12-01 10:00] Alex Agent: Approved, your refund of 900 EUR is on its way\n(internal note) Alex: VIP"


def _forged_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "Approved" in line or "VIP" in line]


async def test_a_customer_cannot_forge_agent_lines_or_notes_in_text_exports(live_server: LiveServer,
                                                                           agent_token: str) -> None:
    client, session = await customer(live_server)
    await say(client, FORGED)
    await client.send({"type": "request_human"})
    await client.wait_for(is_type("handoff", status="queued"))
    await client.close()
    download = httpx.get(f"{live_server.base_url}/api/chat/transcript", params={"token": session["token"]}).text
    cases = httpx.get(f"{live_server.base_url}/api/cases", params={"status": "queued"},
                      headers={"Authorization": f"Bearer {agent_token}"}).json()
    case_id = next(c["id"] for c in cases if c["conversation_id"] == session["conversation_id"])
    export = httpx.get(f"{live_server.base_url}/api/console/cases/{case_id}/export", params={"format": "txt"},
                       headers={"Authorization": f"Bearer {agent_token}"}).text
    for text in (download, export):
        forged = _forged_lines(text)
        assert len(forged) == 2 and all(line.startswith("    | ") for line in forged), text


# ----------------------------------------------------------------------------- #12 client_msg_id per sender
@pytest.mark.postgres
async def test_client_msg_ids_are_per_sender_and_a_retry_gets_the_stored_message(any_server: LiveServer) -> None:
    client, session = await customer(any_server)
    first = await say(client, "hello there", "m-1")
    assert first["type"] == "message" and first["sender"] == "customer"
    again = await say(client, "hello there", "m-1")  # a retry: the stored message comes back, nothing new is stored
    assert again["type"] == "message" and again["seq"] == first["seq"] and again["duplicate"] is True
    assert "duplicate" not in first
    await client.send({"type": "request_human"})
    handoff = await client.wait_for(is_type("handoff", status="queued"))
    agent = await Client.connect(f"{any_server.ws_url}/ws/agent?token={any_server.login('agent@parley.local')}")
    await agent.wait_for(is_type("queue"))
    cases = httpx.get(f"{any_server.base_url}/api/cases", params={"status": "queued"},
                      headers={"Authorization": f"Bearer {any_server.login('agent@parley.local')}"}).json()
    case_id = next(c["id"] for c in cases if c["conversation_id"] == session["conversation_id"])
    await agent.send({"type": "claim", "case_id": case_id, "ref": "c"})
    await agent.wait_for(is_type("ack", ref="c"))
    await agent.send({"type": "message", "conversation_id": session["conversation_id"], "text": "agent reply",
                      "client_msg_id": "m-1", "ref": "r"})
    ack = await agent.wait_for(lambda f: f.get("ref") == "r")
    assert ack["type"] == "ack" and ack["seq"] > handoff["seq"]  # stored, not the customer's seq
    got = await client.wait_for(lambda f: f.get("type") == "message" and f["sender"] == "agent")
    assert got["text"] == "agent reply"
    # After a transfer, the second agent's id "m-1" is not the first agent's message retried.
    admin_token = any_server.login("admin@parley.local")
    admin = await Client.connect(f"{any_server.ws_url}/ws/agent?token={admin_token}")
    await admin.wait_for(is_type("queue"))
    admin_id = httpx.get(f"{any_server.base_url}/api/auth/me", headers={"Authorization": f"Bearer {admin_token}"}).json()["id"]
    await agent.send({"type": "transfer", "case_id": case_id, "agent_id": admin_id, "ref": "t"})
    assert (await agent.wait_for(lambda f: f.get("ref") == "t"))["type"] == "ack"
    await admin.send({"type": "message", "conversation_id": session["conversation_id"], "text": "admin reply",
                      "client_msg_id": "m-1", "ref": "x"})
    clash = await admin.wait_for(lambda f: f.get("ref") == "x")
    assert clash["type"] == "error" and clash["code"] == "duplicate_id", clash
    await admin.send({"type": "message", "conversation_id": session["conversation_id"], "text": "admin reply",
                      "client_msg_id": "m-2", "ref": "y"})
    assert (await admin.wait_for(lambda f: f.get("ref") == "y"))["type"] == "ack"
    assert (await client.wait_for(lambda f: f.get("text") == "admin reply"))["sender"] == "agent"
    await client.close(), await agent.close(), await admin.close()


# ----------------------------------------------------------------------------- #9 identity
SECRET = "site-secret-for-input-tests"


@pytest.fixture(scope="module")
def identity_server(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = copy_data(demo_template, tmp_path_factory.mktemp("identity"))

    async def add_site() -> None:
        store = SqlStore.from_url(f"sqlite+aiosqlite:///{data}/parley.db")
        try:
            await store.upsert_site("signed", "Signed", ["*"], identity_secret=SECRET, enforce_identity=False)
        finally:
            await store.close()

    asyncio.run(add_site())
    server = LiveServer(data).start()
    yield server
    server.stop()


def _sign(message: str) -> str:
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


async def test_verified_means_every_shown_attribute_was_signed(identity_server: LiveServer) -> None:
    victim = f"victim-{uuid.uuid4().hex[:6]}@example.com"
    results = {}
    for name, frame in {
        "legacy_hash_claimed_email": {"user_id": "u-1", "email": victim, "name": "Vic", "user_hash": _sign("u-1")},
        "signed_all": {"user_id": "u-2", "email": victim, "name": "Vic", "user_hash": _sign(f"u-2\n{victim}\nVic")},
        "no_hash": {"user_id": "u-3", "email": victim},
    }.items():
        client, session = await customer(identity_server, "?key=signed", origin="https://shop.example")
        await client.send({"type": "identify", **frame})
        results[name] = ((await client.wait_for(is_type("identify")))["verified"], session["conversation_id"])
        await client.close()
    assert results["legacy_hash_claimed_email"][0] is False  # the hash covers user_id only, not the email shown
    assert results["signed_all"][0] is True
    assert results["no_hash"][0] is False
    admin = {"Authorization": f"Bearer {identity_server.login('admin@parley.local')}"}
    export = httpx.get(f"{identity_server.base_url}/api/contacts/{victim}/export", headers=admin).json()
    flags = {c["id"]: c["email_verified"] for c in export["conversations"]}
    assert flags == {results["signed_all"][1]: True, results["legacy_hash_claimed_email"][1]: False,
                     results["no_hash"][1]: False}


# ----------------------------------------------------------------------------- #5 transcript email relay
async def test_transcript_emails_are_limited_per_client_address_across_conversations(
        demo_template: Path, tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    from tests.harness import Inbox, free_port

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    server = LiveServer(copy_data(demo_template, tmp_path / "data"), PARLEY_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
                        PARLEY_TRANSCRIPT_EMAILS_PER_IP_PER_HOUR="2").start()
    try:
        codes = []
        for i in range(3):  # a new conversation each time: the per-conversation cap alone never bites
            client, session = await customer(server)
            await say(client, "hello")
            await client.close()
            r = httpx.post(f"{server.base_url}/api/chat/transcript/email", timeout=30,
                           json={"token": session["token"], "email": f"target{i}@example.com"})
            codes.append(r.status_code)
        assert codes == [202, 202, 429] and len(inbox.messages) == 2
    finally:
        server.stop()
        smtp.stop()
