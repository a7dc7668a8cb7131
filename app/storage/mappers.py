"""Rows to records: the one place a database row becomes a record of app/storage/records.py."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from app.storage.records import Article, Case, Conversation, Event, User


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite returns naive ones)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def _user(row: Any) -> User:
    return User(row.id, row.email, row.name, row.role, bool(row.active), row.capacity, as_utc(row.created_at))  # type: ignore[arg-type]


def _article(row: Any) -> Article:
    return Article(row.id, row.title, row.category, row.body, list(row.questions), list(row.tags), row.status,
                   row.version, as_utc(row.created_at), as_utc(row.updated_at), row.updated_by)  # type: ignore[arg-type]


def _conversation(row: Any) -> Conversation:
    return Conversation(row.id, row.status, row.lang, row.site_key, dict(row.contact), row.last_seq,
                        dict(row.bot_state), row.current_case_id, as_utc(row.created_at), as_utc(row.updated_at))  # type: ignore[arg-type]


def _event(row: Any) -> Event:
    return Event(row.conversation_id, row.seq, row.kind, row.sender, row.visibility, row.text, dict(row.data),
                 row.client_msg_id, as_utc(row.created_at))  # type: ignore[arg-type]


def _case(row: Any) -> Case:
    return Case(row.id, row.conversation_id, row.status, row.reason, row.agent_id, dict(row.packet),
                as_utc(row.created_at), as_utc(row.queued_at), as_utc(row.assigned_at), as_utc(row.first_reply_at),  # type: ignore[arg-type]
                as_utc(row.resolved_at), row.rating, row.rating_comment, row.contact_email,
                getattr(row, "team_id", None), getattr(row, "priority", None) or "normal", list(getattr(row, "tags", None) or []))
