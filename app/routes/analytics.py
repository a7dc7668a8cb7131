"""Content gaps and managers' analytics: REST, CSV and pages.

Both are computed from the stored transcript (events and cases), so nothing extra is written on the
chat path: an escalation for low confidence or out of scope, a "not helpful" vote and a clarify the
customer never answered are all already in the event log with the question that caused them.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app import analytics as learn
from app import web
from app.conversation import DeskError
from app.deps import CurrentAgent, CurrentEditor, DeskDep, KnowledgeDep, StoreDep
from app.schemas import ArticleOut, RowId, draft_of
from app.storage.editor import Activity
from app.storage.quality import UNHAPPY_KINDS, DuplicateDecision, question_key
from app.storage.records import Event
from app.storage.sql import Conflict
from app.storage.tables import INT_MAX
from app.validation import Line, Text
from knowledge_base.gaps import DEFAULT_THRESHOLD, cluster_vectors, representative
from knowledge_base.models import ArticleDraft, slugify

router = APIRouter(tags=["analytics"])
GAP_REASONS = ("low_confidence", "out_of_scope")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def period(since: date | None, until: date | None, days: int) -> tuple[datetime, datetime]:
    try:
        end = datetime.combine(until, datetime.min.time(), timezone.utc) + timedelta(days=1) if until else _now()
        start = datetime.combine(since, datetime.min.time(), timezone.utc) if since else end - timedelta(days=days)
    except OverflowError:  # until=9999-12-31, or `days` before year 1
        raise HTTPException(422, "since/until: out of range") from None
    if start >= end:
        raise HTTPException(422, "since must be before until")
    return start, end


# ============================================================================= content gaps
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
    now = _now()
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


@router.get("/api/gaps", response_model=GapsOut)
async def get_gaps(user: CurrentEditor, store: StoreDep, knowledge: KnowledgeDep,
                   since: date | None = None, until: date | None = None, days: int = Query(default=30, ge=1, le=366),
                   threshold: float = Query(default=DEFAULT_THRESHOLD, ge=0.3, le=0.99),
                   abandon_minutes: float = Query(default=30, ge=0, le=525_600, description="a clarify unanswered this long is abandoned")
                   ) -> GapsOut:
    """Unanswered questions grouped by meaning, most customers first."""
    start, end = period(since, until, days)
    return await compute_gaps(store, knowledge.embedder, start, end, threshold, timedelta(minutes=abandon_minutes))


class GapDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    questions: list[Line] = Field(min_length=1, max_length=200)
    title: Line | None = Field(default=None, max_length=300)
    agent_reply: Text | None = Field(default=None, max_length=20_000)
    category: Line | None = Field(default=None, max_length=120)


class GapQuestionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    article_id: Line
    questions: list[Line] = Field(min_length=1, max_length=200)


@router.post("/api/gaps/draft", response_model=ArticleOut, status_code=201)
async def draft_from_gap(body: GapDraftIn, user: CurrentEditor, store: StoreDep, knowledge: KnowledgeDep) -> ArticleOut:
    """A draft article prefilled from a cluster's questions (and the agent's reply, if there was one)."""
    questions = list(dict.fromkeys(q.strip() for q in body.questions if q.strip()))
    if not questions:
        raise HTTPException(422, "questions: at least one non-blank question is needed")
    title = ((body.title or "").strip() or questions[0]).rstrip("?").capitalize() or questions[0]
    article_id = slugify(title)
    n = 2
    while await store.get_article(article_id) is not None:
        article_id, n = f"{slugify(title)[:120]}-{n}", n + 1
    reply = (body.agent_reply or "").strip()
    text = reply or "_Write the answer here._"
    text += "\n\n<!-- Customers asked:\n" + "\n".join(f"- {q.replace('--', '- -')}" for q in questions[:10]) + "\n-->"
    draft = ArticleDraft(id=article_id, title=title, body=text, category=body.category, questions=tuple(questions),
                         status="draft")
    article, _ = await knowledge.save_draft(draft, user.id)
    return ArticleOut.of(article)


@router.post("/api/gaps/add-questions", response_model=ArticleOut)
async def add_gap_questions(body: GapQuestionsIn, user: CurrentEditor, store: StoreDep,
                            knowledge: KnowledgeDep) -> ArticleOut:
    """Add a cluster's questions to an existing article's example questions (a new version)."""
    article = await store.get_article(body.article_id)
    if article is None:
        raise HTTPException(404, f"article {body.article_id} not found")
    questions = list(dict.fromkeys([*article.questions, *(q.strip() for q in body.questions if q.strip())]))
    saved, _ = await knowledge.save_draft(draft_of(article, article.id, questions=questions), user.id)
    return ArticleOut.of(saved)


# ============================================================================= analytics
class Series(BaseModel):
    dates: list[str]
    conversations: list[int]
    self_service: list[int]
    escalated: list[int]


class ArticleStat(BaseModel):
    article_id: str
    title: str
    views: int = Field(description="times the bot answered with it")
    helpful: int
    not_helpful: int
    helpfulness: float | None


class CsatOut(BaseModel):
    overall: float | None = Field(description="% of ratings that are 4 or 5")
    average: float | None
    ratings: int
    bot_only: float | None
    bot_to_human: float | None
    human: float | None
    counts: dict[str, int] = Field(default_factory=dict, description="ratings per segment: bot_only, bot_to_human, human")


class AnalyticsOut(BaseModel):
    since: datetime
    until: datetime
    conversations: int
    self_service_rate: float | None
    self_service_confirmed: int
    self_service_assumed: int
    escalations: int
    escalation_rate: float | None
    escalation_rate_by_reason: dict[str, float]
    escalations_by_reason: dict[str, int]
    first_reply_seconds_median: float | None
    first_reply_seconds_p90: float | None
    handle_seconds_median: float | None
    csat: CsatOut
    top_articles: list[ArticleStat]
    recontacts_7d: int
    recontact_rate: float | None
    series: Series
    # resolved cases: confirmed / reopened by the follow-up's answer, or assumed (app/followup.py)
    resolutions: dict[str, int] | None = None
    # escalations by the team routing chose (or a transfer set; `none`: no team) and by tag
    escalations_by_team: dict[str, int] = {}
    escalations_by_tag: dict[str, int] = {}


def _pct(part: int | float, whole: int | float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(float(np.quantile(np.asarray(values), q)), 1)


def _contact_key(contact: dict[str, Any]) -> str | None:
    for k in ("user_id", "email"):
        if contact.get(k):
            return f"{k}:{str(contact[k]).strip().lower()}"
    return None


def compute_analytics(activity: Activity, earlier: list[tuple[str, datetime, dict[str, Any]]], titles: dict[str, str],
                      start: datetime, end: datetime) -> AnalyticsOut:
    days = max(1, (end.date() - start.date()).days + (0 if end.time() == datetime.min.time() else 1))
    dates = [(start.date() + timedelta(days=i)).isoformat() for i in range(days)]
    s_conv, s_self, s_esc = [0] * days, [0] * days, [0] * days
    conversations = confirmed = assumed = 0
    reasons: dict[str, int] = {}
    first_reply: list[float] = []
    handle: list[float] = []
    ratings: dict[str, list[int]] = {"bot_only": [], "bot_to_human": [], "human": []}
    stats: dict[str, list[int]] = {}
    for conv in activity.conversations:
        events = activity.events.get(conv.id, [])
        if not any(e.sender == "customer" and e.kind == "message" for e in events):
            continue  # opened the widget, never asked anything
        day = min(days - 1, max(0, (conv.created_at.date() - start.date()).days))
        conversations += 1
        s_conv[day] += 1
        cases = activity.cases.get(conv.id, [])
        answers = [e for e in events if e.sender == "bot" and e.data.get("action") == "answer"]
        for e in answers:
            aid = (e.data.get("article") or {}).get("id")
            if aid:
                stats.setdefault(aid, [0, 0, 0])[0] += 1
        votes = [e for e in events if e.kind == "feedback"]
        for e in votes:
            aid = e.data.get("article_id")
            if aid:
                stats.setdefault(aid, [0, 0, 0])[1 if e.data.get("helpful") else 2] += 1
        if answers and not any(c.reason != "follow_up" for c in cases):
            if any(e.data.get("helpful") is True for e in votes):
                confirmed += 1
            elif not any(e.data.get("helpful") is False for e in votes):
                assumed += 1
            s_self[day] += 1
        if any(c.reason != "follow_up" for c in cases):
            s_esc[day] += 1
        for case in cases:
            if case.reason == "follow_up":  # a manager reopened it (unhappy customers), not the bot
                continue
            reasons[case.reason] = reasons.get(case.reason, 0) + 1
            if case.first_reply_at:
                first_reply.append((case.first_reply_at - case.queued_at).total_seconds())
            if case.resolved_at and case.assigned_at:
                handle.append((case.resolved_at - case.assigned_at).total_seconds())
            if case.rating:
                agent_seqs = [e.seq for e in events if e.sender == "agent" and e.kind == "message"]
                bot_seqs = [e.seq for e in events if e.sender == "bot" and e.data.get("action") in ("answer", "clarify")]
                if not agent_seqs:
                    segment = "bot_only"
                elif bot_seqs and min(bot_seqs) < min(agent_seqs):
                    segment = "bot_to_human"
                else:
                    segment = "human"
                ratings[segment].append(case.rating)
    every = [r for rs in ratings.values() for r in rs]

    def csat(rs: list[int]) -> float | None:
        return _pct(sum(1 for r in rs if r >= 4), len(rs))

    last_seen: dict[str, datetime] = {}
    recontacts = 0
    in_period = {c.id for c in activity.conversations}
    for cid, created, contact in earlier:
        key = _contact_key(contact)
        if key is None:
            continue
        if cid in in_period and key in last_seen and created - last_seen[key] <= timedelta(days=7):
            recontacts += 1
        last_seen[key] = created
    escalations = sum(reasons.values())
    top = sorted(stats.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:10]
    return AnalyticsOut(
        since=start, until=end, conversations=conversations,
        self_service_rate=_pct(confirmed + assumed, conversations), self_service_confirmed=confirmed,
        self_service_assumed=assumed, escalations=escalations, escalation_rate=_pct(escalations, conversations),
        escalation_rate_by_reason={k: _pct(v, conversations) or 0.0 for k, v in sorted(reasons.items())},
        escalations_by_reason=dict(sorted(reasons.items())),
        first_reply_seconds_median=round(statistics.median(first_reply), 1) if first_reply else None,
        first_reply_seconds_p90=_quantile(first_reply, 0.9),
        handle_seconds_median=round(statistics.median(handle), 1) if handle else None,
        csat=CsatOut(overall=csat(every), average=round(sum(every) / len(every), 2) if every else None,
                     ratings=len(every), bot_only=csat(ratings["bot_only"]),
                     bot_to_human=csat(ratings["bot_to_human"]), human=csat(ratings["human"]),
                     counts={k: len(v) for k, v in ratings.items()}),
        top_articles=[ArticleStat(article_id=aid, title=titles.get(aid, aid), views=v[0], helpful=v[1], not_helpful=v[2],
                                  helpfulness=_pct(v[1], v[1] + v[2])) for aid, v in top],
        recontacts_7d=recontacts, recontact_rate=_pct(recontacts, conversations),
        series=Series(dates=dates, conversations=s_conv, self_service=s_self, escalated=s_esc))


async def _analytics(store: Any, start: datetime, end: datetime) -> AnalyticsOut:
    activity = await store.activity(start, end)
    earlier = await store.contacts_since(start - timedelta(days=7))
    titles = {a.id: a.title for a in await store.list_articles()}
    result = compute_analytics(activity, earlier, titles, start, end)
    teams = {team.id: team.name for team in await store.list_teams()}
    by_team: dict[str, int] = {}
    by_tag: dict[str, int] = {}
    for cases in activity.cases.values():
        for case in cases:
            if case.reason == "follow_up":  # not an escalation (as in compute_analytics)
                continue
            team = teams.get(case.team_id, "none") if case.team_id else "none"
            by_team[team] = by_team.get(team, 0) + 1
            for tag in case.tags:
                by_tag[tag] = by_tag.get(tag, 0) + 1
    return result.model_copy(update={"escalations_by_team": dict(sorted(by_team.items())),
                                     "escalations_by_tag": dict(sorted(by_tag.items(), key=lambda kv: (-kv[1], kv[0])))})


@router.get("/api/analytics", response_model=AnalyticsOut)
async def get_analytics(user: CurrentEditor, store: StoreDep, since: date | None = None, until: date | None = None,
                        days: int = Query(default=30, ge=1, le=366)) -> AnalyticsOut:
    """The dashboard's figures for a period (`since`/`until` as dates, or the last `days`)."""
    start, end = period(since, until, days)
    figures = await _analytics(store, start, end)
    from app.storage.mail import MailStore

    figures.resolutions = await MailStore(store).resolution_figures(start, end)
    return figures


