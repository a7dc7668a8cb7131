"""Security over a real server: origin allowlist, rate limits, identity HMAC, token isolation, CSRF."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from app.storage.sql import SqlStore
from tests.harness import Client, LiveServer, copy_data, is_type

SECRET = "site-secret-for-tests"
SHOP = "https://shop.example"


async def add_sites(data_dir: Path) -> None:
    store = SqlStore.from_url(f"sqlite+aiosqlite:///{data_dir}/parley.db")
    try:
        await store.upsert_site("shop", "Shop", [SHOP], identity_secret=SECRET, enforce_identity=True)
        await store.upsert_site("soft", "Soft", [SHOP], identity_secret=SECRET, enforce_identity=False)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def strict_server(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Widget key required, small limits and frame budgets, a short idle timeout, two sites with identity secrets."""
    data = copy_data(demo_template, tmp_path_factory.mktemp("strict"))
    asyncio.run(add_sites(data))
    server = LiveServer(data, PARLEY_REQUIRE_WIDGET_KEY="true", PARLEY_MESSAGES_PER_MINUTE="3",
                        PARLEY_IP_MESSAGES_PER_MINUTE="5", PARLEY_CONVERSATIONS_PER_MINUTE="3",
                        PARLEY_IDLE_TIMEOUT_SECONDS="2", PARLEY_FRAMES_PER_SECOND="5", PARLEY_FRAME_BURST="10").start()
    yield server
    server.stop()


