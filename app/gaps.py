"""Content gaps: every question the bot could not serve, grouped by meaning, from the stored transcript.

Nothing extra is written on the chat path: an escalation for low confidence or out of scope, a "not
helpful" vote and a clarify the customer never answered are all already in the event log with the
question that caused them. The routes are app/routes/gaps.py.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, Field

from app.storage.editor import Activity
from app.storage.records import Event
from knowledge_base.gaps import cluster_vectors, representative

GAP_REASONS = ("low_confidence", "out_of_scope")


@dataclass
class GapItem:
    kind: str  # low_confidence | out_of_scope | not_helpful | abandoned_clarify
    question: str
    conversation_id: str
    at: datetime
    agent_reply: str | None = None
    article_id: str | None = None


def _customer_text_before(events: list[Event], seq: int) -> str | None:
    for e in reversed(events):
        if e.seq < seq and e.sender == "customer" and e.kind == "message" and "attachment" not in e.data:
            return e.text
    return None


def _agent_reply_after(events: list[Event], seq: int) -> str | None:
    return next((e.text for e in events if e.seq > seq and e.sender == "agent" and e.kind == "message"
                 and e.visibility == "public"), None)


def gap_items(activity: Activity, now: datetime, abandon_after: timedelta) -> list[GapItem]:
    """Every question the bot could not serve, oldest first."""
    items: list[GapItem] = []
    for conv in activity.conversations:
        events = activity.events.get(conv.id, [])
        queued = False  # every customer message while the chat waits for a person is a gap too
        for e in events:
            if e.kind == "handoff" and e.data.get("status"):
                queued = e.data["status"] == "queued"
            if queued and e.sender == "customer" and e.kind == "message" and e.text.strip() and "attachment" not in e.data:
                items.append(GapItem("while_queued", e.text, conv.id, e.created_at, _agent_reply_after(events, e.seq)))
            elif e.sender == "bot" and e.data.get("action") == "clarify" and (
                    e.data.get("decision") or {}).get("reason") == "low_confidence":
                q = _customer_text_before(events, e.seq)  # the bot was unsure: options, not an answer
                if q:
                    items.append(GapItem("low_confidence", q, conv.id, e.created_at, _agent_reply_after(events, e.seq)))
            elif e.sender == "bot" and e.data.get("action") == "no_answer":
                q = _customer_text_before(events, e.seq)
                if q:
                    items.append(GapItem("not_covered", q, conv.id, e.created_at, _agent_reply_after(events, e.seq)))
            elif e.kind == "handoff" and e.data.get("status") == "queued" and e.data.get("reason") in GAP_REASONS:
                q = _customer_text_before(events, e.seq)
                if q:
                    items.append(GapItem(e.data["reason"], q, conv.id, e.created_at, _agent_reply_after(events, e.seq)))
            elif e.kind == "feedback" and e.data.get("helpful") is False:
                q = _customer_text_before(events, int(e.data.get("seq", e.seq)))
                if q:
                    items.append(GapItem("not_helpful", q, conv.id, e.created_at, _agent_reply_after(events, e.seq),
                                         e.data.get("article_id")))
            elif e.sender == "bot" and e.data.get("action") == "clarify":
                later = [x for x in events if x.seq > e.seq and (x.sender in ("customer", "agent") or x.kind == "handoff")]
                if not later and now - e.created_at >= abandon_after:
                    q = _customer_text_before(events, e.seq)
                    if q:
                        items.append(GapItem("abandoned_clarify", q, conv.id, e.created_at))
    return sorted(items, key=lambda i: i.at)


class GapExample(BaseModel):
    question: str
    count: int


class GapAddressed(BaseModel):
    article_id: str
    title: str
    status: str
    since: datetime
    before_per_day: float
    after_per_day: float
    went_down: bool


class GapCluster(BaseModel):
    id: str
    label: str
    customers: int = Field(description="distinct conversations that asked")
    questions: list[str] = Field(description="every distinct question in the cluster")
    examples: list[GapExample]
    reasons: dict[str, int]
    trend: list[int] = Field(description="questions per day over the period, oldest first")
    agent_replies: list[str]
    first_seen: datetime
    last_seen: datetime
    addressed: GapAddressed | None


class GapsOut(BaseModel):
    since: datetime
    until: datetime
    total: int
    clusters: list[GapCluster]


async def compute_gaps(store: Any, embedder: Any, start: datetime, end: datetime, threshold: float,
                       abandon_after: timedelta) -> GapsOut:
    activity = await store.activity(start, end)
    now = datetime.now(timezone.utc)
    items = gap_items(activity, now, abandon_after)
    if not items:
        return GapsOut(since=start, until=end, total=0, clusters=[])
    vectors = await asyncio.to_thread(embedder.encode, [i.question for i in items])
    clusters = cluster_vectors(vectors, threshold)
    articles = await store.list_articles()
    by_question: dict[str, list[Any]] = {}
    for a in articles:
        for q in a.questions:
            by_question.setdefault(q.strip().lower(), []).append(a)
    days = max(1, (end.date() - start.date()).days + (0 if end.time() == datetime.min.time() else 1))
    out = []
    for c in clusters:
        members = [items[i] for i in c.members]
        counts: dict[str, int] = {}
        for m in members:
            counts[m.question] = counts.get(m.question, 0) + 1
        label = items[representative(vectors, c)].question
        reasons: dict[str, int] = {}
        trend = [0] * days
        for m in members:
            reasons[m.kind] = reasons.get(m.kind, 0) + 1
            trend[min(days - 1, max(0, (m.at.date() - start.date()).days))] += 1
        replies = list(dict.fromkeys(m.agent_reply for m in members if m.agent_reply))[:3]
        questions = list(counts)
        out.append(GapCluster(
            id=hashlib.sha1(label.encode()).hexdigest()[:10], label=label,
            customers=len({m.conversation_id for m in members}), questions=questions,
            examples=[GapExample(question=q, count=n) for q, n in sorted(counts.items(), key=lambda kv: -kv[1])[:5]],
            reasons=reasons, trend=trend, agent_replies=replies, first_seen=members[0].at, last_seen=members[-1].at,
            addressed=await _addressed(store, by_question, questions, members, now)))
    out.sort(key=lambda g: (-g.customers, g.first_seen))
    return GapsOut(since=start, until=end, total=len(items), clusters=out)


async def _addressed(store: Any, by_question: dict[str, list[Any]], questions: list[str], members: list[GapItem],
                     now: datetime) -> GapAddressed | None:
    """The article these questions were added to, and whether the cluster's rate fell after it went live."""
    wanted = {q.strip().lower() for q in questions}
    article = next((a for q in wanted for a in by_question.get(q, [])), None)
    if article is None:
        return None
    since = None
    for v in await store.article_versions(article.id):
        if v.status == "published" and wanted & {q.strip().lower() for q in v.questions}:
            since = v.created_at
            break
    if since is None:  # added to a draft that is not published yet
        return GapAddressed(article_id=article.id, title=article.title, status=article.status, since=article.updated_at,
                            before_per_day=0, after_per_day=0, went_down=False)
    after_days = max((now - since).total_seconds() / 86400, 1 / 24)
    before = [m for m in members if m.at < since]
    before_days = max((since - members[0].at).total_seconds() / 86400, 1 / 24) if before else 1.0
    after = [m for m in members if m.at >= since]
    b, a = len(before) / before_days, len(after) / after_days
    return GapAddressed(article_id=article.id, title=article.title, status=article.status, since=since,
                        before_per_day=round(b, 2), after_per_day=round(a, 2), went_down=a < b)