@router.get("/api/analytics.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "metric,value rows then a daily series"}})
async def get_analytics_csv(user: CurrentEditor, store: StoreDep, since: date | None = None, until: date | None = None,
                            days: int = Query(default=30, ge=1, le=366)) -> Response:
    start, end = period(since, until, days)
    a = await _analytics(store, start, end)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["metric", "value"])
    rows: list[tuple[str, Any]] = [
        ("since", a.since.isoformat()), ("until", a.until.isoformat()), ("conversations", a.conversations),
        ("self_service_rate_pct", a.self_service_rate), ("self_service_confirmed", a.self_service_confirmed),
        ("self_service_assumed", a.self_service_assumed), ("escalations", a.escalations),
        ("escalation_rate_pct", a.escalation_rate),
        *[(f"escalation_rate_pct.{k}", v) for k, v in a.escalation_rate_by_reason.items()],
        *[(f"escalations.team.{k}", v) for k, v in a.escalations_by_team.items()],
        *[(f"escalations.tag.{k}", v) for k, v in a.escalations_by_tag.items()],
        ("first_reply_seconds_median", a.first_reply_seconds_median),
        ("first_reply_seconds_p90", a.first_reply_seconds_p90), ("handle_seconds_median", a.handle_seconds_median),
        ("csat_pct", a.csat.overall), ("csat_average", a.csat.average), ("csat_ratings", a.csat.ratings),
        ("csat_pct.bot_only", a.csat.bot_only), ("csat_pct.bot_to_human", a.csat.bot_to_human),
        ("csat_pct.human", a.csat.human), ("recontacts_7d", a.recontacts_7d), ("recontact_rate_pct", a.recontact_rate),
        *[(f"article_views.{s.article_id}", s.views) for s in a.top_articles],
        *[(f"article_helpfulness_pct.{s.article_id}", s.helpfulness) for s in a.top_articles],
    ]
    for k, v in rows:
        w.writerow([k, "" if v is None else v])
    w.writerow([])
    w.writerow(["date", "conversations", "self_service", "escalated"])
    for row in zip(a.series.dates, a.series.conversations, a.series.self_service, a.series.escalated):
        w.writerow(row)
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="parley-analytics-{start.date()}-{end.date()}.csv"'})