def fake_ip() -> str:
    """Each test speaks from its own client address (uvicorn trusts X-Forwarded-For from 127.0.0.1)."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


async def connect(server: LiveServer, query: str = "", origin: str | None = SHOP, ip: str | None = None) -> Client:
    headers = {"X-Forwarded-For": ip} if ip else {}
    return await Client.connect(f"{server.ws_url}/ws/chat{query}", origin=origin, additional_headers=headers)


async def closed_with(client: Client) -> tuple[int, str]:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await client.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def session(client: Client) -> dict:
    frame = await client.recv()
    assert frame["type"] == "session"
    return frame


async def say(client: Client, text: str) -> dict:
    """Send a message; return its echo or the error that refused it."""
    msg_id = uuid.uuid4().hex
    await client.send({"type": "message", "text": text, "client_msg_id": msg_id})
    return await client.wait_for(lambda f: f.get("client_msg_id") == msg_id or f["type"] == "error")


# ----------------------------------------------------------------------------- origin allowlist
async def test_without_a_required_key_the_handshake_is_refused(strict_server: LiveServer) -> None:
    code, reason = await closed_with(await connect(strict_server, ip=fake_ip()))
    assert code == 1008 and "key" in reason


@pytest.mark.parametrize("origin", ["https://evil.example", None, "https://shop.example.evil.com"])
async def test_a_foreign_or_missing_origin_is_refused_for_the_key(strict_server: LiveServer, origin: str | None) -> None:
    code, reason = await closed_with(await connect(strict_server, "?key=shop", origin=origin, ip=fake_ip()))
    assert code == 1008 and "origin" in reason


async def test_an_unknown_key_is_refused(strict_server: LiveServer) -> None:
    code, _ = await closed_with(await connect(strict_server, "?key=nope", ip=fake_ip()))
    assert code == 1008


async def test_the_allowed_origin_gets_a_session(strict_server: LiveServer) -> None:
    client = await connect(strict_server, "?key=shop", ip=fake_ip())
    assert (await session(client))["status"] == "bot"
    await client.close()


async def test_without_key_requirement_the_demo_socket_needs_no_key(live_server: LiveServer) -> None:
    client = await Client.connect(f"{live_server.ws_url}/ws/chat")
    assert (await session(client))["resumed"] is False
    await client.close()


# ----------------------------------------------------------------------------- rate limits
async def test_messages_over_the_session_limit_are_refused(strict_server: LiveServer) -> None:
    client = await connect(strict_server, "?key=shop", ip=fake_ip())
    await session(client)
    for i in range(3):
        assert (await say(client, f"hello {i}"))["type"] == "message"
    refused = await say(client, "one too many")
    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    assert (await strict_server_ok(strict_server))
    await client.close()


async def test_reconnecting_does_not_reset_the_session_limit(strict_server: LiveServer) -> None:
    ip = fake_ip()
    client = await connect(strict_server, "?key=shop", ip=ip)
    token = (await session(client))["token"]
    for i in range(3):
        assert (await say(client, f"hi {i}"))["type"] == "message"
    await client.close()
    again = await connect(strict_server, f"?key=shop&token={token}", ip=ip)
    assert (await session(again))["resumed"] is True
    assert (await say(again, "still too many"))["code"] == "rate_limited"
    await again.close()


async def test_messages_over_the_ip_limit_are_refused_across_conversations(strict_server: LiveServer) -> None:
    ip = fake_ip()
    first, second = await connect(strict_server, "?key=shop", ip=ip), await connect(strict_server, "?key=shop", ip=ip)
    await session(first), await session(second)
    for i in range(3):
        assert (await say(first, f"first {i}"))["type"] == "message"
    for i in range(2):
        assert (await say(second, f"second {i}"))["type"] == "message"
    refused = await say(second, "the sixth from this address")  # 3rd in its session, 6th from the IP
    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    other = await connect(strict_server, "?key=shop", ip=fake_ip())  # another address is not affected
    await session(other)
    assert (await say(other, "hello"))["type"] == "message"
    for c in (first, second, other):
        await c.close()


async def test_new_conversations_over_the_ip_limit_are_refused_but_resuming_works(strict_server: LiveServer) -> None:
    ip = fake_ip()
    tokens = []
    for _ in range(3):
        client = await connect(strict_server, "?key=shop", ip=ip)
        tokens.append((await session(client))["token"])
        await client.close()
    code, reason = await closed_with(await connect(strict_server, "?key=shop", ip=ip))
    assert code == 1008 and "too many new conversations" in reason
    resumed = await connect(strict_server, f"?key=shop&token={tokens[0]}", ip=ip)
    assert (await session(resumed))["resumed"] is True
    await resumed.close()
    elsewhere = await connect(strict_server, "?key=shop", ip=fake_ip())
    await session(elsewhere)
    await elsewhere.close()
    metrics = httpx.get(strict_server.base_url + "/metrics").text
    assert 'parley_rate_limited_total{scope="ip_conversations"}' in metrics


async def strict_server_ok(server: LiveServer) -> bool:
    return httpx.get(server.base_url + "/healthz").status_code == 200


async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(demo_template: Path, tmp_path: Path) -> None:
    """Only the configured proxies may name the client address; otherwise anyone could dodge the
    per-IP limits by sending a new X-Forwarded-For with every connection."""
    server = LiveServer(copy_data(demo_template, tmp_path / "data"), PARLEY_CONVERSATIONS_PER_MINUTE="2",
                        PARLEY_FORWARDED_ALLOW_IPS="10.255.255.1").start()  # a proxy that is not us
    try:
        for n in range(2):
            client = await connect(server, ip=fake_ip())
            await session(client)
            await client.close()
        client = await connect(server, ip=fake_ip())  # a "different" address, but the same peer
        code, reason = await closed_with(client)
        assert code == 1008 and "too many new conversations" in reason
    finally:
        server.stop()


# ----------------------------------------------------------------------------- frame budgets
async def test_a_typing_flood_is_refused_then_the_socket_recovers(strict_server: LiveServer) -> None:
    client = await connect(strict_server, "?key=shop", ip=fake_ip())
    await session(client)
    for _ in range(20):  # a burst of 10 is allowed at once (typing gets no answer); the rest are refused
        await client.send({"type": "typing", "active": True})
    frames = []
    with pytest.raises(asyncio.TimeoutError):
        while True:
            frames.append(await client.recv(timeout=0.5))
    assert 9 <= len(frames) <= 10
    assert {(f["type"], f["code"], f["frame"]) for f in frames} == {("error", "rate_limited", "typing")}
    # the budget is spent, but a chat message is never refused by it (the per-minute limit governs it)
    assert (await say(client, "hello again"))["type"] == "message"
    await client.close()
    metrics = httpx.get(strict_server.base_url + "/metrics").text
    assert 'parley_rate_limited_total{scope="session_frames"}' in metrics


async def test_a_socket_that_ignores_its_errors_and_floods_on_is_closed(strict_server: LiveServer) -> None:
    client = await connect(strict_server, "?key=shop", ip=fake_ip())
    await session(client)
    try:
        for _ in range(10 + 100 + 20):  # the burst, then ten times it refused in a row
            await client.send({"type": "typing", "active": True})
    except websockets.ConnectionClosed:
        pass
    code, reason = await closed_with(client)
    assert code == 1008 and reason == "too many frames"


async def test_agent_frames_over_the_budget_are_refused_with_their_ref(strict_server: LiveServer) -> None:
    token = strict_server.login("agent@parley.local")
    agent = await Client.connect(f"{strict_server.ws_url}/ws/agent?token={token}")
    assert (await agent.wait_for(is_type("hello")))["type"] == "hello"
    for i in range(20):
        await agent.send({"type": "ping", "ref": f"p{i}"})
    refused = await agent.wait_for(lambda f: f["type"] == "error")
    assert refused["code"] == "rate_limited" and refused["ref"].startswith("p")
    await agent.close()


# ----------------------------------------------------------------------------- idle timeout
async def test_an_idle_customer_socket_is_closed(strict_server: LiveServer) -> None:
    client = await connect(strict_server, "?key=shop", ip=fake_ip())
    await session(client)
    code, reason = await closed_with(client)
    assert code == 1000 and reason == "idle timeout"


# ----------------------------------------------------------------------------- identity verification
def user_hash(user_id: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("given", [None, "0" * 64, "wrong-secret"])
async def test_enforced_identity_without_a_valid_hash_is_refused(strict_server: LiveServer, given: str | None) -> None:
    client = await connect(strict_server, "?key=shop", ip=fake_ip())
    await session(client)
    frame = {"type": "identify", "user_id": "u-42", "email": "u42@example.com"}
    if given == "wrong-secret":
        frame["user_hash"] = user_hash("u-42", "another-secret")
    elif given:
        frame["user_hash"] = given
    await client.send(frame)
    refused = await client.wait_for(lambda f: f["type"] in ("error", "identify"))
    assert refused["type"] == "error" and refused["code"] == "identity_rejected"
    await client.close()


async def test_enforced_identity_with_the_right_hash_is_verified(strict_server: LiveServer) -> None:
    client = await connect(strict_server, "?key=shop", ip=fake_ip())
    await session(client)
    await client.send({"type": "identify", "user_id": "u-42", "user_hash": user_hash("u-42")})
    assert (await client.wait_for(lambda f: f["type"] in ("error", "identify"))) == {"type": "identify", "verified": True}
    await client.close()


async def test_unenforced_identity_is_accepted_but_marked_unverified(strict_server: LiveServer) -> None:
    client = await connect(strict_server, "?key=soft", ip=fake_ip())
    await session(client)
    await client.send({"type": "identify", "user_id": "u-7"})
    assert (await client.wait_for(lambda f: f["type"] in ("error", "identify"))) == {"type": "identify", "verified": False}
    await client.send({"type": "identify", "user_id": "u-7", "user_hash": user_hash("u-7")})
    assert (await client.wait_for(is_type("identify")))["verified"] is True
    await client.close()


# ----------------------------------------------------------------------------- conversation isolation
async def test_an_anonymous_visitor_cannot_read_another_conversation(live_server: LiveServer) -> None:
    owner = await Client.connect(f"{live_server.ws_url}/ws/chat")
    mine = await session(owner)
    await say(owner, "my private order number is 55501")
    for bad in ("not-a-token", mine["token"][:-2] + "xx", mine["conversation_id"]):
        intruder = await Client.connect(f"{live_server.ws_url}/ws/chat?token={bad}&last_seq=0")
        assert await closed_with(intruder) == (1008, "invalid token")
        r = httpx.get(live_server.base_url + "/api/chat/transcript", params={"token": bad, "format": "json"})
        assert r.status_code == 404 and "55501" not in r.text
    other = await Client.connect(f"{live_server.ws_url}/ws/chat")
    theirs = await session(other)
    assert theirs["conversation_id"] != mine["conversation_id"] and theirs["last_seq"] == 0
    await other.send({"type": "resume", "last_seq": 0})
    await other.send({"type": "ping"})
    await other.wait_for(is_type("pong"))
    assert not any("55501" in str(f) for f in other.frames)
    r = httpx.get(live_server.base_url + "/api/chat/transcript", params={"token": mine["token"], "format": "json"})
    assert r.status_code == 200 and "55501" in r.text
    await owner.close(), await other.close()


# ----------------------------------------------------------------------------- CSRF
def test_cookie_authenticated_post_needs_the_csrf_header(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.base_url) as browser:
        login = browser.post("/api/auth/login", json={"email": "editor@parley.local", "password": "parley-demo"})
        assert login.status_code == 200 and "parley_session" in browser.cookies
        body = {"text": "how do I reset my password"}
        refused = browser.post("/api/bot/preview", json=body)
        assert refused.status_code == 403 and "X-Requested-With" in refused.json()["detail"]
        accepted = browser.post("/api/bot/preview", json=body, headers={"X-Requested-With": "fetch"})
        assert accepted.status_code == 200 and accepted.json()["article_id"] == "reset-password"
        assert browser.get("/api/auth/me").status_code == 200  # reads need no header
        token = login.json()["access_token"]
    bearer = httpx.post(live_server.base_url + "/api/bot/preview", json=body, headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 200  # bearer tokens are exempt: a browser never adds them by itself
