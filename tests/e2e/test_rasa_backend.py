"""Rasa as the bot: a real Rasa 3.6 server behind a real Parley server, driven over websockets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import Client, LiveServer, copy_data, is_type

PROJECT = Path(__file__).resolve().parents[1] / "rasa_project"


def rasa_responses(name: str) -> list[str]:
    import yaml

    domain = yaml.safe_load((PROJECT / "domain.yml").read_text(encoding="utf-8"))
    return [r["text"] for r in domain["responses"][name]]


@pytest.fixture(scope="module")
def rasa_parley(rasa_server: str, demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(copy_data(demo_template, tmp_path_factory.mktemp("rasa-parley")),
                        PARLEY_BOT_BACKEND="rasa", PARLEY_RASA_URL=rasa_server, PARLEY_RASA_TIMEOUT_SECONDS="20")
    server.start()
    yield server
    server.stop()


async def test_rasa_answers_escalates_on_its_handoff_intent_and_resumes_after_hand_back(rasa_parley: LiveServer) -> None:
    customer = await Client.connect(f"{rasa_parley.ws_url}/ws/chat")
    session = await customer.recv()
    conversation = session["conversation_id"]

    await customer.send({"type": "message", "text": "how much is shipping?", "client_msg_id": "r1"})
    reply = await customer.wait_for(lambda f: f.get("type") == "message" and f["sender"] == "bot", timeout=30)
    assert reply["text"] in rasa_responses("utter_faq/ask_shipping_cost")  # Rasa's response, through Parley's socket

    # Parley's own rules do not know this phrase; Rasa's human_handoff intent does.
    await customer.send({"type": "message", "text": "please escalate my ticket", "client_msg_id": "r2"})
    queued = await customer.wait_for(is_type("handoff", status="queued"), timeout=30)
    assert queued["reason"] == "customer_request"

    token = rasa_parley.login("agent@parley.local")
    headers = {"Authorization": f"Bearer {token}"}
    case = next(c for c in httpx.get(f"{rasa_parley.base_url}/api/cases?status=queued", headers=headers).json()
                if c["conversation_id"] == conversation)
    assert "human_handoff" in [c["article_id"] for c in case["packet"]["candidates"]]  # decided by Rasa's NLU
    bot_turns = [e["text"] for e in case["transcript"] if e["sender"] == "bot"]
    assert reply["text"] in bot_turns  # Rasa's turns are in the transcript

    desk = await Client.connect(f"{rasa_parley.ws_url}/ws/agent?token={token}")
    await desk.wait_for(is_type("queue"))
    await desk.send({"type": "claim", "case_id": case["id"], "ref": "c"})
    await desk.wait_for(is_type("ack", ref="c"))
    await customer.send({"type": "message", "text": "what are your opening hours?", "client_msg_id": "r3"})
    await desk.wait_for(lambda f: f["type"] == "event" and f["event"]["text"] == "what are your opening hours?")
    await desk.send({"type": "message", "conversation_id": conversation, "text": "We open at nine.", "ref": "m"})
    await customer.wait_for(lambda f: f.get("sender") == "agent" and f["text"] == "We open at nine.")
    await desk.send({"type": "hand_back", "case_id": case["id"], "ref": "hb"})
    await customer.wait_for(is_type("handoff", status="bot"))

    await customer.send({"type": "message", "text": "what is your return policy", "client_msg_id": "r4"})
    back = await customer.wait_for(lambda f: f.get("type") == "message" and f["sender"] == "bot"
                                   and f["seq"] > queued["seq"], timeout=30)
    assert back["text"] in rasa_responses("utter_faq/ask_return_policy")  # Rasa picks one variation
    after_claim = [f for f in customer.frames if f.get("type") == "message" and f["sender"] == "bot"
                   and queued["seq"] < f["seq"] < back["seq"]]
    assert after_claim == []  # while the agent owned the chat, Rasa said nothing
    await customer.close()
    await desk.close()
