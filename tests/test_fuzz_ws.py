"""Websocket fuzzing over a real server: random and hostile frames get errors or close codes, never a crash.

Afterwards the server still answers, a normal conversation still works, and every stored
conversation's events are numbered 1..n without gaps, ending at the conversation's last_seq.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import uuid
from typing import Any

import httpx
import websockets

from tests.harness import Client, LiveServer, is_type

CUSTOMER_TYPES = ["message", "request_human", "feedback", "resume", "typing", "ping", "rating", "contact", "identify"]
AGENT_TYPES = ["claim", "open", "message", "note", "resolve", "hand_back", "transfer", "presence", "typing", "ping"]
FIELDS = ["text", "client_msg_id", "seq", "last_seq", "helpful", "active", "score", "comment", "email", "name",
          "user_id", "user_hash", "article_id", "conversation_id", "case_id", "agent_id", "status", "ref"]


def junk(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(12 if depth < 3 else 8)
    if choice == 8:
        return [junk(rng, depth + 1) for _ in range(3)]
    if choice == 9:
        return {rng.choice(FIELDS): junk(rng, depth + 1)}
    return [None, True, -1, 2**63, 1e308, "", "x" * rng.randrange(1, 5000), "\u0000\ud7ff\uffff\u202e",
            None, None, rng.random(), "c_" + uuid.uuid4().hex][choice]


def hostile_frame(rng: random.Random, types: list[str]) -> str | bytes:
    kind = rng.randrange(14)
    if kind == 0:
        return "{not json" + "}" * rng.randrange(3)
    if kind == 1:
        return "[" * 50_000 + "]" * 50_000  # deep nesting, under the size limit
    if kind == 2:
        return json.dumps({"type": "x" * rng.randrange(1, 300)})
    if kind == 3:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000)))
    if kind == 4:
        return json.dumps(junk(rng))
    if kind == 5:
        return '{"type":"message","text":"\\ud800 lone surrogate","client_msg_id":"s1"}'
    if kind == 6:
        return json.dumps({"type": "message", "text": "y" * rng.choice([0, 1, 3999, 4001, 60_000])})
    if kind == 7:
        return '{"type":"message","text":' + "[" * 3000 + "]" * 3000 + "}"
    frame: dict[str, Any] = {"type": rng.choice(types)}
    for field in rng.sample(FIELDS, rng.randrange(0, 6)):
        frame[field] = junk(rng)
    return json.dumps(frame)


async def drain(ws: Any) -> list[Any]:
    got = []
    try:
        while True:
            got.append(await asyncio.wait_for(ws.recv(), 0.05))
    except (asyncio.TimeoutError, websockets.ConnectionClosed):
        pass
    return got


async def fuzz_socket(url: str, rng: random.Random, types: list[str], frames: int) -> dict[str, int]:
    """Send `frames` hostile frames, reconnecting (with the token when there is one) whenever closed."""
    stats = {"sent": 0, "errors": 0, "closes": 0}
    token = None
    ws = None
    while stats["sent"] < frames:
        if ws is None:
            ws = await websockets.connect(url + (f"?token={token}" if token and "chat" in url else ""),
                                          max_size=None, open_timeout=10)
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if first.get("type") == "session":
                token = first["token"]
        try:
            frame = hostile_frame(rng, types)
            if rng.random() < 0.03:
                frame = "z" * 70_000  # over the 64 KiB limit: 1009
            await ws.send(frame)
            stats["sent"] += 1
            for raw in await drain(ws):
                if isinstance(raw, str) and json.loads(raw).get("type") == "error":
                    stats["errors"] += 1
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is None or closed.rcvd.code in (1000, 1008, 1009), closed.rcvd
            stats["closes"] += 1
            ws = None
            continue
        if ws.close_code is not None:
            assert ws.close_code in (1000, 1008, 1009), (ws.close_code, ws.close_reason)
            stats["closes"] += 1
            ws = None
    if ws is not None:
        await ws.close()
    return stats


async def flood(url: str, count: int) -> int:
    """Many frames as fast as possible; returns how many were answered (errors and pongs)."""
    async with websockets.connect(url, max_size=None) as ws:
        await ws.recv()
        for i in range(count):
            await ws.send(json.dumps({"type": "ping"} if i % 2 else {"type": "message", "text": f"flood {i}"}))
        answered = 0
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 2)
                answered += 1
        except asyncio.TimeoutError:
            pass
        return answered


def assert_events_gapless(db: str) -> int:
    with sqlite3.connect(db) as conn:
        conversations = conn.execute("SELECT id, last_seq FROM conversations").fetchall()
        for conversation_id, last_seq in conversations:
            seqs = [r[0] for r in conn.execute(
                "SELECT seq FROM events WHERE conversation_id = ? ORDER BY seq", (conversation_id,))]
            assert seqs == list(range(1, last_seq + 1)), (conversation_id, seqs[:20], last_seq)
            for (data,) in conn.execute("SELECT data FROM events WHERE conversation_id = ?", (conversation_id,)):
                json.loads(data)  # every stored payload is intact JSON
    return len(conversations)


async def test_hostile_frames_get_errors_or_close_codes_and_the_server_stays_up(fresh_server: LiveServer) -> None:
    # a budget big enough that every hostile frame reaches the handlers (budgets are tested in test_security)
    fresh_server.env.update(PARLEY_FRAMES_PER_SECOND="10000", PARLEY_FRAME_BURST="10000")
    fresh_server.start()
    token = fresh_server.login("agent@parley.local")
    rng = random.Random(7)
    customers = [fuzz_socket(f"{fresh_server.ws_url}/ws/chat", random.Random(rng.random()), CUSTOMER_TYPES, 120)
                 for _ in range(4)]
    agents = [fuzz_socket(f"{fresh_server.ws_url}/ws/agent?token={token}", random.Random(rng.random()), AGENT_TYPES, 120)
              for _ in range(2)]
    results = await asyncio.gather(*customers, *agents, flood(f"{fresh_server.ws_url}/ws/chat", 400))
    *stats, flooded = results
    assert sum(s["sent"] for s in stats) >= 700
    assert sum(s["errors"] for s in stats) >= 300  # refused frames are answered with error frames
    assert flooded >= 200  # a flood is answered (pongs, echoes, rate_limited), not dropped
    assert fresh_server.proc is not None and fresh_server.proc.poll() is None

    assert httpx.get(fresh_server.base_url + "/healthz").status_code == 200
    assert httpx.get(fresh_server.base_url + "/readyz").status_code == 200
    client = await Client.connect(f"{fresh_server.ws_url}/ws/chat")
    await client.wait_for(is_type("session"))
    await client.send({"type": "message", "text": "how do I reset my password", "client_msg_id": "after-fuzz"})
    reply = await client.wait_for(lambda f: f["type"] == "message" and f["sender"] == "bot")
    assert reply["article"]["id"] == "reset-password"
    await client.close()
    assert assert_events_gapless(str(fresh_server.data_dir / "parley.db")) >= 5
    log = fresh_server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[log.find("Traceback") - 500:][:3000]


async def test_a_socket_closed_by_uvicorn_mid_reply_is_a_quiet_disconnect(fresh_server: LiveServer) -> None:
    """A frame, then at once one over the size limit: uvicorn closes the socket (1009) while the
    server is still answering the first. That is a disconnect, never a server error."""
    fresh_server.start()
    for i in range(20):
        async with websockets.connect(f"{fresh_server.ws_url}/ws/chat", max_size=None) as ws:
            await ws.recv()  # session
            await ws.send(json.dumps({"type": "message", "text": "how do I reset my password"}) if i % 2 else "not json")
            try:
                await ws.send("x" * 70_000)
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is None or closed.rcvd.code == 1009
    assert httpx.get(fresh_server.base_url + "/readyz").status_code == 200
    log = fresh_server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[log.find("Traceback") - 500:][:3000]
