"""Store queries of the outbox: the replies waiting to be emailed, batched per conversation (app/email_outbound.py).

Several replies within the batch window join one pending row; a sender claims due rows with a
conditional update and a lease, so a reply is emailed by one process, and a row claimed by a
process that then died is claimed again when its lease ends. Its table is on the schema's one
`metadata` (migration 0006). MailStore (app/storage/mail.py) is composed of these queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage import tables as t
from app.storage.mappers import utcnow
from app.storage.tables import TS

mail_outbox = sa.Table(  # events waiting to be emailed, batched per conversation
    "mail_outbox", t.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(40), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("seqs", sa.JSON, nullable=False),
    # pending | sending (leased) | sent | seen (the customer was connected) | held (address unconfirmed)
    # | no_address | failed
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("due_at", TS, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.String(300)),
    sa.Column("message_id", sa.String(300)),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("sent_at", TS),
    extend_existing=True,
)

LEASE = timedelta(minutes=5)  # a row claimed by a process that then died is claimed again after this


@dataclass(frozen=True)
class OutboxItem:
    id: int
    conversation_id: str
    seqs: list[int]
    status: str
    attempts: int
    last_error: str | None


class OutboxQueries:
    """Batches of events to email: queued, claimed under a lease, finished, held for a confirmed address."""

    engine: AsyncEngine

    async def _add_to_batch(self, conn: Any, conversation_id: str, seq: int, now: datetime, batch_seconds: float) -> None:
        """Several replies within the batch window go out as one email: the first one starts it."""
        row = (await conn.execute(sa.select(mail_outbox).where(
            mail_outbox.c.conversation_id == conversation_id,
            mail_outbox.c.status.in_(("pending", "held")), mail_outbox.c.attempts == 0)
            .order_by(mail_outbox.c.id.desc()).limit(1))).first()
        if row is not None:
            await conn.execute(mail_outbox.update().where(mail_outbox.c.id == row.id).values(
                seqs=[*list(row.seqs), seq]))
            return
        await conn.execute(mail_outbox.insert().values(
            conversation_id=conversation_id, seqs=[seq], status="pending", attempts=0,
            due_at=now + timedelta(seconds=batch_seconds), created_at=now))

    async def enqueue(self, conversation_id: str, seqs: list[int], due_at: datetime | None = None) -> int:
        """A batch of its own (a follow-up's email), due now unless said otherwise."""
        now = utcnow()
        async with self.engine.begin() as conn:
            return int((await conn.execute(mail_outbox.insert().values(
                conversation_id=conversation_id, seqs=seqs, status="pending", attempts=0, due_at=due_at or now,
                created_at=now).returning(mail_outbox.c.id))).scalar_one())

    async def pending_conversations(self) -> list[str]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(mail_outbox.c.conversation_id).where(
                mail_outbox.c.status == "pending", mail_outbox.c.attempts == 0).distinct())).all()
        return [r.conversation_id for r in rows]

    async def mark_seen(self, conversation_ids: list[str]) -> int:
        """The customer has a live socket: they get the replies in the chat, so no email."""
        if not conversation_ids:
            return 0
        async with self.engine.begin() as conn:
            result = await conn.execute(mail_outbox.update().where(
                mail_outbox.c.conversation_id.in_(conversation_ids), mail_outbox.c.status == "pending",
                mail_outbox.c.attempts == 0).values(status="seen"))
        return int(result.rowcount or 0)

    async def claim_due(self, limit: int = 20) -> list[OutboxItem]:
        now = utcnow()
        claimed: list[OutboxItem] = []
        async with self.engine.begin() as conn:
            rows = (await conn.execute(sa.select(mail_outbox).where(
                mail_outbox.c.status.in_(("pending", "sending")), mail_outbox.c.due_at <= now)
                .order_by(mail_outbox.c.due_at).limit(limit))).all()
            for r in rows:
                done = await conn.execute(mail_outbox.update().where(
                    mail_outbox.c.id == r.id, mail_outbox.c.status == r.status, mail_outbox.c.attempts == r.attempts)
                    .values(status="sending", attempts=r.attempts + 1, due_at=now + LEASE))
                if done.rowcount == 1:
                    claimed.append(OutboxItem(r.id, r.conversation_id, list(r.seqs), "sending", r.attempts + 1,
                                              r.last_error))
        return claimed

    async def finish(self, item_id: int, status: str, *, error: str | None = None, retry_at: datetime | None = None,
                     message_id: str | None = None) -> None:
        values: dict[str, Any] = {"status": status, "last_error": (error or None) and error[:300]}
        if retry_at is not None:
            values["due_at"] = retry_at
        if status == "sent":
            values.update(sent_at=utcnow(), message_id=message_id)
        async with self.engine.begin() as conn:
            await conn.execute(mail_outbox.update().where(mail_outbox.c.id == item_id).values(**values))

    async def release_held(self, conversation_id: str) -> int:
        """The address was confirmed: what waited for it is due now."""
        async with self.engine.begin() as conn:
            result = await conn.execute(mail_outbox.update().where(
                mail_outbox.c.conversation_id == conversation_id, mail_outbox.c.status == "held")
                .values(status="pending", due_at=utcnow()))
        return int(result.rowcount or 0)

    async def outbox(self, conversation_id: str) -> list[OutboxItem]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(mail_outbox).where(
                mail_outbox.c.conversation_id == conversation_id).order_by(mail_outbox.c.id))).all()
        return [OutboxItem(r.id, r.conversation_id, list(r.seqs), r.status, r.attempts, r.last_error) for r in rows]