@router.get("/editor/gaps", include_in_schema=False)
async def gaps_page() -> HTMLResponse:
    return web.page("editor", "gaps.html")


@router.get("/editor/analytics", include_in_schema=False)
async def analytics_page() -> HTMLResponse:
    return web.page("editor", "analytics.html")


# ============================================================================= learning from the desk
class SuggestionOut(BaseModel):
    article_id: str
    title: str
    question: str = Field(description="the customer's question that led to the escalation")
    cases: list[int] = Field(description="resolved cases where an agent cited the article for it")
    conversations: list[str]
    agents: list[str]
    last_resolved: datetime | None


class ArticleVotesOut(BaseModel):
    article_id: str
    title: str
    answers: int = Field(description="times the bot answered with it")
    helpful: int
    not_helpful: int
    helpfulness: float | None
    unhelpful_questions: list[str] = Field(description="up to five questions whose answer was voted not helpful")


class LearnedOut(BaseModel):
    since: datetime
    until: datetime
    suggestions: list[SuggestionOut]
    votes: list[ArticleVotesOut]


class SuggestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    article_id: Line = Field(max_length=128)
    question: Line = Field(min_length=1, max_length=500)


@router.get("/api/gaps/learned", response_model=LearnedOut)
async def get_learned(user: CurrentEditor, store: StoreDep, since: date | None = None, until: date | None = None,
                      days: int = Query(default=30, ge=1, le=366)) -> LearnedOut:
    """What the desk taught: customers' questions that agents answered by citing an article (suggested
    example questions, to accept or dismiss), and the bot's answers' votes per article."""
    start, end = period(since, until, days)
    activity = await store.activity(start, end)
    articles = {a.id: (a.title, list(a.questions)) for a in await store.list_articles() if a.status != "archived"}
    decided = set(await store.suggestion_decisions())
    suggestions = learn.desk_suggestions(activity, articles, decided, await store.user_names())
    votes = learn.article_votes(activity, {aid: title for aid, (title, _) in articles.items()})
    return LearnedOut(
        since=start, until=end,
        suggestions=[SuggestionOut(article_id=s.article_id, title=s.title, question=s.question, cases=s.cases[:20],
                                   conversations=s.conversations[:20], agents=s.agents,
                                   last_resolved=s.last_resolved) for s in suggestions[:200]],
        votes=[ArticleVotesOut(article_id=v.article_id, title=v.title, answers=v.answers, helpful=v.helpful,
                               not_helpful=v.not_helpful, helpfulness=v.helpfulness,
                               unhelpful_questions=v.unhelpful_questions) for v in votes[:100]])


