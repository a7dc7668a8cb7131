"""Store queries for attachments: a file and the message event that carries it, in one transaction.

The bytes live in the database (`attachments.data`, BLOB on SQLite, bytea on PostgreSQL) beside
the conversation they belong to: one backup holds everything, every server process and host reads
the same files without a shared disk, and erasure and the retention purge delete them in the same
transaction as the conversation (app/storage/privacy.py). Files are bounded by
PARLEY_MAX_ATTACHMENT_BYTES and PARLEY_MAX_ATTACHMENTS_PER_CONVERSATION.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.storage import tables as t
from app.storage.records import Attachment, Conversation, Event


class TooManyAttachments(Exception):
    """The conversation already holds as many attachments as it may."""


def _attachment(row: Any, with_data: bool) -> Attachment:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
    return Attachment(id=row.id, conversation_id=row.conversation_id, seq=row.seq, sender=row.sender,
                      uploaded_by=row.uploaded_by, name=row.name, content_type=row.content_type, size=row.size,
                      sha256=row.sha256, created_at=created, data=bytes(row.data) if with_data else b"")


class AttachmentQueries:
    engine: AsyncEngine
    # SqlStore's event append inside a caller's transaction (app/storage/conversations.py)
    _append: Callable[..., Awaitable[tuple[Event, Conversation]]]

    async def add_attachment(self, attachment_id: str, conversation_id: str, sender: str, name: str,
                             content_type: str, content: bytes, text: str, data: dict[str, Any],
                             uploaded_by: int | None = None, max_count: int = 50) -> tuple[Event, Conversation]:
        """Store the file and its message event (kind `message`, `data.attachment`) in one transaction,
        so a file is never without its event nor an event without its file. TooManyAttachments when
        the conversation already holds `max_count`."""
        async with self.engine.begin() as conn:
            held = (await conn.execute(sa.select(sa.func.count()).select_from(t.attachments).where(
                t.attachments.c.conversation_id == conversation_id))).scalar_one()
            if held >= max_count:
                raise TooManyAttachments(f"this conversation already holds {held} attachments (at most {max_count})")
            event, conv = await self._append(conn, conversation_id, "message", sender, text, "public", data, None)
            await conn.execute(t.attachments.insert().values(
                id=attachment_id, conversation_id=conversation_id, seq=event.seq, sender=sender,
                uploaded_by=uploaded_by, name=name, content_type=content_type, size=len(content),
                sha256=hashlib.sha256(content).hexdigest(), data=content, created_at=datetime.now(timezone.utc)))
        return event, conv

    async def get_attachment(self, attachment_id: str) -> Attachment | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.attachments).where(t.attachments.c.id == attachment_id))).first()
        return _attachment(row, with_data=True) if row else None

    async def list_attachments(self, conversation_id: str) -> list[Attachment]:
        """The conversation's attachments without their bytes, in seq order."""
        async with self.engine.connect() as conn:
            return await _list(conn, conversation_id)


async def _list(conn: AsyncConnection, conversation_id: str) -> list[Attachment]:
    columns = [c for c in t.attachments.c if c.name != "data"]
    rows = (await conn.execute(sa.select(*columns).where(
        t.attachments.c.conversation_id == conversation_id).order_by(t.attachments.c.seq))).all()
    return [_attachment(r, with_data=False) for r in rows]
