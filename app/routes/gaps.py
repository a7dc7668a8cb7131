"""The content-gaps page and what the desk taught: REST and the editor page.

The gap maths is app/gaps.py; the learned suggestions and votes are app/analytics.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app import analytics as learn
from app import web
from app.deps import CurrentEditor, KnowledgeDep, StoreDep
from app.gaps import GapsOut, compute_gaps
from app.reports import period
from app.schemas import ArticleOut, draft_of
from app.storage.quality import DuplicateDecision, question_key
from app.validation import Line, Text
from knowledge_base.gaps import DEFAULT_THRESHOLD
from knowledge_base.models import ArticleDraft, slugify

router = APIRouter(tags=["analytics"])


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



@router.get("/editor/gaps", include_in_schema=False)
async def gaps_page() -> HTMLResponse:
    return web.page("editor", "gaps.html")



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

