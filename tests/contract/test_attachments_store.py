"""The attachment store on SQLite and PostgreSQL (through the migrations): a file and its message
event in one transaction, the bytes back unchanged, the per-conversation cap, erasure and the purge."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta, timezone

import pytest

from app.storage.attachments import TooManyAttachments
from app.storage.sql import NotFound, SqlStore

BYTES = b"\x89PNG\r\n\x1a\n" + os.urandom(300_000) + b"\x00\xff"  # binary, with NULs: BLOB/bytea, not text


async def conversation(store: SqlStore, email: str) -> str:
    conv_id = "c_" + os.urandom(6).hex()
    await store.create_conversation(conv_id, os.urandom(16).hex(), "en", None, contact={"email": email})
    return conv_id


async def test_a_file_and_its_message_are_stored_together_and_come_back_unchanged(store: SqlStore) -> None:
    conv = await conversation(store, "ann@example.com")
    await store.append_event(conv, "message", "customer", "hello")
    event, after = await store.add_attachment("att_" + "1" * 32, conv, "customer", "vase.png", "image/png", BYTES,
                                              "vase.png", {"attachment": {"id": "att_" + "1" * 32}})
    assert event.seq == 2 and event.kind == "message" and event.data["attachment"]["id"] == "att_" + "1" * 32
    assert after.last_seq == 2
    got = await store.get_attachment("att_" + "1" * 32)
    assert got is not None and got.data == BYTES and got.size == len(BYTES) and got.seq == 2
    assert got.sha256 == hashlib.sha256(BYTES).hexdigest() and got.content_type == "image/png"
    listed = await store.list_attachments(conv)
    assert [(a.id, a.data) for a in listed] == [("att_" + "1" * 32, b"")]  # metadata only
    assert await store.get_attachment("att_" + "0" * 32) is None
    with pytest.raises(NotFound):
        await store.add_attachment("att_" + "2" * 32, "c_missing", "customer", "x.png", "image/png", BYTES, "x", {})


async def test_the_cap_refuses_the_file_and_its_event(store: SqlStore) -> None:
    conv = await conversation(store, "bob@example.com")
    for i in range(2):
        await store.add_attachment(f"att_{i:032x}", conv, "agent", "a.pdf", "application/pdf", b"%PDF-1.4", "a.pdf", {},
                                   max_count=2)
    with pytest.raises(TooManyAttachments):
        await store.add_attachment("att_" + "f" * 32, conv, "agent", "a.pdf", "application/pdf", b"%PDF-", "a.pdf", {},
                                   max_count=2)
    assert (await store.get_conversation(conv)).last_seq == 2  # no event without its file


async def test_erasure_and_the_purge_delete_the_files(store: SqlStore) -> None:
    erased = await conversation(store, "carol@example.com")
    await store.add_attachment("att_" + "a" * 32, erased, "customer", "id.png", "image/png", BYTES, "id.png", {})
    exported = await store.export_contact("carol@example.com")
    assert exported["conversations"][0]["attachments"][0]["name"] == "id.png"
    ids, counts = await store.erase_contact("carol@example.com")
    assert ids == [erased] and counts["attachments"] == 1
    assert await store.get_attachment("att_" + "a" * 32) is None

    old = await conversation(store, "dan@example.com")
    await store.add_attachment("att_" + "b" * 32, old, "customer", "r.txt", "text/plain", b"receipt", "r.txt", {})
    ids, counts = await store.purge_older_than(30, now=datetime.now(timezone.utc) + timedelta(days=31))
    assert old in ids and counts["attachments"] >= 1
    assert await store.get_attachment("att_" + "b" * 32) is None
