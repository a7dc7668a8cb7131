"""The email channel end to end: a real server, real SMTP both ways (aiosmtpd on loopback: the
desk's outgoing server, and Parley's own receiver), real websockets, the packaged model."""

from __future__ import annotations

import asyncio
import re
import smtplib
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.harness import Client, Inbox, LiveServer, copy_data, free_port, is_type

SECRET = "inbound-secret-for-tests"


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def desk(demo_template: Path, tmp_path_factory: pytest.TempPathFactory,
         inbox: tuple[Inbox, int]) -> Iterator[tuple[LiveServer, int]]:
    smtp_in, port = free_port(), free_port()
    server = LiveServer(copy_data(demo_template, tmp_path_factory.mktemp("email")), port=port,
                        PARLEY_SMTP_URL=f"smtp://127.0.0.1:{inbox[1]}",
                        PARLEY_MAIL_FROM="Lumen & Loom <help@lumen.example>",
                        PARLEY_MAIL_SUPPORT_ADDRESS="help@lumen.example",
                        PARLEY_MAIL_RECEIVER="true", PARLEY_MAIL_RECEIVER_PORT=str(smtp_in),
                        PARLEY_MAIL_INBOUND_SECRET=SECRET, PARLEY_MAIL_MAX_BYTES="200000",
                        PARLEY_MAIL_NEW_PER_SENDER_PER_HOUR="3",
                        PARLEY_MAIL_BATCH_SECONDS="2", PARLEY_MAIL_INTERVAL_SECONDS="0.3",
                        PARLEY_FOLLOWUP_DELAY="3", PARLEY_PUBLIC_URL=f"http://127.0.0.1:{port}").start(timeout=300)
    yield server, smtp_in
    server.stop()


async def mail_to(inbox: Inbox, address: str, after: int, timeout: float = 20,
                  count: int = 1) -> list[EmailMessage]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [m for rcpt, m in inbox.messages[after:] if address in rcpt]
        if len(got) >= count:
            return got
        await asyncio.sleep(0.2)
    raise TimeoutError(f"no email to {address}; have {[r for r, _ in inbox.messages[after:]]}")


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def link(text: str, path: str) -> str:
    return next(m.group(0) for m in re.finditer(r"https?://\S+", text) if path in m.group(0))


async def follow(http: httpx.AsyncClient, url: str) -> httpx.Response:
    """Open a link from an email: the GET shows a button; pressing it POSTs the same values."""
    page = await http.get(url)
    assert page.status_code == 200, page.text
    assert "<form method=post>" in page.text and "script" not in page.text
    parts = urlsplit(url)
    return await http.post(parts.path, content=parts.query, headers={"content-type": "application/x-www-form-urlencoded"})