@router.post("/api/gaps/learned/accept", response_model=ArticleOut, responses={404: {}, 409: {}})
async def accept_suggestion(body: SuggestionIn, user: CurrentEditor, store: StoreDep,
                            knowledge: KnowledgeDep) -> ArticleOut:
    """Add the suggested question to the article's example questions: a new version, as any edit."""
    article = await store.get_article(body.article_id)
    if article is None:
        raise HTTPException(404, f"article {body.article_id} not found")
    question = " ".join(body.question.split())
    try:
        await store.decide_suggestion(article.id, question, "accepted", user.id)
    except DuplicateDecision:
        raise HTTPException(409, "this suggestion was already accepted or dismissed") from None
    if question_key(question) in {question_key(q) for q in article.questions}:
        return ArticleOut.of(article)
    saved, _ = await knowledge.save_draft(
        draft_of(article, article.id, questions=[*article.questions, question]), user.id)
    return ArticleOut.of(saved)


@router.post("/api/gaps/learned/dismiss", status_code=204, responses={404: {}, 409: {}})
async def dismiss_suggestion(body: SuggestionIn, user: CurrentEditor, store: StoreDep) -> Response:
    """Never suggest this question for this article again."""
    if await store.get_article(body.article_id) is None:
        raise HTTPException(404, f"article {body.article_id} not found")
    try:
        await store.decide_suggestion(body.article_id, " ".join(body.question.split()), "dismissed", user.id)
    except DuplicateDecision:
        raise HTTPException(409, "this suggestion was already accepted or dismissed") from None
    return Response(status_code=204)


