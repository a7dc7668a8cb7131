"""Store queries for conversations and their events: the conversations aggregate.

A mixin that `SqlStore` (app/storage/sql.py) inherits. Sequence numbers come from an
UPDATE ... RETURNING on the conversation row, in the same transaction as the event's insert, so
each conversation's events are numbered without gaps or repeats on both engines and across
processes. `_append` is that step inside a caller's transaction: the case actions
(app/storage/cases.py) and attachments use it too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.storage import tables as t
from app.storage.errors import Conflict, NotFound
from app.storage.mappers import _conversation, _event, utcnow
from app.storage.records import Conversation, Event
from handoff.state import Owner

# The bot's memory of a conversation, saved with an event: as is, or built from that event's seq.
BotState = dict[str, Any] | Callable[[int], dict[str, Any]]


class ConversationQueries:
    engine: AsyncEngine

    # ------------------------------------------------------------------ conversations and events
    async def create_conversation(self, conversation_id: str, token_hash: str, lang: str, site_key: str | None,
                                  contact: dict[str, Any] | None = None) -> Conversation:
        now = utcnow()
        async with self.engine.begin() as conn:
            row = (await conn.execute(t.conversations.insert().values(
                id=conversation_id, token_hash=token_hash, status=Owner.BOT.value, lang=lang, site_key=site_key,
                contact=contact or {}, last_seq=0, bot_state={}, current_case_id=None, created_at=now, updated_at=now,
            ).returning(t.conversations))).one()
        return _conversation(row)

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.conversations).where(t.conversations.c.id == conversation_id))).first()
        return _conversation(row) if row else None

    async def conversation_by_token(self, token_hash: str) -> Conversation | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.conversations).where(t.conversations.c.token_hash == token_hash))).first()
        return _conversation(row) if row else None

    async def update_conversation(self, conversation_id: str, **fields: Any) -> None:
        allowed = {k: v for k, v in fields.items() if k in {"bot_state", "contact", "lang"}}
        async with self.engine.begin() as conn:
            await conn.execute(t.conversations.update().where(t.conversations.c.id == conversation_id).values(
                updated_at=utcnow(), **allowed))

    async def append_event(self, conversation_id: str, kind: str, sender: str, text: str = "",
                           visibility: str = "public", data: dict[str, Any] | None = None,
                           client_msg_id: str | None = None, bot_state: BotState | None = None,
                           only_if_status: str | None = None) -> tuple[Event, bool]:
        """Store one event with the next seq. Returns (event, created); a repeated client_msg_id
        returns the stored event and False. `bot_state`, when given, is saved in the same transaction: a
        dict, or a function of the new event's seq for state that refers to the event itself.
        `only_if_status`: store it only while the conversation has this owner, else Conflict
        `invalid_state` (a bot reply after an agent joined, on any process, is dropped)."""
        event, created, _ = await self.append_event_returning(
            conversation_id, kind, sender, text, visibility, data, client_msg_id, bot_state, only_if_status)
        return event, created

    async def append_event_returning(self, conversation_id: str, kind: str, sender: str, text: str = "",
                                     visibility: str = "public", data: dict[str, Any] | None = None,
                                     client_msg_id: str | None = None, bot_state: BotState | None = None,
                                     only_if_status: str | None = None) -> tuple[Event, bool, Conversation | None]:
        """`append_event`, also returning the conversation as the append left it (None for a retry).

        One transaction of two statements: the seq UPDATE returns the conversation row, so the hot
        path (a customer message, then the bot's reply) needs no extra reads. A retried client_msg_id
        is caught by the unique index rather than looked up first: retries are rare, messages are not.
        """
        try:
            async with self.engine.begin() as conn:
                event, conv = await self._append(conn, conversation_id, kind, sender, text, visibility, data or {},
                                                 client_msg_id, bot_state, only_if_status)
        except IntegrityError:
            if client_msg_id:  # a retry (or a concurrent one) of a message already stored
                existing = await self._event_by_client_id(conversation_id, client_msg_id, sender)
                if existing:
                    return existing, False, None
            raise
        return event, True, conv

    async def _event_by_client_id(self, conversation_id: str, client_msg_id: str, sender: str) -> Event | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.events).where(
                t.events.c.conversation_id == conversation_id, t.events.c.sender == sender,
                t.events.c.client_msg_id == client_msg_id))).first()
        return _event(row) if row else None

    async def _append(self, conn: AsyncConnection, conversation_id: str, kind: str, sender: str, text: str,
                      visibility: str, data: dict[str, Any], client_msg_id: str | None,
                      bot_state: BotState | None = None, only_if_status: str | None = None
                      ) -> tuple[Event, Conversation]:
        now = utcnow()
        values: dict[str, Any] = {"last_seq": t.conversations.c.last_seq + 1, "updated_at": now}
        if isinstance(bot_state, dict):
            values["bot_state"] = bot_state
        where = t.conversations.c.id == conversation_id
        condition = where if only_if_status is None else sa.and_(where, t.conversations.c.status == only_if_status)
        conv_row = (await conn.execute(t.conversations.update().where(condition).values(**values)
                                       .returning(t.conversations))).first()
        if conv_row is None and only_if_status is not None and (await conn.execute(
                sa.select(t.conversations.c.id).where(where))).first() is not None:
            raise Conflict("invalid_state", f"the conversation is no longer {only_if_status}")
        if conv_row is None:
            raise NotFound(f"conversation {conversation_id} not found")
        if callable(bot_state):  # the state names the event's own seq, known only now
            conv_row = (await conn.execute(t.conversations.update().where(where).values(
                bot_state=bot_state(conv_row.last_seq)).returning(t.conversations))).one()
        row = (await conn.execute(t.events.insert().values(
            conversation_id=conversation_id, seq=conv_row.last_seq, kind=kind, sender=sender, visibility=visibility,
            text=text, data=data, client_msg_id=client_msg_id, created_at=now).returning(t.events))).one()
        return _event(row), _conversation(conv_row)

    async def get_event(self, conversation_id: str, seq: int) -> Event | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.events).where(
                t.events.c.conversation_id == conversation_id, t.events.c.seq == seq))).first()
        return _event(row) if row else None

    async def last_public_seq(self, conversation_id: str) -> int:
        """The seq of the last event a customer can see (internal events also take seqs)."""
        async with self.engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.events.c.seq), 0)).where(
                t.events.c.conversation_id == conversation_id, t.events.c.visibility == "public"))).scalar_one())

    async def events_after(self, conversation_id: str, after_seq: int = 0, include_internal: bool = False,
                           limit: int = 10_000) -> list[Event]:
        query = sa.select(t.events).where(t.events.c.conversation_id == conversation_id, t.events.c.seq > after_seq)
        if not include_internal:
            query = query.where(t.events.c.visibility == "public")
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(t.events.c.seq).limit(limit))).all()
        return [_event(r) for r in rows]