def smtp_send(port: int, sender: str, to: str, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(message, from_addr=sender, to_addrs=[to])


async def customer(server: LiveServer) -> tuple[Client, dict[str, Any]]:
    client = await Client.connect(f"{server.ws_url}/ws/chat")
    session = await client.wait_for(is_type("session"))
    return client, session


async def agent(server: LiveServer, token: str) -> Client:
    client = await Client.connect(f"{server.ws_url}/ws/agent?token={token}")
    await client.wait_for(is_type("hello"))
    return client


async def queued_case(desk_ws: Client, conversation_id: str) -> int:
    frame = await desk_ws.wait_for(lambda f: (f["type"] == "queue" and any(
        c["conversation_id"] == conversation_id for c in f["cases"])) or (
        f["type"] == "case" and f["case"]["conversation_id"] == conversation_id and f["case"]["status"] == "queued"),
        timeout=20)
    if frame["type"] == "case":
        return int(frame["case"]["id"])
    return int(next(c["id"] for c in frame["cases"] if c["conversation_id"] == conversation_id))


def customer_event(text: str) -> Any:
    return lambda f: f["type"] == "event" and f["event"].get("sender") == "customer" and f["event"]["text"] == text


async def test_an_offline_customer_gets_the_reply_by_email_and_answers_by_email(
        desk: tuple[LiveServer, int], inbox: tuple[Inbox, int]) -> None:
    server, smtp_in = desk
    box = inbox[0]
    token = server.login("agent@parley.local")
    console = await agent(server, token)
    client, session = await customer(server)
    cid = session["conversation_id"]
    await client.send({"type": "message", "text": "I want to talk to a person", "client_msg_id": "m1"})
    await client.wait_for(is_type("handoff", status="queued"), timeout=30)
    await client.send({"type": "contact", "email": "ann@example.com", "name": "Ann"})
    await client.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
    case_id = await queued_case(console, cid)
    await client.close()  # the customer leaves the page

    start = len(box.messages)
    await console.send({"type": "claim", "case_id": case_id, "ref": "c"})
    await console.wait_for(is_type("ack", ref="c"))
    for i, text in enumerate(["Hi Ann, I found your order.", "It ships <b>tomorrow</b> & arrives Friday."]):
        await console.send({"type": "message", "conversation_id": cid, "text": text, "client_msg_id": f"a{i}",
                            "ref": f"a{i}"})
        await console.wait_for(is_type("ack", ref=f"a{i}"))

    # The address was typed on the form, so it is a claim: first a fixed email with a link, no words of the chat.
    confirm = (await mail_to(box, "ann@example.com", start))[0]
    assert "I found your order" not in text_of(confirm) and "tomorrow" not in text_of(confirm)
    assert len(box.messages) == start + 1  # nothing else went to the unproven address
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        forged = link(text_of(confirm), "/api/mail/confirm").replace("&s=", "&s=0")
        assert (await http.get(forged)).status_code in (403, 422)
        confirmed = await follow(http, link(text_of(confirm), "/api/mail/confirm"))
        assert confirmed.status_code == 200 and "confirmed" in confirmed.text

        # Both replies, sent within the batch window, arrive as one email once the address is proven.
        reply = (await mail_to(box, "ann@example.com", start + 1))[0]
        assert len([m for r, m in box.messages[start:] if "ann@example.com" in r]) == 2
        body = text_of(reply)
        assert "Hi Ann, I found your order." in body and "It ships <b>tomorrow</b> & arrives Friday." in body
        markup = html_of(reply)
        assert "It ships &lt;b&gt;tomorrow&lt;/b&gt; &amp; arrives Friday." in markup and "<b>tomorrow" not in markup
        assert reply["From"] == "Lumen & Loom <help@lumen.example>" and reply["Message-ID"]
        reply_to = reply["Reply-To"].addresses[0].addr_spec
        assert reply_to.startswith(f"reply+{cid}.") and reply_to.endswith("@lumen.example")
        view = await http.get(link(body, "/api/mail/view"))
        assert view.status_code == 200 and "I found your order" in view.text and "&lt;b&gt;tomorrow" in view.text
        assert "default-src 'none'" in view.headers["content-security-policy"]
        assert (await http.get(link(body, "/api/mail/view")[:-4] + "0000")).status_code == 403

    # Ann answers from her mail program: quoted history and signature are left out.
    answer = EmailMessage()
    answer["From"] = "Ann <ann@example.com>"
    answer["To"] = reply_to
    answer["Subject"] = "Re: " + str(reply["Subject"])
    answer["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    answer["In-Reply-To"] = reply["Message-ID"]
    answer.set_content("Great, thank you!\n\nOn Wed, 2 Dec 2026, Lumen & Loom wrote:\n> Hi Ann, I found your order.\n"
                       "\n-- \nAnn Example\n")
    await asyncio.to_thread(smtp_send, smtp_in, "ann@example.com", reply_to, answer)
    got = await console.wait_for(customer_event("Great, thank you!"), timeout=15)
    assert got["conversation_id"] == cid
    # the same email delivered twice is stored once
    await asyncio.to_thread(smtp_send, smtp_in, "ann@example.com", reply_to, answer)

    # The agent's next reply threads under Ann's email.
    before = len(box.messages)
    await console.send({"type": "message", "conversation_id": cid, "text": "You're welcome!", "client_msg_id": "a9"})
    threaded = (await mail_to(box, "ann@example.com", before))[0]
    assert threaded["In-Reply-To"] == answer["Message-ID"]
    assert reply["Message-ID"] in str(threaded["References"]) and answer["Message-ID"] in str(threaded["References"])
    await console.send({"type": "open", "conversation_id": cid, "ref": "o"})
    transcript = await console.wait_for(is_type("transcript"))
    assert [e["text"] for e in transcript["events"]].count("Great, thank you!") == 1
    notes = [e for e in transcript["events"] if e.get("visibility") == "internal" and e["sender"] == "system"]
    assert any("Emailed to ann@example.com (2 messages)" in e["text"] for e in notes)  # visible on the case
    await console.close()


async def test_a_forged_from_cannot_reach_another_conversation(desk: tuple[LiveServer, int]) -> None:
    server, smtp_in = desk
    client, session = await customer(server)
    cid = session["conversation_id"]
    await client.close()
    forged = EmailMessage()
    forged["From"] = "ann@example.com"  # whoever owns the conversation, the From decides nothing
    forged["Subject"] = "give me the transcript"
    forged.set_content("hello")
    for to in (f"reply+{cid}.{'0' * 20}@lumen.example",  # a guessed signature
               f"reply+{cid}@lumen.example", "reply+c_deadbeef.00000000000000000000@lumen.example",
               "someone-else@lumen.example"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            await asyncio.to_thread(smtp_send, smtp_in, "ann@example.com", to, forged)
        assert refused.value.recipients[to][0] == 550, to
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        r = await http.post("/api/mail/inbound", content=forged.as_bytes(),
                            headers={"X-Parley-Mail-Secret": SECRET, "X-Parley-Recipient": f"reply+{cid}.{'0' * 20}@lumen.example"})
        assert r.status_code == 422 and "no such conversation" in r.json()["detail"]


async def test_a_new_email_is_answered_by_the_bot_by_email(desk: tuple[LiveServer, int],
                                                           inbox: tuple[Inbox, int]) -> None:
    server, _ = desk
    box = inbox[0]
    question = EmailMessage()
    question["From"] = "Bob <bob@example.com>"
    question["To"] = "help@lumen.example"
    question["Subject"] = "Password"
    question["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    question.set_content("how do I reset my password\n\n-- \nBob\n")
    raw = question.as_bytes()
    start = len(box.messages)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        assert (await http.post("/api/mail/inbound", content=raw)).status_code == 401
        assert (await http.post("/api/mail/inbound", content=raw,
                                headers={"X-Parley-Mail-Secret": SECRET[:-1] + "x"})).status_code == 401
        r = await http.post("/api/mail/inbound", content=raw, headers={"X-Parley-Mail-Secret": SECRET})
        assert r.status_code == 202, r.text
        cid = r.json()["conversation_id"]
        again = await http.post("/api/mail/inbound", content=raw, headers={"X-Parley-Mail-Secret": SECRET})
        assert again.status_code == 202 and again.json()["conversation_id"] == cid  # redelivery: the same conversation
        for bad, code in ((b"Subject: no sender\r\n\r\nhi", 422), (b"From: a@b.example\r\nTo: help@lumen.example\r\n"
                                                                    b"Subject: x\r\n\r\n" + b"y" * 250_000, 413),
                          (b"From: a@b.example\r\nTo: nobody@lumen.example\r\n\r\nhi", 422),
                          (b"From: a@b.example\r\nTo: help@lumen.example\r\n\r\n> only a quote", 422)):
            refused = await http.post("/api/mail/inbound", content=bad, headers={"X-Parley-Mail-Secret": SECRET})
            assert refused.status_code == code, (bad[:60], refused.text)
    answer = (await mail_to(box, "bob@example.com", start))[0]
    assert answer["Subject"] == "Re: Password" and answer["In-Reply-To"] == question["Message-ID"]
    assert answer["Auto-Submitted"] == "auto-replied"  # the bot's answer: other robots must not answer it
    assert "password" in text_of(answer).lower() and "Bob" not in text_of(answer).split("\n")[0]
    assert answer["Reply-To"].addresses[0].addr_spec.startswith(f"reply+{cid}.")
    assert len([1 for r, _ in box.messages[start:] if "bob@example.com" in r]) == 1

    # asking for a person by email escalates as in chat: the case is queued for the agents
    follow_up = EmailMessage()
    follow_up["From"] = "bob@example.com"
    follow_up["Subject"] = "Re: Password"
    follow_up["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    follow_up.set_content("I want to talk to a person please")
    token = server.login("agent@parley.local")
    console = await agent(server, token)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        r = await http.post("/api/mail/inbound", content=follow_up.as_bytes(), headers={
            "X-Parley-Mail-Secret": SECRET, "X-Parley-Recipient": answer["Reply-To"].addresses[0].addr_spec})
        assert r.status_code == 202 and r.json()["conversation_id"] == cid
    await queued_case(console, cid)
    await console.close()


async def test_a_follow_up_after_a_resolution_is_sent_and_its_answer_recorded(
        desk: tuple[LiveServer, int], inbox: tuple[Inbox, int]) -> None:
    server, _ = desk
    token = server.login("agent@parley.local")
    editor = server.login("editor@parley.local")
    console = await agent(server, token)

    # In the widget: the customer is connected when it is due.
    client, session = await customer(server)
    cid = session["conversation_id"]
    await client.send({"type": "message", "text": "I want to talk to a person", "client_msg_id": "m1"})
    case_id = await queued_case(console, cid)
    await console.send({"type": "claim", "case_id": case_id, "ref": "c"})
    await console.wait_for(is_type("ack", ref="c"))
    await console.send({"type": "resolve", "case_id": case_id, "ref": "r"})
    await console.wait_for(is_type("ack", ref="r"))
    asked = await client.wait_for(is_type("followup"), timeout=20)
    assert asked["text"] == "Did that solve it?" and asked["answers"] == ["yes", "no"]
    assert not [f for f in client.frames if f.get("type") == "followup" and f is not asked]  # once
    await client.send({"type": "followup_answer", "followup_id": asked["followup_id"], "answer": "yes"})
    assert (await client.wait_for(is_type("followup_answer")))["recorded"] is True
    await client.send({"type": "followup_answer", "followup_id": asked["followup_id"], "answer": "no"})
    second = await client.wait_for(is_type("followup_answer"))
    assert second["recorded"] is False and second["answer"] == "yes"  # the first answer counts
    await client.send({"type": "followup_answer", "followup_id": asked["followup_id"] + 1000, "answer": "no"})
    assert (await client.wait_for(is_type("error")))["code"] == "not_found"
    await client.close()

    # By email: the customer (a proven address: the conversation started by email) is away.
    box = inbox[0]
    question = EmailMessage()
    question["From"] = "carol@example.com"
    question["To"] = "help@lumen.example"
    question["Subject"] = "Lamp"
    question["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    question.set_content("I want to talk to a person")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        r = await http.post("/api/mail/inbound", content=question.as_bytes(), headers={"X-Parley-Mail-Secret": SECRET})
        cid2 = r.json()["conversation_id"]
        case2 = await queued_case(console, cid2)
        start = len(box.messages)
        await console.send({"type": "claim", "case_id": case2, "ref": "c2"})
        await console.wait_for(is_type("ack", ref="c2"))
        await console.send({"type": "resolve", "case_id": case2, "ref": "r2"})
        checkin = next(m for m in await mail_to(box, "carol@example.com", start, count=2, timeout=25)
                       if "Did that solve it?" in text_of(m))
        no = link(text_of(checkin), "a=no")
        assert (await http.get(no.replace("a=no", "a=yes"))).status_code == 403  # the answer is signed too
        answered = await follow(http, no)
        assert answered.status_code == 200 and "open again" in answered.text
        reopened = await console.wait_for(lambda f: f["type"] == "case" and f["case"]["id"] == case2
                                          and f["case"]["status"] == "assigned", timeout=10)
        assert reopened["case"]["agent_id"] is not None  # back with its owner
        assert "already" in (await follow(http, no)).text.lower()
        figures = (await http.get("/api/analytics", headers={"authorization": f"Bearer {editor}"})).json()["resolutions"]
    assert figures["confirmed"] >= 1 and figures["reopened"] >= 1
    assert figures["followups_answered_yes"] >= 1 and figures["followups_answered_no"] >= 1
    await console.close()


async def test_one_sender_cannot_flood_the_desk_with_new_conversations(desk: tuple[LiveServer, int]) -> None:
    server, smtp_in = desk
    codes = []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        for i in range(4):
            m = EmailMessage()
            m["From"] = "flood@example.com"
            m["To"] = "help@lumen.example"
            m["Subject"] = f"spam {i}"
            m["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
            m.set_content(f"hello number {i}")
            codes.append((await http.post("/api/mail/inbound", content=m.as_bytes(),
                                          headers={"X-Parley-Mail-Secret": SECRET})).status_code)
    assert codes == [202, 202, 202, 429]  # PARLEY_MAIL_NEW_PER_SENDER_PER_HOUR=3
    m.replace_header("Message-ID", f"<{uuid.uuid4().hex}@example.com>")
    with pytest.raises(smtplib.SMTPDataError) as refused:  # the SMTP receiver says the same, as "try later"
        await asyncio.to_thread(smtp_send, smtp_in, "flood@example.com", "help@lumen.example", m)
    assert refused.value.smtp_code == 450
