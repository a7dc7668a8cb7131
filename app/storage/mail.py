"""Store queries of the email channel and the follow-ups (app/email_channel.py, app/followup.py).

MailStore is composed of one module per aggregate, each with its table on the schema's one
`metadata` (migration 0006): a conversation's email thread (app/storage/mail_threads.py), the
outbox of replies waiting to be emailed (app/storage/mail_outbox.py) and the scheduled follow-ups
(app/storage/followups.py). Here are a few shared values (the event cursor, the generated signing
secret) and the cursor's pass over new events, which feeds both the outbox and the follow-ups.
Every step that several server processes may race on is a conditional update, so a reply is
emailed by one process and a follow-up sent once.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.storage import tables as t
from app.storage.followups import FollowupQueries, followups
from app.storage.mail_outbox import OutboxQueries
from app.storage.mail_threads import ThreadQueries, _thread, mail_threads
from app.storage.mappers import as_utc, utcnow

if TYPE_CHECKING:
    from app.storage.sql import SqlStore

mail_state = sa.Table(  # small shared values: the event cursor, the generated signing secret
    "mail_state", t.metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    extend_existing=True,
)

SETTLE = timedelta(seconds=1)  # an event younger than this is read on a later pass (see collect)

# The events the channel acts on: replies to email, and the handoffs that schedule follow-ups.
WATCHED_KINDS = ("message", "handoff")


class MailStore(ThreadQueries, OutboxQueries, FollowupQueries):
    """The email channel's queries over the desk's SqlStore (its engine, and its event append)."""

    def __init__(self, store: "SqlStore") -> None:
        self.store = store
        self.engine = store.engine

    # ------------------------------------------------------------------ shared values
    async def secret(self) -> str:
        """The signing secret of reply addresses and links, generated once and kept in the database
        so every process and every restart signs alike."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(sa.select(mail_state.c.value).where(mail_state.c.key == "secret"))).first()
            if row:
                return str(row.value)
        try:
            async with self.engine.begin() as conn:
                await conn.execute(mail_state.insert().values(key="secret", value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another process made it first
        async with self.engine.connect() as conn:
            return str((await conn.execute(sa.select(mail_state.c.value).where(mail_state.c.key == "secret"))).scalar_one())


    # ------------------------------------------------------------------ the event cursor
    async def collect(self, email_kinds: Any, schedule: Any, batch_seconds: float, limit: int = 500) -> int:
        """Read the events stored since the last call (by any process), in one transaction that
        holds the cursor: `email_kinds(event, thread)` says whether an event goes out by email (it
        joins the conversation's pending batch, or starts one due in `batch_seconds`), and
        `schedule(event)` returns (case_id, reason, due_at) for a follow-up, or None. Returns how
        many events were read. The first call starts at the newest event: history is not emailed."""
        now = utcnow()
        async with self.engine.begin() as conn:
            row = (await conn.execute(sa.select(mail_state.c.value).where(
                mail_state.c.key == "cursor").with_for_update())).first()
            if row is None:
                newest = int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.events.c.id), 0)))).scalar_one())
                try:
                    async with conn.begin_nested():
                        await conn.execute(mail_state.insert().values(key="cursor", value=str(newest)))
                except IntegrityError:
                    pass
                return 0
            cursor = last = int(row.value)
            # In id order up to the first event younger than SETTLE: on PostgreSQL a transaction that
            # took an id earlier may commit a moment after a later one, and the cursor must not pass it.
            settled = now - SETTLE
            rows = []
            for r in (await conn.execute(sa.select(t.events).where(t.events.c.id > cursor)
                                         .order_by(t.events.c.id).limit(limit))).all():
                if as_utc(r.created_at) > settled:  # type: ignore[operator]
                    break
                last = r.id
                if r.kind in WATCHED_KINDS and r.visibility == "public":
                    rows.append(r)
            if last == cursor:
                return 0
            conv_ids = sorted({r.conversation_id for r in rows})
            threads = {}
            if conv_ids:
                threads = {r.conversation_id: _thread(r) for r in (await conn.execute(sa.select(mail_threads).where(
                    mail_threads.c.conversation_id.in_(conv_ids)))).all()}
            for r in rows:
                from app.storage.sql import _event

                event = _event(r)
                if email_kinds(event, threads.get(event.conversation_id)):
                    await self._add_to_batch(conn, event.conversation_id, event.seq, now, batch_seconds)
                plan = schedule(event)
                if plan is not None:
                    case_id, reason, due = plan
                    exists = (await conn.execute(sa.select(followups.c.id).where(
                        followups.c.case_id == case_id, followups.c.reason == reason))).first()
                    case_ok = (await conn.execute(sa.select(t.cases.c.id).where(t.cases.c.id == case_id))).first()
                    if exists is None and case_ok is not None:
                        await conn.execute(followups.insert().values(
                            conversation_id=event.conversation_id, case_id=case_id, reason=reason,
                            after_seq=event.seq, status="scheduled", due_at=due, created_at=now))
            await conn.execute(mail_state.update().where(mail_state.c.key == "cursor").values(value=str(last)))
        return len(rows)
