"""Privacy over a real server: export one contact, erase it completely, retention purge (server and CLI)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import websockets

from app.storage import tables as t
from app.storage.sql import SqlStore
from tests.harness import Client, LiveServer, is_type, run_cli


async def open_chat(server: LiveServer, token: str | None = None) -> tuple[Client, dict]:
    client = await Client.connect(f"{server.ws_url}/ws/chat" + (f"?token={token}" if token else ""))
    session = await client.recv()
    assert session["type"] == "session"
    return client, session


async def say(client: Client, text: str) -> None:
    msg_id = uuid.uuid4().hex
    await client.send({"type": "message", "text": text, "client_msg_id": msg_id})
    await client.wait_for(is_type("message", client_msg_id=msg_id))
    # ...and the bot's turn, so nothing writes to the conversation after this returns.
    await client.wait_for(lambda f: f.get("type") == "handoff" or (f.get("type") == "message" and f.get("sender") == "bot"))


def rows(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


async def test_export_and_erase_one_contact_completely(live_server: LiveServer, admin_token: str,
                                                       agent_token: str) -> None:
    email = f"erase-{uuid.uuid4().hex[:8]}@example.com"
    user_id = f"user-{uuid.uuid4().hex[:8]}"
    secret = f"my secret phrase {uuid.uuid4().hex}"
    first, s1 = await open_chat(live_server)
    await say(first, f"{secret} please help")
    if not any(f.get("type") == "handoff" and f.get("status") == "queued" for f in first.frames):
        await first.send({"type": "request_human"})  # the bot answered: ask for a person
        await first.wait_for(is_type("handoff", status="queued"))
    await first.send({"type": "contact", "email": email.upper(), "name": "Erin Erase"})
    await first.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
    second, s2 = await open_chat(live_server)
    await second.send({"type": "identify", "user_id": user_id, "email": email})
    await second.wait_for(is_type("identify"))
    await say(second, "second conversation text")
    bystander, s3 = await open_chat(live_server)
    await say(bystander, "a bystander's message")
    auth = {"Authorization": f"Bearer {admin_token}"}
    base = live_server.base_url

    assert httpx.get(f"{base}/api/contacts/{email}/export", headers={"Authorization": f"Bearer {agent_token}"}).status_code == 403
    assert httpx.get(f"{base}/api/contacts/{email}/export").status_code == 401
    exported = httpx.get(f"{base}/api/contacts/{email}/export", headers=auth)
    assert exported.status_code == 200
    data = exported.json()
    assert {c["id"] for c in data["conversations"]} == {s1["conversation_id"], s2["conversation_id"]}
    texts = [e["text"] for c in data["conversations"] for e in c["events"]]
    assert f"{secret} please help" in texts and "second conversation text" in texts
    assert any((case["contact_email"] or "").lower() == email for c in data["conversations"] for case in c["cases"])
    assert "token_hash" not in json.dumps(data)
    by_user_id = httpx.get(f"{base}/api/contacts/{user_id}/export", headers=auth).json()
    assert [c["id"] for c in by_user_id["conversations"]] == [s2["conversation_id"]]

    erased = httpx.delete(f"{base}/api/contacts/{email}", headers=auth)
    assert erased.status_code == 200
    counts = erased.json()
    assert counts["conversations"] == 2 and counts["events"] >= 5 and counts["cases"] >= 1
    # the live sockets of the erased conversations are told, the bystander's is not
    for client in (first, second):
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await client.recv(timeout=10)
        assert closed.value.rcvd.code == 1008 and closed.value.rcvd.reason == "conversation erased"
    await bystander.send({"type": "ping"})
    await bystander.wait_for(is_type("pong"))

    assert httpx.get(f"{base}/api/contacts/{email}/export", headers=auth).status_code == 404
    assert httpx.get(f"{base}/api/contacts/{user_id}/export", headers=auth).status_code == 404
    assert httpx.delete(f"{base}/api/contacts/{email}", headers=auth).json()["conversations"] == 0
    for s in (s1, s2):
        assert httpx.get(f"{base}/api/chat/transcript", params={"token": s["token"]}).status_code == 404
        gone = await Client.connect(f"{live_server.ws_url}/ws/chat?token={s['token']}")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await gone.recv(timeout=5)
        assert closed.value.rcvd.code == 1008
    db = live_server.data_dir / "parley.db"
    ids = (s1["conversation_id"], s2["conversation_id"])
    for table, column in (("conversations", "id"), ("events", "conversation_id"), ("cases", "conversation_id")):
        assert rows(db, f"SELECT count(*) FROM {table} WHERE {column} IN (?, ?)", *ids) == [(0,)]
    assert rows(db, "SELECT count(*) FROM events WHERE text LIKE ?", f"%{secret}%") == [(0,)]
    assert rows(db, "SELECT count(*) FROM cases WHERE packet LIKE ?", f"%{secret}%") == [(0,)]
    # nothing derived from their text is left in the logs either
    time.sleep(0.3)
    log_text = live_server.log_path.read_text(errors="replace")
    assert secret not in log_text and email not in log_text.lower()
    assert httpx.get(f"{base}/api/chat/transcript", params={"token": s3["token"]}).status_code == 200
    await bystander.close()


async def backdate(db: Path, conversation_id: str, days: int) -> None:
    store = SqlStore.from_url(f"sqlite+aiosqlite:///{db}")
    try:
        async with store.engine.begin() as conn:
            await conn.execute(t.conversations.update().where(t.conversations.c.id == conversation_id).values(
                updated_at=datetime.now(timezone.utc) - timedelta(days=days)))
    finally:
        await store.close()


async def test_the_server_purges_conversations_past_the_retention_period(fresh_server: LiveServer) -> None:
    fresh_server.env.update(PARLEY_RETENTION_DAYS="30", PARLEY_PURGE_INTERVAL_SECONDS="0.5")
    fresh_server.start()
    old, s_old = await open_chat(fresh_server)
    await say(old, "an old question")
    recent, s_new = await open_chat(fresh_server)
    await say(recent, "a recent question")
    await backdate(fresh_server.data_dir / "parley.db", s_old["conversation_id"], 31)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await old.recv(timeout=10)
    assert closed.value.rcvd.reason == "conversation erased"
    base = fresh_server.base_url
    assert httpx.get(f"{base}/api/chat/transcript", params={"token": s_old["token"]}).status_code == 404
    assert httpx.get(f"{base}/api/chat/transcript", params={"token": s_new["token"]}).status_code == 200
    assert 'parley_purged_conversations_total{why="retention"} 1.0' in httpx.get(base + "/metrics").text
    await recent.close()


async def test_cli_export_erase_and_purge(fresh_server: LiveServer, tmp_path: Path) -> None:
    fresh_server.start()
    email = "cli-contact@example.com"
    client, s1 = await open_chat(fresh_server)
    await client.send({"type": "contact", "email": email})
    await client.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
    await say(client, "cli conversation text")
    await client.close()
    stale, s2 = await open_chat(fresh_server)
    await say(stale, "stale text")
    await stale.close()
    fresh_server.stop()
    db = fresh_server.data_dir / "parley.db"
    await backdate(db, s2["conversation_id"], 100)
    env = fresh_server.env

    out = tmp_path / "export.json"
    result = run_cli(["privacy", "export", email, "--out", str(out)], env)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert [c["id"] for c in data["conversations"]] == [s1["conversation_id"]]
    assert "cli conversation text" in [e["text"] for e in data["conversations"][0]["events"]]

    assert "retention is off" in run_cli(["privacy", "purge"], env).stdout
    result = run_cli(["privacy", "purge", "--days", "90"], env)
    assert result.returncode == 0 and "purged 1 conversations" in result.stdout, result.stderr
    assert rows(db, "SELECT count(*) FROM conversations WHERE id = ?", s2["conversation_id"]) == [(0,)]

    result = run_cli(["privacy", "erase", email, "--yes"], env)
    assert result.returncode == 0 and "erased 1 conversations" in result.stdout, result.stderr
    assert rows(db, "SELECT count(*) FROM events WHERE conversation_id = ?", s1["conversation_id"]) == [(0,)]
    assert run_cli(["privacy", "export", email], env).returncode == 1
