"""Operations over a real server: Prometheus metrics, JSON logs with ids, graceful shutdown with a reconnect hint."""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import pytest
import websockets

from tests.harness import Client, LiveServer, is_type


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    label = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name + (f"{{{label}}}" if label else "")) + r" ([0-9.e+-]+)$"
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_metrics_count_messages_decisions_escalations_and_the_queue(live_server: LiveServer) -> None:
    url = live_server.base_url + "/metrics"
    before = httpx.get(url)
    assert before.status_code == 200 and before.headers["content-type"].startswith("text/plain")
    client = await Client.connect(f"{live_server.ws_url}/ws/chat")
    await client.wait_for(is_type("session"))
    await client.send({"type": "message", "text": "how do I reset my password", "client_msg_id": uuid.uuid4().hex})
    await client.wait_for(lambda f: f["type"] == "message" and f["sender"] == "bot")
    await client.send({"type": "request_human"})
    await client.wait_for(is_type("handoff", status="queued"))
    after = httpx.get(url).text
    b = before.text
    assert sample(after, "parley_messages_total") >= sample(b, "parley_messages_total") + 1
    assert sample(after, "parley_decisions_total", action="answer") >= sample(b, "parley_decisions_total", action="answer") + 1
    assert sample(after, "parley_escalations_total", reason="customer_request") >= \
        sample(b, "parley_escalations_total", reason="customer_request") + 1
    assert sample(after, "parley_queue_length") >= 1
    assert sample(after, "parley_decision_seconds_count") >= 1
    assert sample(after, "parley_ws_connections", socket="chat") >= 1
    assert sample(after, "parley_http_request_duration_seconds_count", method="GET", route="/metrics", status="200") >= 1
    for name in ("parley_messages_total", "parley_decisions_total", "parley_escalations_total", "parley_queue_length"):
        assert f"# TYPE {name.removesuffix('_total')} " in after or f"# TYPE {name} " in after
    await client.close()


async def test_logs_are_json_lines_with_request_and_conversation_ids(live_server: LiveServer) -> None:
    request_id = "req-" + uuid.uuid4().hex[:12]
    r = httpx.get(live_server.base_url + "/healthz", headers={"X-Request-ID": request_id})
    assert r.headers["x-request-id"] == request_id
    assert re.fullmatch(r"[0-9a-f]{16}", httpx.get(live_server.base_url + "/healthz").headers["x-request-id"])
    client = await Client.connect(f"{live_server.ws_url}/ws/chat")
    session = await client.wait_for(is_type("session"))
    await client.close()
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in live_server.log_path.read_text(errors="replace").splitlines() if line.startswith("{")]
        entries = [json.loads(line) for line in lines]
        access = [e for e in entries if e.get("request_id") == request_id and e["logger"] == "parley.access"]
        socket = [e for e in entries if e.get("conversation_id") == session["conversation_id"]]
        if access and len(socket) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert access and access[0]["path"] == "/healthz" and access[0]["status"] == 200 and "duration_ms" in access[0]
    assert {e["message"] for e in socket} >= {"customer socket open", "customer socket closed"}
    assert all(e["request_id"] for e in socket)
    assert all({"ts", "level", "logger", "message"} <= set(e) for e in entries)


async def test_shutdown_closes_sockets_with_a_reconnect_hint_and_resume_works_after(fresh_server: LiveServer) -> None:
    fresh_server.start()
    token = fresh_server.login("agent@parley.local")
    customer = await Client.connect(f"{fresh_server.ws_url}/ws/chat")
    session = await customer.wait_for(is_type("session"))
    await customer.send({"type": "message", "text": "how do I track my order", "client_msg_id": uuid.uuid4().hex})
    await customer.wait_for(lambda f: f["type"] == "message" and f["sender"] == "bot")
    agent = await Client.connect(f"{fresh_server.ws_url}/ws/agent?token={token}")
    await agent.wait_for(is_type("hello"))
    fresh_server.stop()
    assert fresh_server.proc is not None and fresh_server.proc.returncode in (0, -15)  # uvicorn re-raises SIGTERM
    for client in (customer, agent):
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await client.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1012, "reconnect")
    fresh_server.start()
    again = await Client.connect(f"{fresh_server.ws_url}/ws/chat?token={session['token']}&last_seq=0")
    resumed = await again.wait_for(is_type("session"))
    assert resumed["resumed"] is True and resumed["conversation_id"] == session["conversation_id"]
    replayed = await again.wait_for(lambda f: f["type"] == "message" and f["sender"] == "bot")
    assert replayed["seq"] == 2
    await again.close()
