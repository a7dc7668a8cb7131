"""Business hours and an honest queue over a real server (uvicorn, websockets, SQLite): a waiting
customer's `queue` frame changes when the only agent goes offline and when the site's hours end;
out of hours the customer is told when someone is back, and the bot keeps answering."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx

from tests.harness import Client, LiveServer, is_type

SHOP = "https://shop.example.com"
ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_site(server: LiveServer, admin: str, key: str, hours: dict | None = None) -> dict:
    r = httpx.post(server.base_url + "/api/admin/sites", headers=auth(admin), timeout=30,
                   json={"name": key, "key": key, "allowed_origins": [SHOP], "business_hours": hours})
    assert r.status_code == 201, r.text
    return r.json()


async def customer(server: LiveServer, key: str, time_zone: str | None = None) -> Client:
    client = await Client.connect(f"{server.ws_url}/ws/chat?key={key}", origin=SHOP)
    session = await client.recv()
    assert session["type"] == "session"
    if time_zone:
        await client.send({"type": "context", "time_zone": time_zone})
    return client


async def agent(server: LiveServer, token: str) -> Client:
    client = await Client.connect(f"{server.ws_url}/ws/agent?token={token}")
    assert (await client.recv())["type"] == "hello"
    return client


async def test_waiting_customers_hear_when_the_only_agent_goes_offline_and_comes_back(fresh_server: LiveServer) -> None:
    server = fresh_server.start()
    admin = server.login("admin@parley.local")
    make_site(server, admin, "shop")
    alex = await agent(server, server.login("agent@parley.local"))
    first, second = await customer(server, "shop"), await customer(server, "shop")
    for c in (first, second):
        await c.send({"type": "request_human"})
        handoff = await c.wait_for(is_type("handoff", status="queued"))
        assert handoff["availability"] == "online" and handoff["estimated_wait_seconds"] > 0
    queued = await second.wait_for(is_type("queue"))
    assert queued["position"] == 2 and queued["availability"] == "online" and queued["estimated_wait_seconds"] > 0

    await alex.send({"type": "presence", "status": "offline"})
    for c, position in ((first, 1), (second, 2)):
        frame = await c.wait_for(lambda f: f["type"] == "queue" and f["availability"] == "offline")
        assert frame["position"] == position and frame["agents_online"] == 0
        assert frame["estimated_wait_seconds"] is None and frame["offline_reason"] == "no_agents"

    await alex.send({"type": "presence", "status": "online"})
    back = await second.wait_for(lambda f: f["type"] == "queue" and f["availability"] == "online")
    assert back["estimated_wait_seconds"] > 0 and back["agents_online"] == 1

    await alex.close()  # the socket goes: presence offline, on every process via the broker
    gone = await first.wait_for(lambda f: f["type"] == "queue" and f["availability"] == "offline")
    assert gone["estimated_wait_seconds"] is None
    # the email form's path: the contact is kept with the case
    await first.send({"type": "contact", "email": "ann@example.com"})
    saved = await first.wait_for(is_type("message", sender="system"))
    assert "ann@example.com" in saved["text"]
    cases = httpx.get(server.base_url + "/api/cases", headers=auth(admin), params={"status": "queued"}).json()
    assert "ann@example.com" in str(cases)
    for c in (first, second):
        await c.close()


async def test_the_queue_frame_turns_offline_when_hours_end_and_says_when_they_are_back(
        fresh_server: LiveServer) -> None:
    server = fresh_server.start()
    admin = server.login("admin@parley.local")
    now = datetime.now(timezone.utc)
    # open from the start of this minute until a minute boundary 20-80 s away, every day (UTC)
    start = now.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=2 if now.second > 40 else 1)
    if end.date() != start.date():  # just before midnight: the test needs one day's range
        await asyncio.sleep((end - now).total_seconds() + 1)
        return await test_the_queue_frame_turns_offline_when_hours_end_and_says_when_they_are_back(fresh_server)
    span = [[f"{start:%H:%M}", f"{end:%H:%M}"]]
    hours = {"time_zone": "UTC", "weekly": {d: span for d in ALL_DAYS}}
    site = make_site(server, admin, "shop", hours)
    assert site["open_now"] is True and site["next_change"].startswith(f"{end:%Y-%m-%dT%H:%M}")
    alex = await agent(server, server.login("agent@parley.local"))
    waiting = await customer(server, "shop", "Europe/Paris")
    await waiting.send({"type": "request_human"})
    handoff = await waiting.wait_for(is_type("handoff", status="queued"))
    assert handoff["availability"] == "online" and handoff["estimated_wait_seconds"] > 0

    closed = await waiting.wait_for(lambda f: f["type"] == "queue" and f["availability"] == "offline",
                                    timeout=(end - datetime.now(timezone.utc)).total_seconds() + 15)
    assert datetime.now(timezone.utc) >= end
    assert closed["offline_reason"] == "closed" and closed["estimated_wait_seconds"] is None
    assert closed["agents_online"] == 1  # someone is logged in, but the desk is closed: no ETA promised
    assert datetime.fromisoformat(closed["back_at"]) == start + timedelta(days=1)

    # out of hours: the session says so before anyone asks, a request for a person is told when we
    # are back (in the customer's zone), and the bot keeps answering
    late = await Client.connect(f"{server.ws_url}/ws/chat?key=shop", origin=SHOP)
    session = await late.recv()
    assert session["hours"]["open"] is False and session["hours"]["back_at"] == closed["back_at"]
    await late.send({"type": "context", "time_zone": "Europe/Paris"})
    await late.send({"type": "message", "text": "How do I reset my password?", "client_msg_id": "m1"})
    answer = await late.wait_for(is_type("message", sender="bot"), timeout=30)
    assert answer["action"] in ("answer", "clarify")
    await late.send({"type": "request_human"})
    told = await late.wait_for(is_type("handoff", status="queued"))
    paris = (start + timedelta(days=1)).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert told["availability"] == "offline" and told["estimated_wait_seconds"] is None
    assert told["offline_reason"] == "closed" and told["back_at"] == closed["back_at"]
    assert f"tomorrow at {paris:%H:%M} (your time)" in told["text"], told["text"]
    await late.send({"type": "contact", "email": "late@example.com"})
    assert "late@example.com" in (await late.wait_for(is_type("message", sender="system")))["text"]
    for c in (late, waiting, alex):
        await c.close()
