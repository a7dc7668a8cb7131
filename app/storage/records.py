"""Stored rows as plain values, the shapes the Store returns (never wire models)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ROLES = ("agent", "editor", "admin")


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    role: str
    active: bool
    capacity: int
    created_at: datetime


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    category: str | None
    body: str
    questions: list[str]
    tags: list[str]
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by: int | None


@dataclass(frozen=True)
class ArticleVersion:
    article_id: str
    version: int
    title: str
    category: str | None
    body: str
    questions: list[str]
    tags: list[str]
    status: str
    author_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Conversation:
    id: str
    status: str
    lang: str
    site_key: str | None
    contact: dict[str, Any]
    last_seq: int
    bot_state: dict[str, Any]
    current_case_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Event:
    conversation_id: str
    seq: int
    kind: str  # message | handoff | note | feedback | rating | contact
    sender: str  # customer | bot | agent | system
    visibility: str  # public | internal
    text: str
    data: dict[str, Any]
    client_msg_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class Case:
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
    priority: str = "normal"  # low | normal | high | urgent
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QueueItem:
    case: Case
    position: int
    last_message: str
    contact: dict[str, Any] = field(default_factory=dict)
    team_name: str | None = None


@dataclass(frozen=True)
class Site:
    key: str
    name: str
    allowed_origins: list[str]
    identity_secret: str | None
    enforce_identity: bool
    enabled: bool = True
    language: str = "en"
    previous_identity_secret: str | None = None
    previous_secret_expires_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    business_hours: dict[str, Any] | None = None  # app/hours.py's JSON form; None: always open

    def identity_secrets(self, now: datetime) -> list[str]:
        """The secrets an identity hash may be signed with now: the current one, and the previous one
        during its grace period after a rotation."""
        live = [self.identity_secret] if self.identity_secret else []
        if (self.previous_identity_secret and self.previous_secret_expires_at is not None
                and self.previous_secret_expires_at > now):
            live.append(self.previous_identity_secret)
        return live


@dataclass(frozen=True)
class AuditEntry:
    id: int
    created_at: datetime
    actor_id: int | None
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Transition:
    """The outcome of a case action: the case after it and the event that tells everyone."""

    case: Case
    event: Event
    conversation: Conversation


@dataclass(frozen=True)
class Attachment:
    """A file sent in a conversation (app/attachments.py): its metadata and, from get_attachment, its bytes."""

    id: str
    conversation_id: str
    seq: int
    sender: str
    uploaded_by: int | None
    name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    data: bytes = b""


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    created_at: datetime
    member_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class RoutingRule:
    """Sends a new case to `team_id` when every set field matches (None: any)."""

    id: int
    position: int
    team_id: int
    site_key: str | None
    language: str | None
    reason: str | None
