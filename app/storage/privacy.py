"""Store queries for privacy: find everything about one contact, export it, erase it, purge old data.

A contact is an email or a site `user_id`: matched in `conversations.contact` (email or user_id,
emails case-insensitively) and in `cases.contact_email`. Erasing deletes the conversations and
every row derived from them (events, cases with their escalation packets, attachments with their
bytes); nothing else holds customer text or files (the search index is built from articles only).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.storage import tables as t
from app.storage.attachments import _list as _attachments


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    return value


def _row(row: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: _iso(v) for k, v in row._mapping.items() if k not in skip}


class PrivacyQueries:
    engine: AsyncEngine

    async def _contact_conversation_ids(self, conn: AsyncConnection, key: str) -> list[str]:
        key = key.strip()
        lowered = key.lower()
        contact = t.conversations.c.contact
        by_contact = sa.select(t.conversations.c.id).where(sa.or_(
            sa.func.lower(contact["email"].as_string()) == lowered,
            contact["user_id"].as_string() == key))
        by_case = sa.select(t.cases.c.conversation_id).where(sa.func.lower(t.cases.c.contact_email) == lowered)
        ids = {r[0] for r in (await conn.execute(by_contact)).all()}
        ids |= {r[0] for r in (await conn.execute(by_case)).all()}
        return sorted(ids)

    async def contact_conversation_ids(self, key: str) -> list[str]:
        async with self.engine.connect() as conn:
            return await self._contact_conversation_ids(conn, key)

    async def export_contact(self, key: str) -> dict[str, Any]:
        """Every stored row about the contact, as JSON-ready dicts (secrets such as token hashes left out)."""
        async with self.engine.connect() as conn:
            ids = await self._contact_conversation_ids(conn, key)
            conversations = []
            for conversation_id in ids:
                conv = (await conn.execute(sa.select(t.conversations).where(t.conversations.c.id == conversation_id))).one()
                events = (await conn.execute(sa.select(t.events).where(
                    t.events.c.conversation_id == conversation_id).order_by(t.events.c.seq))).all()
                cases = (await conn.execute(sa.select(t.cases).where(
                    t.cases.c.conversation_id == conversation_id).order_by(t.cases.c.id))).all()
                files = await _attachments(conn, conversation_id)  # metadata; the bytes by their download routes
                conversations.append({**_row(conv, skip=("token_hash",)),
                                      "events": [_row(e, skip=("id",)) for e in events],
                                      "cases": [_row(c) for c in cases],
                                      "attachments": [{"id": a.id, "seq": a.seq, "sender": a.sender, "name": a.name,
                                                       "content_type": a.content_type, "size": a.size,
                                                       "sha256": a.sha256, "created_at": a.created_at.isoformat()}
                                                      for a in files],
                                      # how this conversation names the contact: signed by the host site, or only claimed
                                      "email_verified": "email" in dict(conv.contact).get("verified_fields", []),
                                      "user_id_verified": "user_id" in dict(conv.contact).get("verified_fields", [])})
        return {"contact": key, "exported_at": datetime.now(timezone.utc).isoformat(), "conversations": conversations}

    async def _delete_conversations(self, conn: AsyncConnection, ids: list[str]) -> dict[str, int]:
        counts = {"conversations": 0, "events": 0, "cases": 0, "attachments": 0}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            counts["attachments"] += (await conn.execute(
                t.attachments.delete().where(t.attachments.c.conversation_id.in_(chunk)))).rowcount
            counts["events"] += (await conn.execute(t.events.delete().where(t.events.c.conversation_id.in_(chunk)))).rowcount
            counts["cases"] += (await conn.execute(t.cases.delete().where(t.cases.c.conversation_id.in_(chunk)))).rowcount
            counts["conversations"] += (await conn.execute(
                t.conversations.delete().where(t.conversations.c.id.in_(chunk)))).rowcount
        return counts

    async def erase_contact(self, key: str) -> tuple[list[str], dict[str, int]]:
        """Delete the contact's conversations and all that derives from them, in one transaction."""
        async with self.engine.begin() as conn:
            ids = await self._contact_conversation_ids(conn, key)
            return ids, await self._delete_conversations(conn, ids)

    async def purge_older_than(self, days: int, now: datetime | None = None) -> tuple[list[str], dict[str, int]]:
        """Delete conversations untouched for `days` days (and expired login sessions)."""
        cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
        async with self.engine.begin() as conn:
            ids = [r[0] for r in (await conn.execute(sa.select(t.conversations.c.id).where(
                t.conversations.c.updated_at < cutoff))).all()]
            counts = await self._delete_conversations(conn, ids)
            await conn.execute(t.auth_sessions.delete().where(t.auth_sessions.c.expires_at < cutoff))
        return ids, counts
