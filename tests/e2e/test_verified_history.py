"""Verified customers over a real server: a customer whose user id the site signed sees their
earlier conversations and can read one; the same user id without a valid HMAC sees nothing."""

from __future__ import annotations

import hashlib
import hmac

import httpx

from tests.harness import Client, LiveServer, is_type

SHOP = "https://shop.example.com"


def signed(secret: str, user_id: str, email: str = "", name: str = "") -> str:
    return hmac.new(secret.encode(), "\n".join([user_id, email, name]).encode(), hashlib.sha256).hexdigest()


async def visit(server: LiveServer, key: str, identify: dict) -> tuple[Client, dict, dict]:
    client = await Client.connect(f"{server.ws_url}/ws/chat?key={key}", origin=SHOP)
    session = await client.recv()
    await client.send({"type": "identify", **identify})
    reply = await client.wait_for(lambda f: f["type"] in ("identify", "error"))
    return client, session, reply


async def no_history(client: Client) -> None:
    """Nothing follows the identify reply but the answer to a ping: no history frame."""
    await client.send({"type": "ping"})
    await client.wait_for(is_type("pong"))
    assert client.seen("history") == []


async def test_a_verified_customer_sees_their_earlier_conversations_and_a_claim_sees_nothing(
        live_server: LiveServer, admin_token: str) -> None:
    r = httpx.post(live_server.base_url + "/api/admin/sites", headers={"Authorization": f"Bearer {admin_token}"},
                   json={"name": "History shop", "key": "histshop", "allowed_origins": [SHOP]}, timeout=30)
    assert r.status_code == 201, r.text
    secret = r.json()["identity_secret"]
    ann = {"user_id": "u-42", "email": "ann@example.com", "name": "Ann"}

    first, _, reply = await visit(live_server, "histshop", {**ann, "user_hash": signed(secret, **ann)})
    assert reply == {"type": "identify", "verified": True, "name": "Ann", "greeting": "Welcome back, Ann!"}
    assert (await first.wait_for(is_type("history")))["conversations"] == []  # nothing earlier yet
    await first.send({"type": "message", "text": "My parcel never arrived", "client_msg_id": "a1"})
    await first.wait_for(is_type("message", sender="bot"), timeout=30)
    old_id = next(f["conversation_id"] for f in first.frames if f["type"] == "session")
    await first.close()

    # someone else claims the same user id and email, unsigned or with a wrong hash: nothing
    for claim in ({**ann}, {**ann, "user_hash": "0" * 64}, {**ann, "user_hash": signed("not-the-secret", **ann)}):
        intruder, _, reply = await visit(live_server, "histshop", claim)
        assert reply["type"] == "identify" and reply["verified"] is False and "name" not in reply
        await no_history(intruder)
        await intruder.send({"type": "history_open", "conversation_id": old_id})
        refused = await intruder.wait_for(is_type("error"))
        assert refused["code"] == "not_found" and refused["frame"] == "history_open"
        assert intruder.seen("history_transcript") == []
        await intruder.close()

    # the real Ann comes back: her earlier conversation is listed (not the intruders'), and opens read-only
    again, _, reply = await visit(live_server, "histshop", {**ann, "user_hash": signed(secret, **ann)})
    assert reply["name"] == "Ann"
    history = (await again.wait_for(is_type("history")))["conversations"]
    assert [h["conversation_id"] for h in history] == [old_id]
    assert history[0]["first_message"] == "My parcel never arrived" and history[0]["created_at"]
    await again.send({"type": "history_open", "conversation_id": old_id})
    transcript = await again.wait_for(is_type("history_transcript"))
    senders = [m["sender"] for m in transcript["messages"]]
    assert transcript["messages"][0]["text"] == "My parcel never arrived" and senders[:2] == ["customer", "bot"]
    # a conversation that is not one of hers is refused like one that does not exist
    await again.send({"type": "history_open", "conversation_id": "c_" + "0" * 24})
    assert (await again.wait_for(is_type("error")))["code"] == "not_found"
    await again.send({"type": "history_open", "conversation_id": "../etc"})
    assert (await again.wait_for(is_type("error")))["code"] == "invalid_frame"
    await again.close()

    # a hash over the user id alone verifies the id (history shown) but not the name (no greeting)
    legacy = hmac.new(secret.encode(), b"u-42", hashlib.sha256).hexdigest()
    by_id, _, reply = await visit(live_server, "histshop", {"user_id": "u-42", "user_hash": legacy})
    assert reply == {"type": "identify", "verified": True}
    assert old_id in [h["conversation_id"] for h in (await by_id.wait_for(is_type("history")))["conversations"]]
    await by_id.close()
