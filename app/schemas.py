"""REST wire models, one per direction (never the stored row)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field

from app.storage.records import Article, ArticleVersion, Case, Event, User
from app.storage.tables import INT_MAX
from app.validation import Line
from knowledge_base.models import ArticleDraft

# An id in a URL path. Larger numbers cannot name a row, and PostgreSQL refuses them as `integer`
# (a 500 if they reach the driver), so they get a 422 here.
RowId = Annotated[int, Path(ge=1, le=INT_MAX)]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Line = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class UserPublic(BaseModel):
    id: int
    email: str
    name: str
    role: str
    active: bool
    capacity: int

    @classmethod
    def of(cls, user: User) -> "UserPublic":
        return cls(id=user.id, email=user.email, name=user.name, role=user.role, active=user.active,
                   capacity=user.capacity)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: UserPublic


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)
    lang: str = Field(default="en", max_length=8)


class CandidateOut(BaseModel):
    article_id: str
    title: str
    score: float


class PreviewOut(BaseModel):
    action: Literal["answer", "clarify", "no_answer", "smalltalk", "escalate"]
    article_id: str | None
    confidence: float
    reason: str | None
    text: str
    candidates: list[CandidateOut]
    suggestions: list[CandidateOut]
    timings_ms: dict[str, float]
    html: str | None = None  # an answer as the widget shows it (knowledge_base/render.py)
    more_html: str | None = None  # the rest of its section, behind "Show more"


class EventOut(BaseModel):
    seq: int
    kind: str
    sender: str
    visibility: str
    text: str
    data: dict[str, Any]
    client_msg_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, e: Event) -> "EventOut":
        return cls(seq=e.seq, kind=e.kind, sender=e.sender, visibility=e.visibility, text=e.text, data=e.data,
                   client_msg_id=e.client_msg_id, created_at=e.created_at)


class CaseOut(BaseModel):
    id: int
    conversation_id: str
    status: str
    reason: str
    agent_id: int | None
    packet: dict[str, Any]
    created_at: datetime
    queued_at: datetime
    assigned_at: datetime | None
    first_reply_at: datetime | None
    resolved_at: datetime | None
    rating: int | None
    rating_comment: str | None
    contact_email: str | None
    team_id: int | None = None
    priority: str = "normal"
    tags: list[str] = []
    transcript: list[EventOut]

    @classmethod
    def of(cls, c: Case, transcript: list[Event]) -> "CaseOut":
        return cls(id=c.id, conversation_id=c.conversation_id, status=c.status, reason=c.reason, agent_id=c.agent_id,
                   packet=c.packet, created_at=c.created_at, queued_at=c.queued_at, assigned_at=c.assigned_at,
                   first_reply_at=c.first_reply_at, resolved_at=c.resolved_at, rating=c.rating,
                   rating_comment=c.rating_comment, contact_email=c.contact_email, team_id=c.team_id,
                   priority=c.priority, tags=list(c.tags), transcript=[EventOut.of(e) for e in transcript])


class ArticleOut(BaseModel):
    id: str
    title: str
    category: str | None
    body: str
    questions: list[str]
    tags: list[str]
    status: str
    version: int
    updated_at: datetime
    updated_by: int | None = None

    @classmethod
    def of(cls, a: Article) -> "ArticleOut":
        return cls(id=a.id, title=a.title, category=a.category, body=a.body, questions=a.questions, tags=a.tags,
                   status=a.status, version=a.version, updated_at=a.updated_at, updated_by=a.updated_by)


def draft_of(a: Article | ArticleVersion, article_id: str, **changes: Any) -> ArticleDraft:
    """An article (or one of its versions) as a draft, with `changes` applied; 422 if the result is invalid."""
    values = dict(id=article_id, title=a.title, body=a.body, category=a.category, questions=tuple(a.questions),
                  tags=tuple(a.tags), status=a.status)
    values.update({k: v for k, v in changes.items() if v is not None})
    values["questions"] = tuple(q.strip() for q in values["questions"] if str(q).strip())
    values["tags"] = tuple(dict.fromkeys(t.strip() for t in values["tags"] if str(t).strip()))
    if values.get("category") is not None:
        values["category"] = str(values["category"]).strip() or None
    try:
        return ArticleDraft(**values)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
