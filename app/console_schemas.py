"""The agent console's wire models (app/routes/console.py), one per answer or request, never the stored row,
and the label a customer is shown by.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.validation import Line, Text


def customer_label(contact: dict[str, Any]) -> str | None:
    return contact.get("name") or contact.get("email") or contact.get("user_id") or None


# ----------------------------------------------------------------------------- team
class AgentOut(BaseModel):
    id: int
    name: str
    role: str
    presence: str
    active_cases: int
    capacity: int


# ----------------------------------------------------------------------------- live bot conversations and context
class LiveMessageOut(BaseModel):
    seq: int
    sender: str
    text: str
    action: str | None
    created_at: datetime


class LiveOut(BaseModel):
    conversation_id: str
    lang: str
    customer: str | None
    verified: bool
    page_url: str | None
    started_at: datetime
    last_activity_at: datetime
    messages: list[LiveMessageOut]
    decision: dict[str, Any] | None


class PastOut(BaseModel):
    conversation_id: str
    created_at: datetime
    status: str
    case_id: int | None
    reason: str | None
    rating: int | None
    first_message: str


class ContextOut(BaseModel):
    conversation_id: str
    verified_user_id: str | None
    past: list[PastOut]
    past_note: str


# ----------------------------------------------------------------------------- canned replies
class CannedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shortcut: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")
    title: Line = Field(min_length=1, max_length=120)
    body: Text = Field(min_length=1, max_length=4000)


class CannedOut(BaseModel):
    id: int
    shortcut: str
    title: str
    body: str


# ----------------------------------------------------------------------------- article search
class ArticleHitOut(BaseModel):
    id: str
    title: str
    snippet: str
    url: str
    score: float | None


# ----------------------------------------------------------------------------- history
class HistoryRow(BaseModel):
    id: int
    conversation_id: str
    status: str
    reason: str
    agent_id: int | None
    agent_name: str | None
    queued_at: datetime
    resolved_at: datetime | None
    rating: int | None
    customer: str | None
    last_message: str
    team_id: int | None = None
    priority: str = "normal"
    tags: list[str] = []