# ============================================================================= unhappy customers
UnhappyKind = Literal["low_rating", "frustration", "repeated_failure", "recontact"]


class UnhappyReason(BaseModel):
    kind: UnhappyKind
    at: datetime = Field(description="when: the rating or resolution, the escalation, or the customer's return")
    detail: str


class CameBack(BaseModel):
    conversation_id: str
    at: datetime
    text: str


class UnhappyItem(BaseModel):
    case_id: int
    conversation_id: str
    status: str = Field(description="the case's status")
    conversation_status: str
    customer: str | None
    escalation_reason: str
    reasons: list[UnhappyReason]
    queued_at: datetime
    resolved_at: datetime | None
    agent_id: int | None
    agent_name: str | None
    rating: int | None
    rating_comment: str | None
    came_back: CameBack | None
    console_url: str = Field(description="the case in the agent console's history, transcript open")
    can_follow_up: bool = Field(description="false while the conversation is already queued or with an agent")


class UnhappyPage(BaseModel):
    since: datetime
    until: datetime
    total: int
    offset: int
    limit: int
    items: list[UnhappyItem]


@router.get("/api/unhappy", response_model=UnhappyPage)
async def get_unhappy(user: CurrentAgent, store: StoreDep, since: date | None = None, until: date | None = None,
                      days: int = Query(default=30, ge=1, le=366),
                      kind: Annotated[list[UnhappyKind] | None, Query(max_length=4, description="any of these; default all")] = None,
                      recontact_days: int = Query(default=7, ge=1, le=90),
                      limit: int = Query(default=50, ge=1, le=200),
                      offset: int = Query(default=0, ge=0, le=100_000)) -> UnhappyPage:
    """Customers who rated 1-2 of 5, were frustrated, failed twice or came back within `recontact_days` of
    a resolution, by the case escalated in the period, newest first; each with why, when and who."""
    start, end = period(since, until, days)
    kinds = tuple(dict.fromkeys(kind)) if kind else UNHAPPY_KINDS
    rows, total = await store.unhappy_cases(start, end, kinds, recontact_days, limit, offset)
    items = []
    for r in rows:
        back = await store.first_return(r.case_id, recontact_days) if r.recontact else None
        reasons = []
        for k in learn.unhappy_reasons(r.reason, r.rating, r.recontact):
            if k == "low_rating":
                reasons.append(UnhappyReason(kind=k, at=r.resolved_at or r.queued_at, detail=f"rated {r.rating} of 5"
                                             + (f': "{r.rating_comment}"' if r.rating_comment else "")))
            elif k == "recontact" and back is not None:
                hours = (back.at - (r.resolved_at or r.queued_at)).total_seconds() / 3600
                when = (f"{max(1, round(hours * 60))} min" if hours < 1 else f"{hours:.0f} h" if hours < 48
                        else f"{hours / 24:.0f} days")
                reasons.append(UnhappyReason(kind=k, at=back.at, detail=f"came back {when} after the resolution"))
            elif k in ("frustration", "repeated_failure"):
                reasons.append(UnhappyReason(kind=k, at=r.queued_at, detail={
                    "frustration": "escalated: the customer was frustrated",
                    "repeated_failure": "escalated: two answers in a row did not help"}[k]))
        items.append(UnhappyItem(
            case_id=r.case_id, conversation_id=r.conversation_id, status=r.status,
            conversation_status=r.conversation_status, customer=learn.customer_label(r.contact),
            escalation_reason=r.reason, reasons=reasons, queued_at=r.queued_at, resolved_at=r.resolved_at,
            agent_id=r.agent_id, agent_name=r.agent_name, rating=r.rating, rating_comment=r.rating_comment,
            came_back=CameBack(conversation_id=back.conversation_id, at=back.at, text=back.text[:300]) if back else None,
            console_url=f"/console#case={r.case_id}",
            can_follow_up=r.conversation_status in ("bot", "resolved")))
    return UnhappyPage(since=start, until=end, total=total, offset=offset, limit=limit, items=items)


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent_id: int | None = Field(default=None, ge=1, le=INT_MAX,
                                 description="assign the follow-up to this agent; none = put it in the queue")


