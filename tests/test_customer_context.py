"""Customer context for the agent: the widget's `context` frame, the browser in plain words, and past
conversations of a verified customer only (never for a claimed identity)."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import httpx
import pytest

from app.customer_context import customer_context, describe_user_agent, page_address, valid_time_zone
from tests.e2e.test_core_loop import agent, ask
from tests.harness import Client, LiveServer, is_type

CHROME_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.1 Mobile/15E148 Safari/604.1")
EDGE_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.97")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.6099.43 Mobile Safari/537.36")


@pytest.mark.parametrize("ua,expected", [
    (CHROME_WIN, "Chrome 120 on Windows"), (SAFARI_IPHONE, "Safari 17 on iPhone"), (EDGE_MAC, "Edge 119 on macOS"),
    (FIREFOX_LINUX, "Firefox 121 on Linux"), (CHROME_ANDROID, "Chrome 120 on Android"), ("curl/8.4.0", None),
    ("", None)])
def test_the_browser_is_named_in_plain_words(ua: str, expected: str | None) -> None:
    assert describe_user_agent(ua) == expected


def test_page_addresses_keep_no_query_and_only_http() -> None:
    assert page_address("https://shop.example.com/orders/42?token=secret#x") == "https://shop.example.com/orders/42"
    assert page_address("http://localhost:8000") == "http://localhost:8000/"
    for bad in ("javascript:alert(1)", "data:text/html,hi", "ftp://x.io/a", "https:///nohost", "not a url", None, ""):
        assert page_address(bad) is None
    assert valid_time_zone("Europe/Paris") == "Europe/Paris"
    assert valid_time_zone("Mars/Olympus_Mons") is None and valid_time_zone("../../etc/passwd") is None
    stored = customer_context("javascript:alert(1)", "  Orders  ", "Nowhere/Land", "fr-FR", CHROME_WIN)
    assert stored == {"page_title": "Orders", "language": "fr-FR", "browser": "Chrome 120 on Windows",
                      "user_agent": CHROME_WIN}


async def open_transcript(desk: Client, conversation_id: str) -> dict:
    ref = uuid.uuid4().hex[:8]
    await desk.send({"type": "open", "conversation_id": conversation_id, "last_seq": 0, "ref": ref})
    return await desk.wait_for(lambda f: f.get("ref") == ref and f["type"] == "transcript")


async def test_the_context_frame_reaches_the_agents_panel(live_server: LiveServer, agent_token: str) -> None:
    client = await Client.connect(f"{live_server.ws_url}/ws/chat", additional_headers={"User-Agent": SAFARI_IPHONE})
    session = await client.recv()
    await client.send({"type": "context", "page_url": "https://shop.example.com/cart?coupon=SECRET",
                       "page_title": "Your cart · Lumen & Loom", "time_zone": "America/Toronto", "language": "fr-CA"})
    await ask(client, "how do I reset my password")
    desk = await agent(live_server, agent_token)
    transcript = await open_transcript(desk, session["conversation_id"])
    assert transcript["contact"]["context"] == {
        "page_url": "https://shop.example.com/cart", "page_title": "Your cart · Lumen & Loom",
        "time_zone": "America/Toronto", "language": "fr-CA", "browser": "Safari 17 on iPhone",
        "user_agent": SAFARI_IPHONE}
    live = httpx.get(f"{live_server.base_url}/api/console/live", headers={"Authorization": f"Bearer {agent_token}"})
    row = next(r for r in live.json() if r["conversation_id"] == session["conversation_id"])
    assert row["page_url"] == "https://shop.example.com/cart"

    # Hostile or malformed context is refused with an error frame; the socket and the stored context stay.
    for bad in ({"time_zone": "../../etc/passwd"}, {"language": "x" * 40}, {"page_title": "a\x00b"},
                {"page_url": "h" * 3000}, {"time_zone": 5}):
        await client.send({"type": "context", **bad})
        error = await client.wait_for(is_type("error"))
        assert error["code"] == "invalid_frame" and "context" in error["detail"], error
    await client.send({"type": "ping"})
    await client.wait_for(is_type("pong"))
    again = await open_transcript(desk, session["conversation_id"])
    assert again["contact"]["context"]["time_zone"] == "America/Toronto"
    for c in (client, desk):
        await c.close()


async def test_past_conversations_only_for_a_verified_customer(live_server: LiveServer, admin_token: str,
                                                               agent_token: str) -> None:
    origin = f"https://shop-{uuid.uuid4().hex[:6]}.example.com"
    created = httpx.post(f"{live_server.base_url}/api/admin/sites", json={"name": "Context shop",
                         "allowed_origins": [origin]}, headers={"Authorization": f"Bearer {admin_token}"})
    assert created.status_code == 201, created.text
    key, secret = created.json()["key"], created.json()["identity_secret"]
    user_id = "u-" + uuid.uuid4().hex[:6]

    async def visit(text: str, signed: bool, who: str = user_id) -> str:
        client = await Client.connect(f"{live_server.ws_url}/ws/chat?key={key}", origin=origin)
        session = await client.recv()
        frame = {"type": "identify", "user_id": who}
        if signed:
            frame["user_hash"] = hmac.new(secret.encode(), who.encode(), hashlib.sha256).hexdigest()
        await client.send(frame)
        assert (await client.wait_for(is_type("identify")))["verified"] is signed
        await ask(client, text)
        await client.close()
        return str(session["conversation_id"])

    first = await visit("how do I reset my password", signed=True)
    impostor = await visit("where is my order", signed=False)  # claims the same user_id, unsigned
    now = await visit("how do I change my email", signed=True)
    headers = {"Authorization": f"Bearer {agent_token}"}
    seen = httpx.get(f"{live_server.base_url}/api/console/conversations/{now}/context", headers=headers).json()
    assert seen["verified_user_id"] == user_id
    assert [p["conversation_id"] for p in seen["past"]] == [first]  # not the impostor's
    assert seen["past"][0]["first_message"] == "how do I reset my password"
    hidden = httpx.get(f"{live_server.base_url}/api/console/conversations/{impostor}/context", headers=headers).json()
    assert hidden["past"] == [] and hidden["verified_user_id"] is None and "not verified" in hidden["past_note"]
    assert httpx.get(f"{live_server.base_url}/api/console/conversations/c_nope/context",
                     headers=headers).status_code == 404
    assert httpx.get(f"{live_server.base_url}/api/console/conversations/%3Cx%3E/context",
                     headers=headers).status_code == 422
    assert httpx.get(f"{live_server.base_url}/api/console/conversations/{now}/context").status_code == 401
