"""Emailing the customer's transcript, through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from app.config import Settings
from app.mail import MailError, compose, parse_smtp_url, send
from tests.harness import Client, Inbox, LiveServer, copy_data, free_port


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def mail_server(demo_template: Path, tmp_path_factory: pytest.TempPathFactory,
                inbox: tuple[Inbox, int]) -> Iterator[LiveServer]:
    server = LiveServer(copy_data(demo_template, tmp_path_factory.mktemp("mail")),
                        PARLEY_SMTP_URL=f"smtp://127.0.0.1:{inbox[1]}",
                        PARLEY_MAIL_FROM="Lumen & Loom <help@lumen.example>").start()
    yield server
    server.stop()


async def chat(server: LiveServer, question: str) -> tuple[dict[str, Any], str]:
    """A customer asks one question and gets the bot's answer; returns the session frame and the answer."""
    client = await Client.connect(f"{server.ws_url}/ws/chat")
    try:
        session = await client.wait_for(lambda f: f["type"] == "session")
        await client.send({"type": "message", "text": question, "client_msg_id": "q1"})
        answer = await client.wait_for(lambda f: f["type"] == "message" and f["sender"] == "bot", timeout=30)
        return session, answer["text"]
    finally:
        await client.ws.close()


async def test_the_customer_gets_the_transcript_by_email_once_the_address_is_proven(
        mail_server: LiveServer, inbox: tuple[Inbox, int]) -> None:
    session, answer = await chat(mail_server, "how do I reset my password")
    assert session["email_transcript"] is True  # the widget offers it only when the desk can send
    async with httpx.AsyncClient(base_url=mail_server.base_url, timeout=30) as http:
        r = await http.post("/api/chat/transcript/email", json={"token": session["token"], "email": "ann@example.com"})
        assert r.status_code == 202, r.text
        assert r.json() == {"sent": False, "confirmation_sent": True, "email": "ann@example.com"}
        # first a fixed confirmation email: none of the conversation's words reach an unproven address
        recipients, confirm = inbox[0].messages[-1]
        assert recipients == ["ann@example.com"] and confirm["Subject"] == "Confirm your email to receive your transcript"
        text = confirm.get_content().replace("\r\n", "\n")
        assert "reset my password" not in text and answer.splitlines()[0] not in text
        link = next(line for line in text.splitlines() if "/api/chat/transcript/confirm?" in line)
        sent_before = len(inbox[0].messages)
        forged = await http.get(link.split("k=")[0] + "k=" + "x" * 32)
        assert forged.status_code == 403 and len(inbox[0].messages) == sent_before  # a guessed code sends nothing
        followed = await http.get(link)
        assert followed.status_code == 200 and "on its way" in followed.text
        assert (await http.get(link)).status_code == 403  # the code is spent
        download = (await http.get("/api/chat/transcript", params={"token": session["token"]})).text
    recipients, message = inbox[0].messages[-1]
    assert recipients == ["ann@example.com"]
    assert message["To"] == "ann@example.com" and message["From"] == "Lumen & Loom <help@lumen.example>"
    assert message["Subject"] == "Your conversation transcript"
    body = message.get_content().replace("\r\n", "\n")  # SMTP carries lines as CRLF
    assert body == download  # the same text as the download: public messages only
    assert "how do I reset my password" in body and answer.splitlines()[0] in body


async def test_bad_requests_are_refused_and_send_nothing(mail_server: LiveServer, inbox: tuple[Inbox, int]) -> None:
    session, _ = await chat(mail_server, "hello")
    token = session["token"]
    before = len(inbox[0].messages)
    async with httpx.AsyncClient(base_url=mail_server.base_url, timeout=30) as http:
        for body in ({"token": token, "email": "not-an-address"},
                     {"token": token, "email": "ann@example.com\r\nBcc: everyone@example.com"},  # header injection
                     {"token": token, "email": "ann@example.com,eve@example.com"},  # a second recipient
                     {"token": token, "email": "Ann <ann@example.com>"},
                     {"token": token, "email": "a@b.c", "cc": "x@y.z"},
                     {"token": token, "email": "x" * 250 + "@example.com"},
                     {"token": token},
                     {"email": "ann@example.com"}):
            r = await http.post("/api/chat/transcript/email", json=body)
            assert r.status_code == 422, (body, r.status_code, r.text)
        r = await http.post("/api/chat/transcript/email", json={"token": "no-such-token", "email": "ann@example.com"})
        assert r.status_code == 404 and r.json()["detail"] == "no conversation for this token"
        r = await http.post("/api/chat/transcript/email", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422
        # The fourth email in an hour for one conversation is refused (PARLEY_TRANSCRIPT_EMAILS_PER_HOUR = 3).
        codes = [(await http.post("/api/chat/transcript/email", json={"token": token, "email": f"ann{i}@example.com"})
                  ).status_code for i in range(4)]
    assert codes == [202, 202, 202, 429]
    assert [m["To"] for _, m in inbox[0].messages[before:]] == ["ann0@example.com", "ann1@example.com", "ann2@example.com"]


async def test_a_desk_without_smtp_says_so(live_server: LiveServer) -> None:
    session, _ = await chat(live_server, "hello")
    assert session["email_transcript"] is False
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as http:
        r = await http.post("/api/chat/transcript/email", json={"token": session["token"], "email": "ann@example.com"})
    assert r.status_code == 503 and "not set up" in r.json()["detail"]


def test_smtp_urls_are_checked_at_start_up() -> None:
    assert parse_smtp_url("smtps://me%40x.org:p%3Ass@mail.example.org") == parse_smtp_url(
        "smtps://me%40x.org:p%3Ass@mail.example.org:465")
    server = parse_smtp_url("smtp+starttls://u:p@mail.example.org")
    assert (server.port, server.user, server.password) == (587, "u", "p")
    for bad in ("http://mail.example.org", "smtp://", "smtp://host:notaport"):
        with pytest.raises(ValueError):
            Settings(smtp_url=bad)


def test_an_unreachable_mail_server_is_a_mail_error() -> None:
    message = compose("desk@example.org", "ann@example.com", "t", "body")
    with pytest.raises(MailError):
        send(f"smtp://127.0.0.1:{free_port()}", message, timeout=2)
