"""The email channel when things go wrong: the desk's SMTP server is down (failures on the case,
bounded retries, delivery once it is back), and a server restart between a transfer and its
follow-up (scheduled in the database: sent once after the restart)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.e2e.test_email_channel import agent, customer, mail_to, queued_case
from tests.harness import Client, Inbox, LiveServer, copy_data, free_port, is_type

SECRET = "delivery-secret"


@pytest.fixture(scope="module")
def smtp_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def flaky(demo_template: Path, tmp_path_factory: pytest.TempPathFactory, smtp_port: int) -> Iterator[LiveServer]:
    port = free_port()
    server = LiveServer(copy_data(demo_template, tmp_path_factory.mktemp("flaky")), port=port,
                        PARLEY_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",  # nothing listens there yet
                        PARLEY_MAIL_FROM="Lumen & Loom <help@lumen.example>",
                        PARLEY_MAIL_SUPPORT_ADDRESS="help@lumen.example", PARLEY_MAIL_INBOUND_SECRET=SECRET,
                        PARLEY_MAIL_BATCH_SECONDS="0", PARLEY_MAIL_INTERVAL_SECONDS="0.3",
                        PARLEY_MAIL_MAX_ATTEMPTS="3", PARLEY_MAIL_RETRY_SECONDS="2",
                        PARLEY_FOLLOWUP_DELAY="8", PARLEY_PUBLIC_URL=f"http://127.0.0.1:{port}").start(timeout=300)
    yield server
    server.stop()


async def new_email(server: LiveServer, sender: str, text: str) -> str:
    question = EmailMessage()
    question["From"] = sender
    question["To"] = "help@lumen.example"
    question["Subject"] = "Question"
    question["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    question.set_content(text)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        r = await http.post("/api/mail/inbound", content=question.as_bytes(), headers={"X-Parley-Mail-Secret": SECRET})
    assert r.status_code == 202, r.text
    return str(r.json()["conversation_id"])


def note(action: str, **fields: Any) -> Any:
    return lambda f: (f["type"] == "event" and f["event"].get("visibility") == "internal"
                      and f["event"]["data"].get("action") == action
                      and all(f["event"]["data"].get(k) == v for k, v in fields.items()))


async def test_failed_deliveries_show_on_the_case_and_are_retried_until_the_server_is_back(
        flaky: LiveServer, smtp_port: int) -> None:
    console = await agent(flaky, flaky.login("agent@parley.local"))
    cid = await new_email(flaky, "dan@example.com", "how do I reset my password")
    await console.send({"type": "open", "conversation_id": cid, "ref": "o"})
    first = await console.wait_for(note("email_failed", attempt=1), timeout=20)
    assert "attempt 1 of 3" in first["event"]["text"] and "Retrying" in first["event"]["text"]
    assert first["event"]["data"]["final"] is False
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()  # the mail server is back before the next attempt
    try:
        sent = await console.wait_for(note("email_sent"), timeout=20)
        assert "Emailed to dan@example.com" in sent["event"]["text"]
        got = await mail_to(inbox, "dan@example.com", 0)
        assert len(got) == 1 and "password" in got[0].get_body(preferencelist=("plain",)).get_content().lower()
    finally:
        controller.stop()

    # Down for good: three attempts in all, then it gives up, and says so on the case.
    cid2 = await new_email(flaky, "erin@example.com", "how do I reset my password")
    await console.send({"type": "open", "conversation_id": cid2, "ref": "o2"})
    last = await console.wait_for(note("email_failed", attempt=3), timeout=40)
    assert last["event"]["data"]["final"] is True and "Gave up" in last["event"]["text"]
    transcript = [f for f in console.frames if f["type"] == "event" and f["conversation_id"] == cid2
                  and f["event"]["data"].get("action") == "email_failed"]
    assert [f["event"]["data"]["attempt"] for f in transcript] == [1, 2, 3]
    await console.close()


async def test_a_follow_up_after_a_transfer_survives_a_restart_and_is_sent_once(flaky: LiveServer) -> None:
    owner = await agent(flaky, flaky.login("agent@parley.local"))
    admin_token = flaky.login("admin@parley.local")
    client, session = await customer(flaky)
    cid, token = session["conversation_id"], session["token"]
    await client.send({"type": "message", "text": "I want to talk to a person", "client_msg_id": "m1"})
    case_id = await queued_case(owner, cid)
    await owner.send({"type": "claim", "case_id": case_id, "ref": "c"})
    await owner.wait_for(is_type("ack", ref="c"))
    async with httpx.AsyncClient(base_url=flaky.base_url, timeout=30) as http:
        me = (await http.get("/api/auth/me", headers={"authorization": f"Bearer {admin_token}"})).json()
    await owner.send({"type": "transfer", "case_id": case_id, "agent_id": me["id"], "ref": "t"})
    await owner.wait_for(is_type("ack", ref="t"))
    last_seq = (await client.wait_for(lambda f: f["type"] == "handoff" and f["status"] == "assigned"
                                      and (f.get("agent") or {}).get("id") == me["id"]))["seq"]
    await client.close()
    await owner.close()

    flaky.stop()  # the follow-up is only a row in the database now
    flaky.start(timeout=300)
    await asyncio.sleep(10)  # past its due time: sent while the customer is away

    back = await Client.connect(f"{flaky.ws_url}/ws/chat?token={token}&last_seq={last_seq}")
    await back.wait_for(is_type("session"))
    asked = await back.wait_for(is_type("followup"), timeout=20)
    assert asked["text"] == "Did that solve it?"
    await back.send({"type": "followup_answer", "followup_id": asked["followup_id"], "answer": "no"})
    assert (await back.wait_for(is_type("followup_answer")))["recorded"] is True
    told = await back.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
    assert "agent has been told" in told["text"]
    await back.close()

    again = await Client.connect(f"{flaky.ws_url}/ws/chat?token={token}&last_seq=0")
    await again.wait_for(is_type("session"))
    await asyncio.sleep(3)
    while True:
        try:
            await again.recv(timeout=1)
        except (asyncio.TimeoutError, TimeoutError):
            break
    assert len(again.seen("followup")) == 1  # sent once, restart or not
    await again.close()
