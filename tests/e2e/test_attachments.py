"""Attachments over a real server: a customer's photo reaches the agent, the agent's PDF reaches the
customer, a reconnecting customer gets the file by seq, hostile uploads are refused with the right
4xx, downloads carry safe headers, and erasing the contact deletes the files."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
import uuid
import zlib
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.test_core_loop import agent, customer
from tests.harness import Client, LiveServer, is_type

LIMIT = 10 * 1024 * 1024  # PARLEY_MAX_ATTACHMENT_BYTES' default


def png(width: int = 3, height: int = 2) -> bytes:
    """A real (tiny, red) PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


async def assigned_chat(server: LiveServer, agent_token: str) -> tuple[Client, Client, dict]:
    """A customer whose chat the demo agent has claimed: (customer socket, agent socket, session)."""
    desk = await agent(server, agent_token)
    client, session = await customer(server)
    await client.send({"type": "request_human"})
    await client.wait_for(is_type("handoff", status="queued"))
    snapshot = await desk.wait_for(lambda f: f["type"] == "queue" and any(
        c["conversation_id"] == session["conversation_id"] for c in f["cases"]))
    case = next(c for c in snapshot["cases"] if c["conversation_id"] == session["conversation_id"])
    await desk.send({"type": "claim", "case_id": case["id"], "ref": "claim"})
    await desk.wait_for(is_type("ack", ref="claim"))
    await client.wait_for(is_type("handoff", status="assigned"))
    return client, desk, {**session, "case_id": case["id"]}


async def resolve_and_close(desk: Client, session: dict) -> None:
    """Resolve the claimed case (the shared desk's agent has a capacity of 3) and close the agent socket."""
    await desk.send({"type": "resolve", "case_id": session["case_id"], "ref": "done"})
    await desk.wait_for(is_type("ack", ref="done"))
    await desk.close()


def has_attachment(f: dict) -> bool:
    event = f.get("event", f)
    return f.get("type") in ("event", "message") and bool(event.get("attachment"))


async def test_photo_and_pdf_go_both_ways_and_a_reconnect_gets_the_file_by_seq(
        live_server: LiveServer, agent_token: str) -> None:
    client, desk, session = await assigned_chat(live_server, agent_token)
    conv, token = session["conversation_id"], session["token"]
    photo = png()
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=20) as http:
        up = await http.post("/api/chat/attachments", content=photo,
                             headers={"X-Conversation-Token": token, "X-Filename": "damage.png",
                                      "Content-Type": "application/octet-stream"})
        assert up.status_code == 201, up.text
        stored = up.json()["event"]  # acknowledged once stored: it has its seq
        assert stored["type"] == "message" and stored["sender"] == "customer" and stored["seq"] >= 1
        meta = stored["attachment"]
        assert meta["name"] == "damage.png" and meta["content_type"] == "image/png" and meta["image"] is True
        assert meta["size"] == len(photo) and meta["url"] == f"/api/chat/attachments/{meta['id']}"

        # the agent's socket receives it through the ordinary delivery path, and downloads the same bytes
        got = await desk.wait_for(lambda f: f["type"] == "event" and f["conversation_id"] == conv and has_attachment(f))
        assert got["event"]["seq"] == stored["seq"] and got["event"]["attachment"]["id"] == meta["id"]
        staff_url = got["event"]["attachment"]["url"]
        assert staff_url == f"/api/console/attachments/{meta['id']}"
        down = await http.get(staff_url, headers={"Authorization": f"Bearer {agent_token}"})
        assert down.status_code == 200 and down.content == photo
        assert down.headers["content-type"] == "image/png"
        assert down.headers["x-content-type-options"] == "nosniff"
        assert down.headers["content-security-policy"].startswith("default-src 'none'")
        assert down.headers["content-disposition"].startswith("inline;")  # images are shown as thumbnails
        # the customer's own socket has it too (their echo)
        echo = await client.wait_for(lambda f: f["type"] == "message" and f.get("seq") == stored["seq"])
        assert echo["attachment"]["id"] == meta["id"]

        # the agent sends a PDF; the customer receives it and downloads it as a file
        sent = await http.post(f"/api/console/conversations/{conv}/attachments", content=PDF,
                               headers={"Authorization": f"Bearer {agent_token}", "X-Filename": "R%C3%BCcksendeschein.pdf"})
        assert sent.status_code == 201, sent.text
        reply = await client.wait_for(lambda f: f["type"] == "message" and f["sender"] == "agent" and has_attachment(f))
        assert reply["agent"]["name"] == "Alex Agent"
        pdf_meta = reply["attachment"]
        assert pdf_meta["name"] == "Rücksendeschein.pdf" and pdf_meta["content_type"] == "application/pdf"
        assert pdf_meta["image"] is False
        file = await http.get(pdf_meta["url"], headers={"X-Conversation-Token": token})
        assert file.status_code == 200 and file.content == PDF
        assert file.headers["content-type"] == "application/pdf"
        assert file.headers["content-disposition"].startswith("attachment;")
        assert "filename*=UTF-8''R%C3%BCcksendeschein.pdf" in file.headers["content-disposition"]
        assert file.headers["x-content-type-options"] == "nosniff"

        # the text exports name the files
        transcript = await http.get("/api/chat/transcript", params={"token": token})
        assert "[attachment: damage.png, image/png" in transcript.text
        assert "[attachment: Rücksendeschein.pdf, application/pdf" in transcript.text
    await client.close()

    # a customer who reconnects after the photo gets both files again, by seq
    again, resumed = await customer(live_server, token=token, last_seq=str(stored["seq"] - 1))
    assert resumed["resumed"] is True
    replayed = await again.wait_for(lambda f: f["type"] == "message" and f.get("seq") == stored["seq"])
    assert replayed["attachment"]["id"] == meta["id"]
    await again.wait_for(lambda f: f["type"] == "message" and (f.get("attachment") or {}).get("id") == pdf_meta["id"])
    await again.close()
    await resolve_and_close(desk, session)


