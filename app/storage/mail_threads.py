"""Store queries of a conversation's email thread (app/email_channel.py, app/email_addresses.py).

A thread says where a conversation's replies are emailed (the proven address, or the one asked to
confirm itself) and how they thread (subject, Message-ID, References); its table is on the schema's
one `metadata` (migration 0006). MailStore (app/storage/mail.py) is composed of these queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage import tables as t
from app.storage.mappers import utcnow
from app.storage.tables import TS

mail_threads = sa.Table(  # a conversation's email thread: where replies go and how they thread
    "mail_threads", t.metadata,
    sa.Column("conversation_id", sa.String(40), sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),  # email (started by an email) | widget
    sa.Column("address", sa.String(254)),  # the proven address replies go to
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("last_message_id", sa.String(300)),
    sa.Column("references", sa.JSON, nullable=False),
    sa.Column("confirm_sent_to", sa.String(254)),  # an unproven address that was asked to confirm itself
    sa.Column("created_at", TS, nullable=False),
    extend_existing=True,
)


@dataclass(frozen=True)
class Thread:
    conversation_id: str
    channel: str
    address: str | None
    subject: str
    last_message_id: str | None
    references: list[str]
    confirm_sent_to: str | None


def _thread(row: Any) -> Thread:
    return Thread(row.conversation_id, row.channel, row.address, row.subject, row.last_message_id,
                  list(row.references or []), row.confirm_sent_to)


class ThreadQueries:
    """A conversation's email thread: created once, then updated as replies go out and come in."""

    engine: AsyncEngine

    async def get_thread(self, conversation_id: str) -> Thread | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(mail_threads).where(
                mail_threads.c.conversation_id == conversation_id))).first()
        return _thread(row) if row else None

    async def ensure_thread(self, conversation_id: str, channel: str, subject: str,
                            address: str | None = None) -> Thread:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(mail_threads.insert().values(
                    conversation_id=conversation_id, channel=channel, address=address, subject=subject[:300],
                    references=[], created_at=utcnow()))
        except IntegrityError:
            pass
        thread = await self.get_thread(conversation_id)
        assert thread is not None
        return thread

    async def update_thread(self, conversation_id: str, **fields: Any) -> None:
        allowed = {k: v for k, v in fields.items()
                   if k in {"address", "subject", "last_message_id", "references", "confirm_sent_to"}}
        async with self.engine.begin() as conn:
            await conn.execute(mail_threads.update().where(
                mail_threads.c.conversation_id == conversation_id).values(**allowed))

    async def threads(self, conversation_ids: list[str]) -> dict[str, Thread]:
        if not conversation_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(mail_threads).where(
                mail_threads.c.conversation_id.in_(conversation_ids)))).all()
        return {r.conversation_id: _thread(r) for r in rows}

    async def new_threads_since(self, since: datetime, address: str | None = None) -> int:
        """Conversations started by email since then (from one address, or from anyone)."""
        query = sa.select(sa.func.count()).select_from(mail_threads).where(
            mail_threads.c.channel == "email", mail_threads.c.created_at >= since)
        if address is not None:
            query = query.where(mail_threads.c.address == address)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())
