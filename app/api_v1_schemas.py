"""The REST API channel's wire models and request parameters (app/routes/api_v1.py), never the stored row.

Frames inside them (`message`, `events`) are the sockets' own (app/events.py), so the HTTP and the
socket clients read the same shapes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from app import events as ev
from app.storage.tables import INT_MAX
from app.validation import Line, Text

ERRORS = {404: {"description": "no such conversation or case"}, 409: {"description": "the state changed"},
          422: {"description": "invalid input"}, 429: {"description": "rate limited"}}
MAX_WAIT = 30

ConversationPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
MessageText = Annotated[Text, Field(min_length=1, max_length=100_000)]
ConversationToken = Annotated[str | None, Header(alias="X-Conversation-Token", max_length=128)]
AfterSeq = Annotated[int, Query(ge=0, le=INT_MAX, description="Return the events after this seq")]
Wait = Annotated[float, Query(ge=0, le=MAX_WAIT, description="Seconds to wait for a first event (long polling)")]


# ----------------------------------------------------------------------------- customer side
class ConversationStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lang: Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] = "en"
    email: ev.EmailAddress | None = Field(default=None, description="The customer's address, if known (a claim, "
                                          "not verified)")
    name: Line | None = Field(default=None, max_length=120)


class ConversationStarted(BaseModel):
    conversation_id: str
    token: str = Field(description="The customer's conversation token (as in the socket's `session` frame): send it "
                       "as X-Conversation-Token to act as this customer without an API token")
    status: str
    last_seq: int


class CustomerMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: MessageText
    client_msg_id: ev.ClientMsgId | None = Field(default=None, description="Makes a retry idempotent: the same id is "
                                                 "stored once and a retry gets the stored message back")
    article_id: Annotated[str, Field(max_length=128)] | None = None


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=1, le=5)
    comment: Annotated[Text, Field(max_length=2000)] | None = None


class Posted(BaseModel):
    message: dict[str, Any] = Field(description="The stored message, as the socket's `message` frame (with its seq)")
    events: list[dict[str, Any]] = Field(description="What followed it at once (the bot's answer, a handoff), as frames")
    duplicate: bool = Field(description="True when client_msg_id was already stored: nothing new was done")


class EventsOut(BaseModel):
    conversation_id: str
    status: str
    last_seq: int = Field(description="Pass it as after_seq next time")
    events: list[dict[str, Any]]


# ----------------------------------------------------------------------------- agent side
class AgentMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: MessageText
    client_msg_id: ev.ClientMsgId | None = None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: MessageText


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent_id: int = Field(ge=1, le=INT_MAX)