async def test_hostile_uploads_get_a_4xx(live_server: LiveServer, agent_token: str, admin_token: str,
                                         editor_token: str) -> None:
    client, desk, session = await assigned_chat(live_server, agent_token)
    conv, token = session["conversation_id"], session["token"]
    auth = {"X-Conversation-Token": token}
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=20) as http:
        svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
        for body in (svg, b"  <!doctype html><script>alert(1)</script>", b"MZ\x90\x00\x03\x00\x00\x00binary",
                     b"\x00\x01\x02 not text"):
            r = await http.post("/api/chat/attachments", content=body,
                                headers={**auth, "X-Filename": "cute.png", "Content-Type": "image/png"})
            assert r.status_code == 415, (body, r.status_code, r.text)
        assert (await http.post("/api/chat/attachments", content=b"", headers=auth)).status_code == 422
        # no token, a wrong token
        assert (await http.post("/api/chat/attachments", content=png())).status_code == 401
        r = await http.post("/api/chat/attachments", content=png(), headers={"X-Conversation-Token": "x" * 43})
        assert r.status_code == 401
        # an agent who does not own the chat, an editor, nobody
        url = f"/api/console/conversations/{conv}/attachments"
        r = await http.post(url, content=PDF, headers={"Authorization": f"Bearer {admin_token}"})
        assert r.status_code == 403 and r.json()["detail"]["code"] == "not_owner"
        assert (await http.post(url, content=PDF, headers={"Authorization": f"Bearer {editor_token}"})).status_code == 403
        assert (await http.post(url, content=PDF)).status_code == 401
        bot_conv = (await customer(live_server))[1]["conversation_id"]  # the bot's: nobody is assigned
        r = await http.post(f"/api/console/conversations/{bot_conv}/attachments", content=PDF,
                            headers={"Authorization": f"Bearer {agent_token}"})
        assert r.status_code == 409 and r.json()["detail"]["code"] == "invalid_state"

        # a name with a path, control, bidirectional and zero-width characters is cleaned, and its
        # extension follows the content (a PNG is never saved as .exe or .html)
        hostile = "../../etc/\u202eevil\u0007\u200b\r\nname.exe"
        r = await http.post("/api/chat/attachments", content=png(),
                            headers={**auth, "X-Filename": quote(hostile)})
        assert r.status_code == 201, r.text
        name = r.json()["event"]["attachment"]["name"]
        assert name == "evilname.exe.png", name
        long = await http.post("/api/chat/attachments", content=b"plain text notes\n",
                               headers={**auth, "X-Filename": "a" * 500 + ".txt"})
        assert long.status_code == 201
        long_name = long.json()["event"]["attachment"]["name"]
        assert len(long_name) <= 120 and long_name.endswith(".txt")
        assert long.json()["event"]["attachment"]["content_type"] == "text/plain"

        # another conversation's file is not this customer's
        other = (await customer(live_server))[1]
        r = await http.get(f"/api/chat/attachments/{r.json()['event']['attachment']['id']}",
                           headers={"X-Conversation-Token": other["token"]})
        assert r.status_code == 404
        assert (await http.get("/api/console/attachments/att_" + "0" * 32,
                               headers={"Authorization": f"Bearer {agent_token}"})).status_code == 404
    await client.close()
    await resolve_and_close(desk, session)