class FollowUpOut(BaseModel):
    case_id: int = Field(description="the new follow-up case")
    status: str
    agent_id: int | None
    conversation_id: str


@router.post("/api/unhappy/{case_id}/follow-up", response_model=FollowUpOut, status_code=201,
             responses={404: {}, 409: {}, 422: {}})
async def follow_up(case_id: RowId, body: FollowUpIn, user: CurrentAgent, store: StoreDep,
                    desk: DeskDep) -> FollowUpOut:
    """Reopen the case's conversation as a new `follow_up` case: queued, or assigned to `agent_id` at once.
    The customer is told in their chat that the team is following up."""
    case = await store.get_case(case_id)
    if case is None:
        raise HTTPException(404, f"case {case_id} not found")
    target = None
    if body.agent_id is not None:
        target = await store.get_user(body.agent_id)
        if target is None or not target.active or target.role not in ("agent", "admin"):
            raise HTTPException(422, "agent_id: not an active agent")
    conv = await store.get_conversation(case.conversation_id)
    if conv is None:
        raise HTTPException(404, f"case {case_id} not found")
    if conv.status not in ("bot", "resolved"):
        raise HTTPException(409, f"the conversation is already {conv.status}")
    packet = {**case.packet, "reason": "follow_up", "follow_up_of": case.id, "requested_by": user.name}
    text = learn.follow_up_text(conv.lang)
    try:
        transition = await store.escalate(conv.id, "follow_up", packet, lambda position: (
            text, {"position": position, "follow_up_of": case.id}))
    except Conflict as exc:
        raise HTTPException(409, exc.detail) from None
    await desk.publish(transition.event)
    await desk.publish_case(transition.case)
    new = transition.case
    if target is not None:
        try:
            new = (await desk.claim(new.id, target)).case
        except DeskError as exc:  # e.g. the agent is at capacity: the follow-up stays in the queue
            raise HTTPException(409, f"{exc.detail}; the follow-up is in the queue as case {new.id}") from None
    return FollowUpOut(case_id=new.id, status=new.status, agent_id=new.agent_id, conversation_id=conv.id)


@router.get("/editor/unhappy", include_in_schema=False)
async def unhappy_page() -> HTMLResponse:
    return web.page("editor", "unhappy.html")
