"""Store queries the agent console needs: canned replies, case history search, who is on duty.

A mixin that `SqlStore` inherits, so the console's reads live next to its pages, not in the core store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage import tables as t
from knowledge_base.sections import plain_text
from app.storage.quality import came_back_clause
from app.storage.mappers import as_utc


@dataclass(frozen=True)
class CannedReply:
    id: int
    shortcut: str
    title: str
    body: str


@dataclass(frozen=True)
class CaseRow:
    """A case as the history list shows it."""

    case_id: int
    conversation_id: str
    status: str
    reason: str
    agent_id: int | None
    agent_name: str | None
    queued_at: datetime
    resolved_at: datetime | None
    rating: int | None
    contact: dict[str, Any]
    last_message: str
    team_id: int | None = None
    priority: str = "normal"
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AssignedCase:
    """An assigned case with what the time-out rules need."""

    case_id: int
    conversation_id: str
    agent_id: int
    assigned_at: datetime
    presence: str | None
    last_seen: datetime | None
    last_customer_at: datetime | None
    last_agent_at: datetime | None


@dataclass(frozen=True)
class AgentOnDuty:
    id: int
    name: str
    email: str
    role: str
    capacity: int
    presence: str
    last_seen: datetime | None
    active_cases: int


@dataclass(frozen=True)
class LiveConversation:
    """A conversation the bot is handling now, as the console's Live tab lists it."""

    conversation_id: str
    lang: str
    contact: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    messages: list[dict[str, Any]]  # the last few public messages, oldest first
    decision: dict[str, Any] | None  # the bot's latest: action, confidence, article title


@dataclass(frozen=True)
class PastConversation:
    conversation_id: str
    created_at: datetime
    status: str
    case_id: int | None
    reason: str | None
    rating: int | None
    first_message: str


class DuplicateShortcut(Exception):
    pass


