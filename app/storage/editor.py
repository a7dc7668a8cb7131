"""Store queries for the editors' and managers' pages: activity in a period, author names.

A mixin that SqlStore inherits, so there is still one store object; it only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from app.storage import tables as t
from app.storage.mappers import _case, _conversation, _event, as_utc
from app.storage.records import Case, Conversation, Event

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class Activity:
    """Conversations created in a period, with every event and case of theirs."""

    conversations: list[Conversation]
    events: dict[str, list[Event]]  # conversation id -> events in seq order (internal included)
    cases: dict[str, list[Case]]  # conversation id -> cases in id order


class EditorQueries:
    engine: "AsyncEngine"

    async def activity(self, since: datetime, until: datetime) -> Activity:
        conv_q = sa.select(t.conversations).where(
            t.conversations.c.created_at >= since, t.conversations.c.created_at < until).order_by(t.conversations.c.created_at)
        async with self.engine.connect() as conn:
            convs = [_conversation(r) for r in (await conn.execute(conv_q)).all()]
            ids = sa.select(t.conversations.c.id).where(
                t.conversations.c.created_at >= since, t.conversations.c.created_at < until).scalar_subquery()
            events: dict[str, list[Event]] = {}
            for r in (await conn.execute(sa.select(t.events).where(t.events.c.conversation_id.in_(ids)).order_by(
                    t.events.c.conversation_id, t.events.c.seq))).all():
                events.setdefault(r.conversation_id, []).append(_event(r))
            cases: dict[str, list[Case]] = {}
            for r in (await conn.execute(sa.select(t.cases).where(t.cases.c.conversation_id.in_(ids)).order_by(
                    t.cases.c.id))).all():
                cases.setdefault(r.conversation_id, []).append(_case(r))
        return Activity(convs, events, cases)

    async def contacts_since(self, since: datetime) -> list[tuple[str, datetime, dict[str, Any]]]:
        """(conversation id, created_at, contact) of every conversation since `since`, oldest first."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.conversations.c.id, t.conversations.c.created_at,
                                                 t.conversations.c.contact).where(
                t.conversations.c.created_at >= since).order_by(t.conversations.c.created_at))).all()
        return [(r.id, as_utc(r.created_at), dict(r.contact or {})) for r in rows]  # type: ignore[misc]

    async def user_names(self) -> dict[int, str]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.users.c.id, t.users.c.name))).all()
        return {int(r.id): r.name for r in rows}