def _raw_request(port: int, head: str, body_chunks: int, chunk: bytes) -> tuple[bytes, int]:
    """Send a request head, then up to `body_chunks` copies of `chunk` until the server answers;
    returns (the answer's first bytes, bytes of body sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    sock.sendall(head.encode())
    sock.setblocking(False)
    answer, sent, deadline = b"", 0, time.monotonic() + 60
    body = memoryview(chunk * body_chunks)
    try:
        while sent < len(body) and not answer and time.monotonic() < deadline:
            try:
                answer += sock.recv(65536)
                break
            except BlockingIOError:
                pass
            try:
                sent += sock.send(body[sent:sent + 65536])
            except BlockingIOError:
                time.sleep(0.002)
    except (BrokenPipeError, ConnectionResetError):
        pass
    sock.setblocking(True)
    sock.settimeout(20)
    try:
        while b"\r\n\r\n" not in answer:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    except (ConnectionResetError, TimeoutError):
        pass
    finally:
        sock.close()
    return answer, sent


async def test_a_file_over_the_limit_is_refused_with_413_before_it_is_read(live_server: LiveServer) -> None:
    client, session = await customer(live_server)
    token = session["token"]
    port = live_server.port
    head = ("POST /api/chat/attachments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"X-Conversation-Token: {token}\r\nContent-Type: application/octet-stream\r\n")
    # declared too large: answered at once, after one small piece of the body
    answer, sent = await asyncio.to_thread(_raw_request, port, head + f"Content-Length: {LIMIT * 10}\r\n\r\n",
                                           1, b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent <= 2000
    # streamed (chunked, no length): cut off at the limit, long before the 30 MB the client would send
    piece = 1024 * 1024
    chunk = f"{piece:x}\r\n".encode() + b"\x00" * piece + b"\r\n"
    answer, sent = await asyncio.to_thread(_raw_request, port, head + "Transfer-Encoding: chunked\r\n\r\n", 30, chunk)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < LIMIT + 8 * piece, sent  # the limit plus what the sockets' buffers held
    await client.close()


async def test_erasing_the_contact_deletes_its_attachments(live_server: LiveServer, agent_token: str,
                                                           admin_token: str) -> None:
    client, session = await customer(live_server)
    email = f"erase-{uuid.uuid4().hex[:8]}@example.com"
    await client.send({"type": "contact", "email": email})
    await client.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=20) as http:
        up = await http.post("/api/chat/attachments", content=png(),
                             headers={"X-Conversation-Token": session["token"], "X-Filename": "receipt.png"})
        assert up.status_code == 201
        att_id = up.json()["event"]["attachment"]["id"]
        staff = {"Authorization": f"Bearer {agent_token}"}
        assert (await http.get(f"/api/console/attachments/{att_id}", headers=staff)).status_code == 200
        export = (await http.get(f"/api/contacts/{email}/export", headers={"Authorization": f"Bearer {admin_token}"})).json()
        assert [a["name"] for a in export["conversations"][0]["attachments"]] == ["receipt.png"]
        erased = await http.delete(f"/api/contacts/{email}", headers={"Authorization": f"Bearer {admin_token}"})
        assert erased.status_code == 200 and erased.json()["attachments"] == 1, erased.text
        assert (await http.get(f"/api/console/attachments/{att_id}", headers=staff)).status_code == 404
        r = await http.get(f"/api/chat/attachments/{att_id}", headers={"X-Conversation-Token": session["token"]})
        assert r.status_code == 401  # the conversation, its token and its files are gone
    await client.close()


@pytest.mark.parametrize("name", ["", "   ", "...", "/", "\u202e"])
async def test_an_empty_or_dotted_name_gets_a_plain_one(live_server: LiveServer, name: str) -> None:
    client, session = await customer(live_server)
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=20) as http:
        r = await http.post("/api/chat/attachments", content=PDF,
                            headers={"X-Conversation-Token": session["token"],
                                     "X-Filename": quote(name)})
        assert r.status_code == 201 and r.json()["event"]["attachment"]["name"] == "attachment.pdf"
    await client.close()
