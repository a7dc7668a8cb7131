"""Store queries for the quality pages: unhappy customers and what the desk teaches the knowledge base.

A mixin that `SqlStore` inherits. Every query is bounded: a period on an indexed time column
(cases.queued_at, cases.resolved_at, conversations.created_at; migration 0007), a page size, and
recontacts looked for only within `days` after one resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.storage import tables as t
from app.storage.mappers import as_utc

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

LOW_RATING = 2  # CSAT is 1..5 (cases.rating); 1 and 2 are unhappy
UNHAPPY_KINDS = ("low_rating", "frustration", "repeated_failure", "recontact")


def _plus_days(column: Any, days: int, dialect: str) -> Any:
    """`column + days` in SQL, on SQLite (timestamps stored as ISO text) and PostgreSQL."""
    if dialect == "sqlite":
        # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff"; strftime keeps that shape so text comparison stays exact
        return sa.func.strftime("%Y-%m-%d %H:%M:%f000", column, f"+{int(days)} days")
    return column + sa.func.make_interval(0, 0, 0, int(days))


def came_back_clause(case: Any, conversation: Any, days: int, dialect: str) -> Any:
    """True for a resolved case whose customer wrote again within `days` of its resolution: in the same
    conversation, or in a new one from the same verified user of the same site or the same email."""
    later_conv = t.conversations.alias("later_conv")
    ev = t.events.alias("later_event")
    until = _plus_days(case.c.resolved_at, days, dialect)
    email = sa.func.lower(conversation.c.contact["email"].as_string())
    same_contact = sa.or_(
        sa.and_(email.is_not(None), email != "",
                sa.func.lower(later_conv.c.contact["email"].as_string()) == email),
        sa.and_(conversation.c.contact["verified"].as_boolean().is_(True),
                later_conv.c.contact["verified"].as_boolean().is_(True),
                conversation.c.contact["user_id"].as_string() == later_conv.c.contact["user_id"].as_string(),
                sa.func.coalesce(conversation.c.site_key, "") == sa.func.coalesce(later_conv.c.site_key, "")))
    in_new_conversation = sa.exists().where(
        later_conv.c.created_at > case.c.resolved_at, later_conv.c.created_at <= until,
        later_conv.c.id != case.c.conversation_id, same_contact)
    in_same_conversation = sa.exists().where(
        ev.c.conversation_id == case.c.conversation_id, ev.c.sender == "customer", ev.c.kind == "message",
        ev.c.created_at > case.c.resolved_at, ev.c.created_at <= until)
    return sa.and_(case.c.status == "resolved", case.c.resolved_at.is_not(None),
                   sa.or_(in_same_conversation, in_new_conversation))


@dataclass(frozen=True)
class UnhappyRow:
    case_id: int
    conversation_id: str
    status: str
    reason: str
    agent_id: int | None
    agent_name: str | None
    queued_at: datetime
    resolved_at: datetime | None
    rating: int | None
    rating_comment: str | None
    contact: dict[str, Any]
    conversation_status: str
    recontact: bool


@dataclass(frozen=True)
class Return:
    """A customer's first message after a resolution: where and when."""

    conversation_id: str
    at: datetime
    text: str


@dataclass(frozen=True)
class SuggestionDecision:
    article_id: str
    question: str
    status: str  # accepted | dismissed
    decided_by: int | None
    decided_at: datetime


class DuplicateDecision(Exception):
    pass


def question_key(text: str) -> str:
    """One key per question, whatever its case and spacing."""
    return " ".join(text.lower().split())[:500]


