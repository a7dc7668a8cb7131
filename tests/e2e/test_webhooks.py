"""Outgoing webhooks against a real local receiver that is slow, then down (while the desk is killed
and restarted), then up again: every event arrives, signed, under one delivery id each, in seq
order per conversation; attempts are visible to admins and a delivery can be replayed."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.webhook_outbound import verify
from tests.harness import LiveServer, copy_data, free_port


class Receiver:
    """An HTTP server in a thread that records every POST; `mode` is up, slow or down."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mode = "up"
        self.slow_seconds = 2.0
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body, "mode": receiver.mode,
                                              "at": time.monotonic()})
                    slow = receiver.mode == "slow"
                if slow:
                    time.sleep(receiver.slow_seconds)
                try:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the desk gave up waiting

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.requests)


def _client(server: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _expected(transcript: list[dict[str, Any]], conv_id: str) -> set[tuple[str, str, int]]:
    """The webhook events a transcript should produce (the documented mapping, written out again here)."""
    out = {("conversation.started", conv_id, 1)}
    for e in transcript:
        kind, seq = e.get("kind") or e["type"], e["seq"]  # handoff frames name their kind in "type"
        if kind == "message" and e["visibility"] == "public":
            out.add(("message.created", conv_id, seq))
        elif kind == "note":
            out.add(("note.created", conv_id, seq))
        elif kind == "rating":
            out.add(("rating.given", conv_id, seq))
        elif kind == "handoff":
            status = e["status"]
            if status == "queued" and not e["data"].get("released"):
                out.add(("case.escalated", conv_id, seq))
            elif status == "assigned":
                out.add(("case.transferred" if e["data"].get("transferred_from") else "case.assigned", conv_id, seq))
            elif status == "resolved":
                out.add(("case.resolved", conv_id, seq))
    return out


def _wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


WEBHOOK_ENV = {"PARLEY_WEBHOOK_ALLOW_PRIVATE": "true", "PARLEY_WEBHOOK_TIMEOUT_SECONDS": "1",
               "PARLEY_WEBHOOK_RETRY_BASE_SECONDS": "0.3", "PARLEY_WEBHOOK_RETRY_MAX_SECONDS": "1.5",
               "PARLEY_WEBHOOK_POLL_SECONDS": "0.2"}


def test_a_receiver_that_is_slow_then_down_then_up_gets_every_event_once_signed_and_in_order(
        demo_template: Path, tmp_path: Path) -> None:
    receiver = Receiver(free_port())
    receiver.mode = "slow"
    receiver.start()
    server = LiveServer(copy_data(demo_template, tmp_path / "data"), **WEBHOOK_ENV).start()
    try:
        admin = _client(server, server.login("admin@parley.local"))
        editor = _client(server, server.login("editor@parley.local"))
        agent_id = next(u["id"] for u in admin.get("/api/admin/users").json() if u["email"] == "agent@parley.local")
        created = admin.post("/api/admin/webhooks", json={"url": f"http://127.0.0.1:{receiver.port}/hook",
                                                          "events": ["*"], "description": "test receiver"})
        assert created.status_code == 201, created.text
        hook = created.json()
        secret = hook["secret"]
        assert secret.startswith("whsec_") and "secret" not in admin.get(f"/api/admin/webhooks/{hook['id']}").json()
        token = admin.post("/api/admin/tokens", json={"name": "driver", "scopes": ["conversations:write", "agent"],
                                                      "user_id": agent_id}).json()["token"]
        api = _client(server, token)

        # three conversations while the receiver is slow (every attempt times out at 1 s)
        conversations = []
        for i in range(3):
            conv = api.post("/api/v1/conversations", json={}).json()["conversation_id"]
            conversations.append(conv)
            for text in ("How do I reset my password?", f"thanks {i}"):
                assert api.post(f"/api/v1/conversations/{conv}/messages", json={"text": text}).status_code == 201
        first = conversations[0]
        assert api.post(f"/api/v1/conversations/{first}/request_human").status_code == 200
        case_id = next(c["id"] for c in api.get("/api/v1/agent/queue").json()["cases"] if c["conversation_id"] == first)
        assert api.post(f"/api/v1/agent/cases/{case_id}/claim").status_code == 200
        assert api.post(f"/api/v1/agent/conversations/{first}/messages", json={"text": "Hello from an agent"}).status_code == 201
        assert api.post(f"/api/v1/agent/conversations/{first}/notes", json={"text": "internal"}).status_code == 201
        assert api.post(f"/api/v1/agent/cases/{case_id}/resolve").status_code == 200
        assert api.post(f"/api/v1/conversations/{first}/rating", json={"score": 4}).status_code == 200
        article = editor.post("/api/articles", json={"id": "webhook-test-article", "title": "Webhook test article",
                                                     "body": "Body.", "status": "draft"})
        assert article.status_code == 201, article.text
        assert editor.post("/api/articles/webhook-test-article/publish").status_code == 200
        _wait_for(lambda: len(receiver.snapshot()) >= 3, 30, "slow deliveries to be tried")

        # down: the receiver stops, and the desk is killed and started again with deliveries pending
        receiver.mode = "down"
        receiver.stop()
        time.sleep(2)
        server.stop(kill=True)
        server.start(timeout=300)  # the published article is indexed again before it is ready
        admin = _client(server, server.login("admin@parley.local"))
        deliveries = admin.get(f"/api/admin/webhooks/{hook['id']}/deliveries", params={"limit": 1000}).json()
        assert any(d["status"] == "pending" for d in deliveries)
        failed = [d for d in deliveries if d["attempts"] > 0 and d["last_error"]]
        assert failed, "no failed attempt is visible"
        detail = admin.get(f"/api/admin/webhooks/deliveries/{failed[0]['id']}").json()
        errors = " ".join(a["error"] or "" for a in detail["attempt_log"])
        assert detail["attempt_log"] and ("timed out" in errors or "Connect" in errors), detail["attempt_log"]
        assert all(a["latency_ms"] >= 0 for a in detail["attempt_log"])
        time.sleep(1.5)  # attempts against the closed port fail (connection refused)

        # up again: everything arrives
        up_since = time.monotonic()
        receiver.mode = "up"
        receiver.start()
        api = _client(server, token)
        expected: set[tuple[str, str, int]] = set()
        for conv in conversations:
            transcript = api.get(f"/api/v1/agent/conversations/{conv}/events").json()["events"]
            expected |= _expected(transcript, conv)
        expected_count = len(expected) + 1  # and the article

        def arrived() -> dict[str, dict[str, Any]]:
            unique: dict[str, dict[str, Any]] = {}
            for r in receiver.snapshot():
                unique.setdefault(r["headers"]["Parley-Delivery"], r)
            return unique if len(unique) >= expected_count else {}

        unique = _wait_for(arrived, 90, f"{expected_count} deliveries")
        requests = receiver.snapshot()

        # signed: every request, with the endpoint's secret, over the exact body
        for r in requests:
            assert verify(secret, r["headers"]["Parley-Signature"], r["body"]), r["headers"]
            assert not verify("whsec_wrong", r["headers"]["Parley-Signature"], r["body"])
        # one delivery id per event, the same body on every retry; nothing extra
        bodies: dict[str, str] = {}
        by_event: dict[tuple[str, str, int], set[str]] = {}
        article_events = []
        for r in requests:
            delivery = r["headers"]["Parley-Delivery"]
            assert bodies.setdefault(delivery, r["body"]) == r["body"]
            payload = json.loads(r["body"])
            assert r["headers"]["Parley-Event"] == payload["type"]
            if payload["type"] == "article.published":
                article_events.append(delivery)
                assert payload["data"]["article"]["id"] == "webhook-test-article"
                continue
            conv = payload["data"]["conversation"]["id"]
            seq = 1 if payload["type"] == "conversation.started" else payload["data"]["event"]["seq"]
            by_event.setdefault((payload["type"], conv, seq), set()).add(delivery)
        assert set(by_event) == expected, (set(by_event) ^ expected)
        assert all(len(ids) == 1 for ids in by_event.values())
        assert len(set(article_events)) == 1
        # once the receiver answers, each delivery arrives once
        after_up = [r["headers"]["Parley-Delivery"] for r in requests if r["at"] >= up_since]
        assert len(after_up) == len(set(after_up))
        # in seq order per conversation (by first arrival)
        for conv in conversations:
            seqs = []
            for delivery, r in sorted(unique.items(), key=lambda kv: kv[1]["at"]):
                payload = json.loads(r["body"])
                if payload["type"] != "article.published" and payload["data"]["conversation"]["id"] == conv:
                    seqs.append(1 if payload["type"] == "conversation.started" else payload["data"]["event"]["seq"])
            assert seqs == sorted(seqs), (conv, seqs)
        # nothing internal leaks into message.created; the note is its own event type
        messages = [json.loads(r["body"]) for r in unique.values()]
        assert all(m["data"]["event"]["visibility"] == "public" for m in messages if m["type"] == "message.created")
        assert [m["data"]["event"]["text"] for m in messages if m["type"] == "note.created"] == ["internal"]

        # the admin view agrees, and a replay sends the same delivery (same id, same body) again
        def all_delivered() -> list[dict[str, Any]]:
            found = admin.get(f"/api/admin/webhooks/{hook['id']}/deliveries", params={"limit": 1000}).json()
            return found if found and all(d["status"] == "delivered" for d in found) else []

        deliveries = _wait_for(all_delivered, 20, "all delivered")
        assert len(deliveries) == expected_count
        target = deliveries[0]["id"]
        before = len(receiver.snapshot())
        assert admin.post(f"/api/admin/webhooks/deliveries/{target}/replay").json()["status"] == "pending"
        replayed = _wait_for(lambda: [r for r in receiver.snapshot()[before:]
                                      if r["headers"]["Parley-Delivery"] == target], 20, "the replay")
        assert replayed[0]["body"] == bodies[target]
        audit = admin.get("/api/admin/audit", params={"target": f"webhook:{hook['id']}"}).json()
        assert {"webhook.created", "webhook.replayed"} <= {a["action"] for a in audit}
    finally:
        receiver.stop()
        server.stop()


def test_webhooks_to_private_addresses_are_refused_by_default(live_server: LiveServer, admin_token: str) -> None:
    """SSRF: the shared server runs with default settings. An address in the URL is refused at once; a
    name is checked where it resolves, at delivery, so a loopback receiver is never called."""
    import socket

    receiver = Receiver(free_port())
    receiver.start()
    admin = _client(live_server, admin_token)
    for url in (f"http://127.0.0.1:{receiver.port}/", "http://[::1]/", "http://10.1.2.3/", "http://169.254.169.254/x",
                "http://localhost/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/"):
        r = admin.post("/api/admin/webhooks", json={"url": url, "events": ["*"]})
        assert r.status_code == 422 and "not a public address" in r.text, (url, r.text)
    name = socket.gethostname()
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        resolved = set()
    if not resolved or not all(a.startswith("127.") or a == "::1" for a in resolved):
        receiver.stop()
        pytest.skip(f"{name} does not resolve to loopback here")
    hook = admin.post("/api/admin/webhooks", json={"url": f"http://{name}:{receiver.port}/", "events": ["*"]}).json()
    try:
        crm = admin.post("/api/admin/tokens", json={"name": "ssrf", "scopes": ["conversations:write"]}).json()["token"]
        api = _client(live_server, crm)
        conv = api.post("/api/v1/conversations", json={}).json()["conversation_id"]
        api.post(f"/api/v1/conversations/{conv}/messages", json={"text": "hello"})

        def refused() -> list[dict[str, Any]]:
            found = admin.get(f"/api/admin/webhooks/{hook['id']}/deliveries").json()
            return [d for d in found if d["last_error"]]

        failed = _wait_for(refused, 30, "a refused delivery")
        assert "non-public address" in failed[0]["last_error"]
        assert receiver.snapshot() == []
    finally:
        admin.delete(f"/api/admin/webhooks/{hook['id']}")
        receiver.stop()


@pytest.mark.parametrize(("body", "expected"), [
    ({"url": "ftp://example.com/x", "events": ["*"]}, 422),
    ({"url": "https://user:pw@example.com/x", "events": ["*"]}, 422),
    ({"url": "https://example.com/x", "events": ["nope"]}, 422),
    ({"url": "https://example.com/x", "events": []}, 422),
    ({"url": "https://example.com/" + "a" * 2100, "events": ["*"]}, 422),
    ({"url": "https://exa mple.com/x", "events": ["*"]}, 422),
    ({"url": "https://example.com/x", "events": ["*"], "secret": "mine"}, 422),
])
def test_webhook_endpoints_refuse_bad_input(live_server: LiveServer, admin_token: str, body: dict[str, Any],
                                            expected: int) -> None:
    r = _client(live_server, admin_token).post("/api/admin/webhooks", json=body)
    assert r.status_code == expected, r.text


@pytest.mark.postgres
@pytest.mark.redis
async def test_two_processes_on_postgresql_send_each_delivery_once(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Both processes feed and deliver from one PostgreSQL outbox; a row is claimed by one of them,
    so the receiver never sees a delivery id twice, and every event once."""
    import asyncio
    import uuid

    from tests.conftest import REDIS_URL
    from tests.contract.conftest import drop_postgres, fresh_postgres_url
    from tests.harness import run_cli, server_env

    url, name = await fresh_postgres_url()
    env = {"PARLEY_DATABASE_URL": url, "PARLEY_REDIS_URL": REDIS_URL, "PARLEY_REDIS_PREFIX": f"t-{uuid.uuid4().hex[:8]}:",
           "PARLEY_DEMO_MODE": "true", "PARLEY_REQUIRE_WIDGET_KEY": "false", **WEBHOOK_ENV,
           "PARLEY_WEBHOOK_TIMEOUT_SECONDS": "5"}
    seeded = run_cli(["demo"], server_env(tmp_path_factory.mktemp("pg-hooks-seed"), **env))
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    receiver = Receiver(free_port())
    receiver.start()
    a = LiveServer(tmp_path_factory.mktemp("hooks-a"), **env)
    b = LiveServer(tmp_path_factory.mktemp("hooks-b"), **env)
    try:
        await asyncio.gather(asyncio.to_thread(a.start, 300), asyncio.to_thread(b.start, 300))
        admin = _client(a, a.login("admin@parley.local"))
        assert admin.post("/api/admin/webhooks", json={"url": f"http://127.0.0.1:{receiver.port}/",
                                                       "events": ["conversation.started", "message.created"]}
                          ).status_code == 201
        token = admin.post("/api/admin/tokens", json={"name": "pg", "scopes": ["conversations:write"]}).json()["token"]
        expected = set()
        for i in range(8):
            api = _client(a if i % 2 else b, token)
            conv = api.post("/api/v1/conversations", json={}).json()["conversation_id"]
            expected.add(("conversation.started", conv, 1))
            for text in ("hello", "thanks, bye"):
                r = api.post(f"/api/v1/conversations/{conv}/messages", json={"text": text}).json()
                expected |= {("message.created", conv, e["seq"]) for e in [r["message"], *r["events"]]
                             if e["type"] == "message"}

        def all_arrived() -> list[dict[str, Any]]:
            got = receiver.snapshot()
            return got if len({r["headers"]["Parley-Delivery"] for r in got}) >= len(expected) else []

        _wait_for(all_arrived, 90, f"{len(expected)} deliveries")
        time.sleep(3)  # long enough for a second sender, had there been one, to send again
        got = receiver.snapshot()
        ids = [r["headers"]["Parley-Delivery"] for r in got]
        assert len(ids) == len(set(ids)) == len(expected)
        seen = set()
        for r in got:
            payload = json.loads(r["body"])
            conv = payload["data"]["conversation"]["id"]
            seen.add((payload["type"], conv, 1 if payload["type"] == "conversation.started"
                      else payload["data"]["event"]["seq"]))
        assert seen == expected
    finally:
        a.stop()
        b.stop()
        receiver.stop()
        await drop_postgres(name)
