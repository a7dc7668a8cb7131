"""Taking over from the bot, and capacity over real websockets: a real server, the packaged model, SQLite."""

from __future__ import annotations

import asyncio

import httpx

from tests.e2e.test_core_loop import agent, ask, customer, mid
from tests.harness import LiveServer, is_type


def live(server: LiveServer, token: str) -> list[dict]:
    r = httpx.get(f"{server.base_url}/api/console/live", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


async def test_agent_joins_a_bot_conversation_and_the_bot_stands_aside(live_server: LiveServer,
                                                                         agent_token: str) -> None:
    client, session = await customer(live_server)
    conv_id = session["conversation_id"]
    await ask(client, "hi there")
    answer = await ask(client, "how do I reset my password")
    assert answer["action"] == "answer"

    # The Live tab lists it with the last messages and the bot's decision.
    row = next(r for r in live(live_server, agent_token) if r["conversation_id"] == conv_id)
    assert [m["text"] for m in row["messages"] if m["sender"] == "customer"][-1] == "how do I reset my password"
    assert row["decision"]["action"] == "answer" and row["decision"]["confidence"] == answer["confidence"]
    assert row["decision"]["article_title"] == answer["article"]["title"]

    desk = await agent(live_server, agent_token)
    await desk.send({"type": "join", "conversation_id": conv_id, "ref": "j"})
    transcript = await desk.wait_for(lambda f: f.get("ref") == "j")  # the transcript, then the ack
    assert transcript["type"] == "transcript" and transcript["conversation_id"] == conv_id, transcript
    ack = await desk.wait_for(lambda f: f.get("ref") == "j" and f["type"] in ("ack", "error"))
    assert ack["type"] == "ack", ack
    case = ack["case"]
    assert case["status"] == "assigned" and case["reason"] == "agent_takeover"
    assert transcript["case"]["packet"]["question"] == "how do I reset my password"
    assert transcript["case"]["packet"]["confidence"] == answer["confidence"]
    assert any(e["text"] == "how do I reset my password" for e in transcript["events"])

    joined = await client.wait_for(is_type("handoff", status="assigned"))
    name = desk.seen("hello")[0]["agent"]["name"]
    assert joined["agent"]["name"] == name and name in joined["text"]

    # From now on the bot is silent: a question it would answer gets no bot reply.
    await client.send({"type": "message", "text": "how do I reset my password again", "client_msg_id": mid()})
    got = await desk.wait_for(lambda f: f["type"] == "event" and f["event"]["text"] == "how do I reset my password again")
    assert got["event"]["sender"] == "customer"
    await asyncio.sleep(2)
    assert not [f for f in client.frames[-10:] if f["type"] == "message" and f["sender"] == "bot"
                and f["seq"] > joined["seq"]]
    await desk.send({"type": "message", "conversation_id": conv_id, "text": "Let me look", "ref": "m"})
    await desk.wait_for(is_type("ack", ref="m"))
    assert (await client.wait_for(lambda f: f.get("sender") == "agent"))["text"] == "Let me look"

    # Nobody joins twice, and it has left the Live list.
    await desk.send({"type": "join", "conversation_id": conv_id, "ref": "j2"})
    assert (await desk.wait_for(is_type("error", ref="j2")))["code"] == "invalid_state"
    assert conv_id not in {r["conversation_id"] for r in live(live_server, agent_token)}
    await desk.send({"type": "join", "conversation_id": "c_" + "0" * 24, "ref": "j3"})
    assert (await desk.wait_for(is_type("error", ref="j3")))["code"] == "not_found"
    await desk.send({"type": "join", "conversation_id": "<script>", "ref": "j4"})
    assert (await desk.wait_for(is_type("error", ref="j4")))["code"] == "invalid_frame"

    await desk.send({"type": "resolve", "case_id": case["id"], "ref": "r"})
    await desk.wait_for(is_type("ack", ref="r"))
    for c in (client, desk):
        await c.close()


async def test_the_handoff_card_asks_the_question_not_the_request_for_a_person(live_server: LiveServer,
                                                                               agent_token: str) -> None:
    client, session = await customer(live_server)
    await ask(client, "how long does delivery take to Canada")
    queued = await ask(client, "I want to talk to a human")
    assert queued["type"] == "handoff" and queued["reason"] == "customer_request"
    r = httpx.get(f"{live_server.base_url}/api/console/history", params={"q": session["conversation_id"]},
                  headers={"Authorization": f"Bearer {agent_token}"})
    case = httpx.get(f"{live_server.base_url}/api/cases/{r.json()[0]['id']}",
                     headers={"Authorization": f"Bearer {agent_token}"}).json()
    assert case["packet"]["question"] == "how long does delivery take to Canada"
    assert case["packet"]["request"] == "I want to talk to a human"
    await client.close()


async def test_concurrent_claims_by_one_agent_over_websockets_never_exceed_capacity(fresh_server: LiveServer) -> None:
    fresh_server.start()
    admin = fresh_server.login("admin@parley.local")
    token = fresh_server.login("agent@parley.local")
    auth = {"Authorization": f"Bearer {admin}"}
    users = httpx.get(f"{fresh_server.base_url}/api/admin/users", headers=auth).json()
    alex = next(u for u in users if u["email"] == "agent@parley.local")
    assert httpx.patch(f"{fresh_server.base_url}/api/admin/users/{alex['id']}", json={"capacity": 2},
                       headers=auth).status_code == 200

    customers = []
    for _ in range(6):
        client, session = await customer(fresh_server)
        await client.send({"type": "request_human"})
        await client.wait_for(is_type("handoff", status="queued"))
        customers.append((client, session["conversation_id"]))
    tabs = [await agent(fresh_server, token) for _ in range(6)]  # six tabs of one agent
    snapshot = await tabs[0].wait_for(lambda f: f["type"] == "queue" and len(f["cases"]) == 6)
    case_ids = [c["id"] for c in snapshot["cases"]]
    await asyncio.gather(*[tab.send({"type": "claim", "case_id": cid, "ref": f"c{cid}"})
                           for tab, cid in zip(tabs, case_ids)])
    answers = await asyncio.gather(*[tab.wait_for(lambda f, cid=cid: f.get("ref") == f"c{cid}"
                                                  and f["type"] in ("ack", "error"))
                                     for tab, cid in zip(tabs, case_ids)])
    assert sorted(a["type"] for a in answers) == ["ack", "ack", "error", "error", "error", "error"], answers
    assert {a["code"] for a in answers if a["type"] == "error"} == {"at_capacity"}
    assert all("capacity is 2" in a["detail"] for a in answers if a["type"] == "error")
    team = httpx.get(f"{fresh_server.base_url}/api/console/agents", headers={"Authorization": f"Bearer {token}"}).json()
    assert next(a for a in team if a["id"] == alex["id"])["active_cases"] == 2

    # Joining a bot conversation counts too: still at capacity.
    bot_client, bot_session = await customer(fresh_server)
    await ask(bot_client, "how do I reset my password")
    await tabs[0].send({"type": "join", "conversation_id": bot_session["conversation_id"], "ref": "join"})
    assert (await tabs[0].wait_for(is_type("error", ref="join")))["code"] == "at_capacity"
    reply = await ask(bot_client, "and how do I change my email")  # the bot still has the chat
    assert reply["type"] == "message" and reply["sender"] == "bot"
    for c in [*tabs, bot_client, *(c for c, _ in customers)]:
        await c.close()