class ConsoleQueries:
    engine: AsyncEngine

    # ------------------------------------------------------------------ canned replies
    async def list_canned(self) -> list[CannedReply]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.canned_replies).order_by(t.canned_replies.c.shortcut))).all()
        return [CannedReply(r.id, r.shortcut, r.title, r.body) for r in rows]

    async def create_canned(self, shortcut: str, title: str, body: str, user_id: int | None) -> CannedReply:
        try:
            async with self.engine.begin() as conn:
                row = (await conn.execute(t.canned_replies.insert().values(
                    shortcut=shortcut, title=title, body=body, created_by=user_id,
                    created_at=datetime.now(timezone.utc)).returning(t.canned_replies))).one()
        except IntegrityError:
            raise DuplicateShortcut(shortcut) from None
        return CannedReply(row.id, row.shortcut, row.title, row.body)

    async def delete_canned(self, canned_id: int) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(t.canned_replies.delete().where(t.canned_replies.c.id == canned_id))
        return bool(result.rowcount)

    # ------------------------------------------------------------------ history
    async def search_cases(self, text: str | None = None, status: str | None = None, reason: str | None = None,
                           agent_id: int | None = None, since: datetime | None = None,
                           until: datetime | None = None, limit: int = 100, rating: int | None = None,
                           rating_max: int | None = None, reasons: tuple[str, ...] = (),
                           recontact_days: int | None = None, tag: str | None = None,
                           team_id: int | None = None, priority: str | None = None) -> list[CaseRow]:
        """Cases newest first, filtered; `text` matches any message or note of the conversation or the contact.
        `rating` is exact, `rating_max` at most; `reasons` any of these escalation reasons; `recontact_days`:
        resolved cases whose customer came back within that many days (app.storage.quality)."""
        c, conv, ev, u = t.cases, t.conversations, t.events, t.users
        query = sa.select(c, conv.c.contact, u.c.name.label("agent_name")).join(
            conv, conv.c.id == c.c.conversation_id).outerjoin(u, u.c.id == c.c.agent_id)
        if status:
            query = query.where(c.c.status == status)
        if reason:
            query = query.where(c.c.reason == reason)
        if agent_id is not None:
            query = query.where(c.c.agent_id == agent_id)
        if rating is not None:
            query = query.where(c.c.rating == rating)
        if rating_max is not None:
            query = query.where(c.c.rating <= rating_max)
        if reasons:
            query = query.where(c.c.reason.in_(reasons))
        if recontact_days is not None:
            query = query.where(came_back_clause(c, conv, recontact_days, self.engine.dialect.name))
        if tag:  # tags are normalised (app/routes/cases.py), so the JSON text holds "tag" exactly
            quoted = json.dumps(tag).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(sa.cast(c.c.tags, sa.Text).like("%" + quoted + "%", escape="\\"))
        if team_id is not None:
            query = query.where(c.c.team_id == team_id)
        if priority:
            query = query.where(c.c.priority == priority)
        if since is not None:
            query = query.where(c.c.queued_at >= since)
        if until is not None:
            query = query.where(c.c.queued_at < until)
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(sa.or_(
                sa.exists().where(ev.c.conversation_id == c.c.conversation_id,
                                  ev.c.text.ilike(pattern, escape="\\")),
                sa.cast(conv.c.contact, sa.Text).ilike(pattern, escape="\\"),
                c.c.conversation_id == text))
        query = query.order_by(c.c.queued_at.desc(), c.c.id.desc()).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            out = []
            for r in rows:
                last = (await conn.execute(sa.select(ev.c.text).where(
                    ev.c.conversation_id == r.conversation_id, ev.c.sender == "customer",
                    ev.c.kind == "message").order_by(ev.c.seq.desc()).limit(1))).scalar_one_or_none()
                out.append(CaseRow(r.id, r.conversation_id, r.status, r.reason, r.agent_id, r.agent_name,
                                   as_utc(r.queued_at), as_utc(r.resolved_at), r.rating, dict(r.contact),  # type: ignore[arg-type]
                                   last or "", r.team_id, r.priority or "normal", list(r.tags or [])))
        return out

    # ------------------------------------------------------------------ duty: presence and load
    async def agents_on_duty(self) -> list[AgentOnDuty]:
        """Active agents and admins with their presence and number of assigned cases."""
        load = sa.select(t.cases.c.agent_id, sa.func.count().label("n")).where(
            t.cases.c.status == "assigned").group_by(t.cases.c.agent_id).subquery()
        query = sa.select(t.users, t.presence.c.status.label("presence"), t.presence.c.last_seen,
                          sa.func.coalesce(load.c.n, 0).label("active_cases")).outerjoin(
            t.presence, t.presence.c.user_id == t.users.c.id).outerjoin(load, load.c.agent_id == t.users.c.id).where(
            t.users.c.active.is_(True),
            t.users.c.role.in_(("agent", "admin"))).order_by(t.users.c.name)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [AgentOnDuty(r.id, r.name, r.email, r.role, r.capacity, r.presence or "offline", as_utc(r.last_seen),
                            int(r.active_cases)) for r in rows]

    async def assigned_cases(self) -> list[AssignedCase]:
        """Every assigned case with its agent's presence and the last customer and agent message times."""
        c, ev, p = t.cases, t.events, t.presence
        last_customer = sa.select(sa.func.max(ev.c.created_at)).where(
            ev.c.conversation_id == c.c.conversation_id, ev.c.sender == "customer",
            ev.c.kind == "message").scalar_subquery()
        last_agent = sa.select(sa.func.max(ev.c.created_at)).where(
            ev.c.conversation_id == c.c.conversation_id, ev.c.sender == "agent",
            ev.c.kind == "message").scalar_subquery()
        query = sa.select(c.c.id, c.c.conversation_id, c.c.agent_id, c.c.assigned_at, p.c.status, p.c.last_seen,
                          last_customer.label("last_customer"), last_agent.label("last_agent")).outerjoin(
            p, p.c.user_id == c.c.agent_id).where(c.c.status == "assigned", c.c.agent_id.is_not(None))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [AssignedCase(r.id, r.conversation_id, r.agent_id, as_utc(r.assigned_at), r.status,  # type: ignore[arg-type]
                             as_utc(r.last_seen), as_utc(r.last_customer), as_utc(r.last_agent)) for r in rows]

    # ------------------------------------------------------------------ live bot conversations (take over)
    async def live_bot_conversations(self, active_since: datetime, limit: int = 50,
                                     messages: int = 4) -> list[LiveConversation]:
        """Conversations the bot owns with a customer message since `active_since`, most recently
        active first, each with its last `messages` public messages and the bot's last decision."""
        conv, ev = t.conversations, t.events
        has_customer = sa.exists().where(ev.c.conversation_id == conv.c.id, ev.c.sender == "customer",
                                         ev.c.kind == "message", ev.c.created_at >= active_since)
        query = sa.select(conv.c.id, conv.c.lang, conv.c.contact, conv.c.created_at, conv.c.updated_at).where(
            conv.c.status == "bot", conv.c.updated_at >= active_since, has_customer).order_by(
            conv.c.updated_at.desc()).limit(limit)
        out = []
        async with self.engine.connect() as conn:
            for r in (await conn.execute(query)).all():
                recent = (await conn.execute(sa.select(ev.c.seq, ev.c.sender, ev.c.text, ev.c.data, ev.c.created_at).where(
                    ev.c.conversation_id == r.id, ev.c.kind == "message", ev.c.visibility == "public").order_by(
                    ev.c.seq.desc()).limit(messages))).all()
                decision = None
                bots = [dict(b.data) for b in (await conn.execute(sa.select(ev.c.data).where(
                    ev.c.conversation_id == r.id, ev.c.kind == "message", ev.c.sender == "bot").order_by(
                    ev.c.seq.desc()).limit(5))).all()]
                # the latest reply the bot decided on (a "sorry it did not help" line carries no decision)
                data = next((b for b in bots if "decision" in b), bots[0] if bots else None)
                if data is not None:
                    article = data.get("article") or None
                    decision = {"action": data.get("action"), "confidence": data.get("confidence"),
                                "article_title": article.get("title") if isinstance(article, dict) else None}
                out.append(LiveConversation(
                    r.id, r.lang, dict(r.contact), as_utc(r.created_at), as_utc(r.updated_at),  # type: ignore[arg-type]
                    [{"seq": m.seq, "sender": m.sender,
                      "text": (plain_text(m.text) if m.sender == "bot" else m.text).strip()[:300],
                      "action": dict(m.data).get("action"), "created_at": as_utc(m.created_at)}
                     for m in reversed(recent)], decision))
        return out

    # ------------------------------------------------------------------ past conversations of one verified customer
    async def past_conversations(self, site_key: str | None, user_id: str, exclude: str,
                                 limit: int = 10) -> list[PastConversation]:
        """Other conversations on the same site whose user_id was verified and is `user_id`, newest first."""
        conv, c, ev = t.conversations, t.cases, t.events
        query = sa.select(conv.c.id, conv.c.created_at, conv.c.status, conv.c.contact, conv.c.current_case_id).where(
            conv.c.id != exclude, conv.c.contact["user_id"].as_string() == user_id).order_by(
            conv.c.created_at.desc()).limit(limit * 5)
        query = query.where(conv.c.site_key.is_(None) if site_key is None else conv.c.site_key == site_key)
        out: list[PastConversation] = []
        async with self.engine.connect() as conn:
            for r in (await conn.execute(query)).all():
                contact = dict(r.contact)
                if "user_id" not in (contact.get("verified_fields") or []):
                    continue  # someone who only claimed this user_id is not this customer
                case = (await conn.execute(sa.select(c.c.id, c.c.reason, c.c.rating).where(
                    c.c.conversation_id == r.id).order_by(c.c.id.desc()).limit(1))).first()
                first = (await conn.execute(sa.select(ev.c.text).where(
                    ev.c.conversation_id == r.id, ev.c.sender == "customer", ev.c.kind == "message").order_by(
                    ev.c.seq).limit(1))).scalar_one_or_none()
                out.append(PastConversation(r.id, as_utc(r.created_at), r.status,  # type: ignore[arg-type]
                                            case.id if case else None, case.reason if case else None,
                                            case.rating if case else None, (first or "")[:200]))
                if len(out) >= limit:
                    break
        return out