class QualityQueries:
    engine: "AsyncEngine"

    # ------------------------------------------------------------------ unhappy customers
    async def unhappy_cases(self, since: datetime, until: datetime, kinds: tuple[str, ...] = UNHAPPY_KINDS,
                            recontact_days: int = 7, limit: int = 50, offset: int = 0
                            ) -> tuple[list[UnhappyRow], int]:
        """Cases escalated in [since, until) that match any of `kinds`, newest first, one page and the total."""
        c, conv, u = t.cases, t.conversations, t.users
        dialect = self.engine.dialect.name
        came_back = came_back_clause(c, conv, recontact_days, dialect)
        wanted = []
        if "low_rating" in kinds:
            wanted.append(sa.and_(c.c.rating.is_not(None), c.c.rating <= LOW_RATING))
        if "frustration" in kinds:
            wanted.append(c.c.reason == "frustration")
        if "repeated_failure" in kinds:
            wanted.append(c.c.reason == "repeated_failure")
        if "recontact" in kinds:
            wanted.append(came_back)
        if not wanted:
            return [], 0
        where = [c.c.queued_at >= since, c.c.queued_at < until, sa.or_(*wanted)]
        base = sa.select(c, conv.c.contact, conv.c.status.label("conversation_status"),
                         u.c.name.label("agent_name"),
                         sa.case((came_back, True), else_=False).label("came_back")).join(
            conv, conv.c.id == c.c.conversation_id).outerjoin(u, u.c.id == c.c.agent_id).where(*where)
        count = sa.select(sa.func.count()).select_from(c).join(conv, conv.c.id == c.c.conversation_id).where(*where)
        async with self.engine.connect() as conn:
            total = int((await conn.execute(count)).scalar_one())
            rows = (await conn.execute(base.order_by(c.c.queued_at.desc(), c.c.id.desc()).limit(limit).offset(
                offset))).all()
        return [UnhappyRow(r.id, r.conversation_id, r.status, r.reason, r.agent_id, r.agent_name,
                           as_utc(r.queued_at), as_utc(r.resolved_at), r.rating, r.rating_comment,  # type: ignore[arg-type]
                           dict(r.contact or {}), r.conversation_status, bool(r.came_back)) for r in rows], total

    async def first_return(self, case_id: int, days: int = 7) -> Return | None:
        """The first customer message within `days` after the case was resolved, in its conversation or
        a new one from the same contact (as `came_back_clause` matches them)."""
        c, conv = t.cases, t.conversations
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(c.c.conversation_id, c.c.resolved_at, conv.c.contact,
                                                conv.c.site_key).join(conv, conv.c.id == c.c.conversation_id).where(
                c.c.id == case_id))).first()
            if row is None or row.resolved_at is None:
                return None
            resolved = as_utc(row.resolved_at)
            assert resolved is not None
            until = resolved + timedelta(days=days)
            contact = dict(row.contact or {})
            email = str(contact.get("email") or "").strip().lower()
            user_id = contact.get("user_id") if contact.get("verified") else None
            candidates = [row.conversation_id]
            if email or user_id:
                later = sa.select(conv.c.id, conv.c.contact, conv.c.site_key).where(
                    conv.c.created_at > resolved, conv.c.created_at <= until, conv.c.id != row.conversation_id
                ).order_by(conv.c.created_at).limit(200)
                for r in (await conn.execute(later)).all():
                    other = dict(r.contact or {})
                    if (email and str(other.get("email") or "").strip().lower() == email) or (
                            user_id and other.get("verified") and other.get("user_id") == user_id
                            and (r.site_key or "") == (row.site_key or "")):
                        candidates.append(r.id)
            ev = t.events
            first = (await conn.execute(sa.select(ev.c.conversation_id, ev.c.created_at, ev.c.text).where(
                ev.c.conversation_id.in_(candidates), ev.c.sender == "customer", ev.c.kind == "message",
                ev.c.created_at > resolved, ev.c.created_at <= until).order_by(ev.c.created_at).limit(1))).first()
        if first is None:
            return None
        return Return(first.conversation_id, as_utc(first.created_at), first.text)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ suggestions learned from the desk
    async def suggestion_decisions(self) -> dict[tuple[str, str], SuggestionDecision]:
        """Every accepted or dismissed suggestion, by (article id, question key)."""
        s = t.desk_suggestions
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(s))).all()
        return {(r.article_id, r.question_key): SuggestionDecision(r.article_id, r.question, r.status, r.decided_by,
                                                                  as_utc(r.decided_at)) for r in rows}  # type: ignore[arg-type]

    async def decide_suggestion(self, article_id: str, question: str, status: str, user_id: int | None) -> None:
        """Record an editor's accept or dismiss; a second decision on the same suggestion is refused."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(t.desk_suggestions.insert().values(
                    article_id=article_id, question=question[:2000], question_key=question_key(question),
                    status=status, decided_by=user_id, decided_at=datetime.now(timezone.utc)))
        except IntegrityError:
            raise DuplicateDecision(article_id) from None
