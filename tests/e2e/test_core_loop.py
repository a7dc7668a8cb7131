"""The core loop over a real uvicorn server, real websockets, SQLite and the packaged MiniLM model."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
import websockets

from tests.harness import Client, LiveServer, is_type

def mid() -> str:
    return uuid.uuid4().hex


async def customer(server: LiveServer, **params: str) -> tuple[Client, dict]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    client = await Client.connect(f"{server.ws_url}/ws/chat" + (f"?{query}" if query else ""))
    session = await client.recv()
    assert session["type"] == "session"
    return client, session


async def ask(client: Client, text: str) -> dict:
    """Send a message; return the first frame the bot or desk sends after the echo."""
    msg_id = mid()
    await client.send({"type": "message", "text": text, "client_msg_id": msg_id})
    echo = await client.wait_for(is_type("message", client_msg_id=msg_id))
    assert echo["sender"] == "customer" and echo["text"] == text
    return await client.wait_for(lambda f: f["type"] == "handoff" or (f["type"] == "message" and f["sender"] == "bot"))


async def agent(server: LiveServer, token: str) -> Client:
    client = await Client.connect(f"{server.ws_url}/ws/agent?token={token}")
    hello = await client.wait_for(is_type("hello"))
    assert hello["agent"]["role"] in ("agent", "admin")
    await client.wait_for(is_type("queue"))
    return client


async def test_covered_question_gets_the_matching_article(live_server: LiveServer) -> None:
    client, _ = await customer(live_server)
    reply = await ask(client, "how do I reset my password")
    assert reply["sender"] == "bot" and reply["action"] == "answer"
    assert reply["article"]["id"] == "reset-password"
    assert reply["article"]["url"] == "/kb/reset-password"
    assert "password" in reply["text"].lower() and reply["confidence"] > 0.6
    page = httpx.get(live_server.base_url + reply["article"]["url"])
    assert page.status_code == 200 and "Reset or change your password" in page.text
    await client.close()


async def test_greeting_gets_small_talk_without_article_or_escalation(live_server: LiveServer) -> None:
    client, _ = await customer(live_server)
    reply = await ask(client, "hello!")
    assert reply["action"] == "smalltalk" and reply["article"] is None
    await client.close()


@pytest.mark.parametrize("text", ["nice one", "am i talking to a robot lol", "sorry, wrong window", "👍"])
async def test_small_talk_by_meaning_is_answered_not_escalated(live_server: LiveServer, text: str) -> None:
    client, _ = await customer(live_server)
    reply = await ask(client, text)
    assert reply["type"] == "message" and reply["action"] == "smalltalk" and reply["article"] is None, reply
    await client.close()


async def test_uncovered_question_is_told_plainly_then_a_second_one_is_queued(live_server: LiveServer) -> None:
    client, _ = await customer(live_server)
    # nothing in the demo shop is near it (tungsten questions are not: bulbs and cookware come close)
    reply = await ask(client, "who painted the mona lisa")
    assert reply["type"] == "message" and reply["sender"] == "bot" and reply["action"] == "no_answer", reply
    assert "person" in reply["text"] and reply["article"] is None
    again = await ask(client, "which football team won the 1966 world cup")
    assert again["type"] == "handoff" and again["status"] == "queued", again
    assert again["reason"] == "repeated_failure"
    assert isinstance(again["position"], int) and again["position"] >= 1
    await client.close()


async def test_a_yes_to_the_offer_of_a_person_queues_the_chat_and_a_no_or_a_filler_keeps_the_bot(
        live_server: LiveServer) -> None:
    client, _ = await customer(live_server)
    assert (await ask(client, "who painted the mona lisa"))["action"] == "no_answer"  # "... talk to a person?"
    declined = await ask(client, "no thanks")
    assert declined["type"] == "message" and declined["action"] == "smalltalk", declined
    filler = await ask(client, "hmm")  # neither counts as a failure: the chat stays with the bot
    assert filler["type"] == "message" and filler["action"] == "smalltalk", filler
    assert (await ask(client, "who painted the mona lisa"))["action"] == "no_answer"
    accepted = await ask(client, "yes please")
    assert accepted["type"] == "handoff" and accepted["status"] == "queued", accepted
    assert accepted["reason"] == "customer_request"
    await client.close()


async def test_a_covered_question_after_an_unanswered_one_is_answered(live_server: LiveServer) -> None:
    client, _ = await customer(live_server)
    first = await ask(client, "who painted the mona lisa")
    assert first["action"] == "no_answer"
    reply = await ask(client, "how do I reset my password")
    assert reply["action"] == "answer" and reply["article"]["id"] == "reset-password", reply
    await client.close()


@pytest.mark.parametrize("text", ["can I talk to a person", "real person please", "let me speak to your manager",
                                  "je veux parler à un conseiller", "quiero hablar con una persona",
                                  "ich möchte mit einem Mitarbeiter sprechen", "quero falar com um atendente",
                                  "vorrei parlare con un operatore", "AGENT"])
async def test_request_for_a_person_is_queued_as_customer_request(live_server: LiveServer, text: str) -> None:
    client, _ = await customer(live_server)
    reply = await ask(client, text)
    assert reply["type"] == "handoff" and reply["status"] == "queued" and reply["reason"] == "customer_request"
    await client.close()


async def test_agent_takes_over_bot_stays_silent_and_transcript_matches_both_sides(
        live_server: LiveServer, agent_token: str) -> None:
    desk = await agent(live_server, agent_token)
    client, session = await customer(live_server)
    await ask(client, "how do I track my order")
    await client.send({"type": "request_human"})
    queued = await client.wait_for(is_type("handoff", status="queued"))
    assert queued["reason"] == "customer_request" and queued["availability"] == "online"

    snapshot = await desk.wait_for(lambda f: f["type"] == "queue" and any(
        c["conversation_id"] == session["conversation_id"] for c in f["cases"]))
    case = next(c for c in snapshot["cases"] if c["conversation_id"] == session["conversation_id"])
    assert case["reason"] == "customer_request" and case["last_message"] == "how do I track my order"

    await desk.send({"type": "claim", "case_id": case["id"], "ref": "c1"})
    transcript = await desk.wait_for(is_type("transcript"))
    texts = [e["text"] for e in transcript["events"]]
    assert "how do I track my order" in texts  # the agent sees what the bot already did
    assert any(e["sender"] == "bot" for e in transcript["events"])
    await desk.wait_for(is_type("ack", ref="c1"))
    joined = await client.wait_for(is_type("handoff", status="assigned"))
    assert joined["agent"]["name"] == "Alex Agent"

    # While the agent owns the chat, the bot says nothing, even to a question it could answer.
    await client.send({"type": "message", "text": "how do I reset my password", "client_msg_id": mid()})
    got = await desk.wait_for(lambda f: f["type"] == "event" and f["event"]["text"] == "how do I reset my password")
    assert got["conversation_id"] == session["conversation_id"]
    await desk.send({"type": "message", "conversation_id": session["conversation_id"], "text": "Hi, I'm Alex. Let me check.",
                     "client_msg_id": mid()})
    from_agent = await client.wait_for(lambda f: f["type"] == "message" and f["sender"] == "agent")
    assert from_agent["text"] == "Hi, I'm Alex. Let me check." and from_agent["agent"]["name"] == "Alex Agent"
    await asyncio.sleep(0.5)
    bot_after_claim = [f for f in client.frames if f.get("type") == "message" and f["sender"] == "bot"
                       and f["seq"] > joined["seq"]]
    assert bot_after_claim == []

    await desk.send({"type": "resolve", "case_id": case["id"], "ref": "r1"})
    resolved = await client.wait_for(is_type("handoff", status="resolved"))
    assert resolved["text"]
    await client.send({"type": "rating", "score": 5, "comment": "quick and kind"})
    await client.wait_for(is_type("rating"))

    r = httpx.get(f"{live_server.base_url}/api/cases/{case['id']}", headers={"Authorization": f"Bearer {agent_token}"})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "resolved" and body["rating"] == 5 and body["rating_comment"] == "quick and kind"
    stored = [(e["seq"], e["sender"], e["text"]) for e in body["transcript"] if e["visibility"] == "public"]
    seen_by_customer = [(f["seq"], f["sender"], f["text"]) for f in client.frames if f.get("type") == "message"]
    seen_by_customer += [(f["seq"], "system", f["text"]) for f in client.frames if f.get("type") == "handoff"]
    assert sorted(seen_by_customer) == stored  # same events, same order, nothing lost or duplicated
    assert [s for s, _, _ in stored] == sorted({s for s, _, _ in stored})
    await client.close()
    await desk.close()


async def test_two_agents_claiming_one_case_exactly_one_wins(live_server: LiveServer, agent_token: str,
                                                             admin_token: str) -> None:
    client, session = await customer(live_server)
    await ask(client, "I need a human")
    first, second = await agent(live_server, agent_token), await agent(live_server, admin_token)
    case_id = (await live_cases(live_server, agent_token, session["conversation_id"]))["id"]
    await asyncio.gather(first.send({"type": "claim", "case_id": case_id, "ref": "a"}),
                         second.send({"type": "claim", "case_id": case_id, "ref": "b"}))
    outcomes = await asyncio.gather(
        first.wait_for(lambda f: f.get("ref") == "a" and f["type"] in ("ack", "error")),
        second.wait_for(lambda f: f.get("ref") == "b" and f["type"] in ("ack", "error")))
    kinds = sorted(o["type"] for o in outcomes)
    assert kinds == ["ack", "error"]
    assert next(o for o in outcomes if o["type"] == "error")["code"] == "already_claimed"
    for c in (client, first, second):
        await c.close()


async def live_cases(server: LiveServer, token: str, conversation_id: str) -> dict:
    r = httpx.get(f"{server.base_url}/api/cases?status=queued", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    return next(c for c in r.json() if c["conversation_id"] == conversation_id)


async def test_hand_back_returns_the_chat_to_the_bot(live_server: LiveServer, agent_token: str) -> None:
    client, session = await customer(live_server)
    await ask(client, "operator please")
    desk = await agent(live_server, agent_token)
    case_id = (await live_cases(live_server, agent_token, session["conversation_id"]))["id"]
    await desk.send({"type": "claim", "case_id": case_id, "ref": "x"})
    await desk.wait_for(is_type("ack", ref="x"))
    await desk.send({"type": "hand_back", "case_id": case_id, "ref": "hb"})
    await desk.wait_for(is_type("ack", ref="hb"))
    await client.wait_for(is_type("handoff", status="bot"))
    reply = await ask(client, "how long does standard shipping take")
    assert reply["sender"] == "bot" and reply["action"] in ("answer", "clarify")
    await client.close()
    await desk.close()


async def test_agent_actions_on_cases_they_do_not_own_are_refused(live_server: LiveServer, agent_token: str,
                                                                  admin_token: str) -> None:
    client, session = await customer(live_server)
    await ask(client, "talk to an agent")
    owner, other = await agent(live_server, admin_token), await agent(live_server, agent_token)
    case_id = (await live_cases(live_server, agent_token, session["conversation_id"]))["id"]
    await owner.send({"type": "claim", "case_id": case_id, "ref": "own"})
    await owner.wait_for(is_type("ack", ref="own"))
    await other.send({"type": "message", "conversation_id": session["conversation_id"], "text": "hi", "ref": "m"})
    assert (await other.wait_for(is_type("error", ref="m")))["code"] == "not_owner"
    await other.send({"type": "resolve", "case_id": case_id, "ref": "r"})
    assert (await other.wait_for(is_type("error", ref="r")))["code"] == "not_owner"
    await other.send({"type": "claim", "case_id": case_id, "ref": "c"})
    assert (await other.wait_for(is_type("error", ref="c")))["code"] == "already_claimed"
    await owner.send({"type": "resolve", "case_id": case_id, "ref": "r1"})
    await owner.wait_for(is_type("ack", ref="r1"))
    await owner.send({"type": "resolve", "case_id": case_id, "ref": "r2"})  # double resolve
    assert (await owner.wait_for(is_type("error", ref="r2")))["code"] == "invalid_state"
    await owner.send({"type": "claim", "case_id": 999999, "ref": "nf"})
    assert (await owner.wait_for(is_type("error", ref="nf")))["code"] == "not_found"
    for c in (client, owner, other):
        await c.close()


async def test_internal_note_never_reaches_the_customer(live_server: LiveServer, agent_token: str) -> None:
    client, session = await customer(live_server)
    await ask(client, "speak to a human")
    desk = await agent(live_server, agent_token)
    case_id = (await live_cases(live_server, agent_token, session["conversation_id"]))["id"]
    await desk.send({"type": "claim", "case_id": case_id, "ref": "c"})
    await desk.wait_for(is_type("ack", ref="c"))
    secret = "INTERNAL: customer is a VIP, offer a refund " + mid()
    await desk.send({"type": "note", "conversation_id": session["conversation_id"], "text": secret, "ref": "n"})
    await desk.wait_for(is_type("ack", ref="n"))
    await desk.send({"type": "message", "conversation_id": session["conversation_id"], "text": "after the note",
                     "ref": "m"})
    await client.wait_for(lambda f: f.get("text") == "after the note")
    assert all(secret not in json.dumps(f) for f in client.frames)
    transcript = httpx.get(f"{live_server.base_url}/api/chat/transcript",
                           params={"token": session["token"], "format": "txt"})
    assert transcript.status_code == 200 and "after the note" in transcript.text and secret not in transcript.text
    await client.close()
    await desk.close()


async def test_repeated_client_msg_id_is_stored_once(live_server: LiveServer) -> None:
    client, session = await customer(live_server)
    await client.send({"type": "message", "text": "hello there", "client_msg_id": "dup-1"})
    first = await client.wait_for(is_type("message", client_msg_id="dup-1"))
    await client.wait_for(lambda f: f.get("sender") == "bot")
    await client.close()
    again, _ = await customer(live_server, token=session["token"])
    await again.send({"type": "message", "text": "hello there", "client_msg_id": "dup-1"})
    await again.send({"type": "resume", "last_seq": 0})
    await again.wait_for(lambda f: f.get("sender") == "bot")
    await asyncio.sleep(0.3)
    while True:
        try:
            await again.recv(timeout=0.3)
        except asyncio.TimeoutError:
            break
    copies = {f["seq"] for f in again.frames if f.get("client_msg_id") == "dup-1"}
    assert copies == {first["seq"]}
    transcript = httpx.get(f"{live_server.base_url}/api/chat/transcript", params={"token": session["token"], "format": "json"})
    assert [m["text"] for m in transcript.json()["messages"]].count("hello there") == 1
    await again.close()


@pytest.mark.parametrize("raw,code", [
    ("not json", "invalid_json"),
    ("[1,2]", "invalid_frame"),
    ('{"type":"dance"}', "unknown_type"),
    ('{"type":"message"}', "invalid_frame"),
    ('{"type":"message","text":42}', "invalid_frame"),
    ('{"type":"message","text":"   "}', "empty_text"),
    ('{"type":"message","text":"' + "x" * 4001 + '"}', "text_too_long"),
    ('{"type":"feedback","seq":"one","helpful":true}', "invalid_frame"),
    ('{"type":"feedback","seq":99999,"helpful":true}', "unknown_seq"),
    ('{"type":"message","text":"hi","client_msg_id":"bad id with spaces"}', "invalid_frame"),
    ('{"type":"rating","score":9}', "invalid_frame"),
])
async def test_bad_frames_get_a_clear_error_and_the_socket_stays_usable(live_server: LiveServer, raw: str,
                                                                        code: str) -> None:
    client, _ = await customer(live_server)
    await client.ws.send(raw)
    error = await client.wait_for(is_type("error"))
    assert error["code"] == code and error["detail"]
    await client.send({"type": "ping"})
    await client.wait_for(is_type("pong"))
    await client.close()


async def test_binary_frame_is_refused_and_oversized_frame_closes_1009(live_server: LiveServer) -> None:
    client, _ = await customer(live_server)
    await client.ws.send(b"\x00\x01binary")
    assert (await client.wait_for(is_type("error")))["code"] == "binary_not_supported"
    await client.ws.send("x" * 70_000)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await client.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_unknown_token_is_refused_with_1008(live_server: LiveServer) -> None:
    client = await Client.connect(f"{live_server.ws_url}/ws/chat?token=not-a-real-token")
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await client.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_agent_socket_needs_an_agent_login(live_server: LiveServer, editor_token: str) -> None:
    for url in (f"{live_server.ws_url}/ws/agent", f"{live_server.ws_url}/ws/agent?token=nope",
                f"{live_server.ws_url}/ws/agent?token={editor_token}"):
        client = await Client.connect(url)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await client.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_bot_preview_needs_an_editor_and_stores_nothing(live_server: LiveServer, editor_token: str,
                                                        agent_token: str) -> None:
    url = live_server.base_url + "/api/bot/preview"
    assert httpx.post(url, json={"text": "reset password"}).status_code == 401
    assert httpx.post(url, json={"text": "reset password"},
                      headers={"Authorization": f"Bearer {agent_token}"}).status_code == 403
    before = httpx.get(live_server.base_url + "/metrics").text
    r = httpx.post(url, json={"text": "how do I reset my password"}, headers={"Authorization": f"Bearer {editor_token}"})
    assert r.status_code == 200
    body = r.json()
    assert body["action"] == "answer" and body["article_id"] == "reset-password" and body["reason"] is None
    assert body["candidates"][0]["article_id"] == "reset-password" and 0 < body["confidence"] <= 1
    assert httpx.get(live_server.base_url + "/metrics").text.split("parley_messages_total")[1].split("\n")[0] == \
        before.split("parley_messages_total")[1].split("\n")[0]
    bad = httpx.post(url, json={"text": ""}, headers={"Authorization": f"Bearer {editor_token}"})
    assert bad.status_code == 422 and "text" in bad.json()["detail"]


def test_login_rejects_wrong_password_and_cases_need_an_agent(live_server: LiveServer, editor_token: str) -> None:
    r = httpx.post(live_server.base_url + "/api/auth/login", json={"email": "agent@parley.local", "password": "wrong"})
    assert r.status_code == 401
    assert httpx.get(live_server.base_url + "/api/cases").status_code == 401
    assert httpx.get(live_server.base_url + "/api/cases",
                     headers={"Authorization": f"Bearer {editor_token}"}).status_code == 403
    assert httpx.post(live_server.base_url + "/api/auth/login", content=b"{nope").status_code == 422


async def test_restart_keeps_the_conversation_and_resume_replays_what_was_missed(fresh_server: LiveServer) -> None:
    fresh_server.start()
    client, session = await customer(fresh_server)
    await ask(client, "how do I reset my password")
    await ask(client, "can I talk to a person")
    seen_before = max(f["seq"] for f in client.frames if "seq" in f)
    await client.close()
    token = fresh_server.login("agent@parley.local")
    desk = await agent(fresh_server, token)
    case_id = (await live_cases(fresh_server, token, session["conversation_id"]))["id"]
    await desk.send({"type": "claim", "case_id": case_id, "ref": "c"})
    await desk.wait_for(is_type("ack", ref="c"))
    await desk.send({"type": "message", "conversation_id": session["conversation_id"], "text": "sent while you were away"})
    await desk.wait_for(lambda f: f["type"] == "event" and f["event"]["text"] == "sent while you were away")
    await desk.close()

    fresh_server.stop()
    fresh_server.start()

    back = await Client.connect(f"{fresh_server.ws_url}/ws/chat?token={session['token']}&last_seq={seen_before}")
    hello = await back.recv()
    assert hello["type"] == "session" and hello["resumed"] and hello["conversation_id"] == session["conversation_id"]
    assert hello["status"] == "assigned"
    missed = await back.wait_for(lambda f: f.get("text") == "sent while you were away")
    assert missed["seq"] > seen_before
    replayed = [f["seq"] for f in back.frames if "seq" in f]
    assert replayed == sorted(set(replayed)) and min(replayed) > seen_before  # nothing twice, nothing old
    token = fresh_server.login("agent@parley.local")
    r = httpx.get(f"{fresh_server.base_url}/api/cases/{case_id}", headers={"Authorization": f"Bearer {token}"})
    texts = [e["text"] for e in r.json()["transcript"]]
    assert "how do I reset my password" in texts and "sent while you were away" in texts
    await back.close()


async def test_writing_after_resolution_reopens_to_the_bot_with_a_notice(live_server: LiveServer, agent_token: str) -> None:
    client, session = await customer(live_server)
    await ask(client, "human please")
    desk = await agent(live_server, agent_token)
    case_id = (await live_cases(live_server, agent_token, session["conversation_id"]))["id"]
    await desk.send({"type": "claim", "case_id": case_id, "ref": "c"})
    await desk.wait_for(is_type("ack", ref="c"))
    await desk.send({"type": "resolve", "case_id": case_id, "ref": "r"})
    await client.wait_for(is_type("handoff", status="resolved"))
    await client.send({"type": "message", "text": "one more thing: how do I reset my password", "client_msg_id": mid()})
    notice = await client.wait_for(is_type("handoff", status="bot"))
    assert notice["reason"] == "reopened" and notice["text"]
    answer = await client.wait_for(lambda f: f.get("type") == "message" and f["sender"] == "bot")
    assert answer["article"]["id"] == "reset-password" and answer["seq"] > notice["seq"]
    await client.close()
    await desk.close()


async def test_a_refused_message_error_names_its_client_msg_id(live_server: LiveServer) -> None:
    client, session = await customer(live_server)
    assert session["last_public_seq"] == 0
    await client.send({"type": "message", "text": "x" * 5000, "client_msg_id": "too-long-1"})
    error = await client.wait_for(is_type("error"))
    assert error["code"] == "text_too_long" and error["client_msg_id"] == "too-long-1"
    await client.close()
