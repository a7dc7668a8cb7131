"""Every websocket frame as a pydantic model, discriminated on "type", validated at the socket edge.

Client frames are parsed with `parse_customer_frame` / `parse_agent_frame`; server frames are built
from stored events by `event_frame`, so what a client sees is always what is stored.

Longer than 300 lines on purpose: it is the protocol (docs/protocol.md) as one set of models, so a
frame's shape is read and changed in one place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, model_validator

from app.storage.records import Event
from app.storage.tables import INT_MAX
from app.validation import EmailAddress as EmailAddress, Line, Text  # EmailAddress: contact frame, transcript email

ClientMsgId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
ConversationId = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
Ref = Annotated[str, StringConstraints(max_length=64)]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


# ----------------------------------------------------------------------------- customer -> server
class CustomerMessage(_Frame):
    type: Literal["message"]
    text: str
    client_msg_id: ClientMsgId | None = None
    article_id: Annotated[str, StringConstraints(max_length=128)] | None = None


class RequestHuman(_Frame):
    type: Literal["request_human"]


class Feedback(_Frame):
    type: Literal["feedback"]
    seq: int = Field(ge=1)
    helpful: bool


class Resume(_Frame):
    type: Literal["resume"]
    last_seq: int = Field(ge=0)


class Typing(_Frame):
    type: Literal["typing"]
    active: bool = True
    conversation_id: ConversationId | None = None


class Ping(_Frame):
    type: Literal["ping"]


class Context(_Frame):
    """Where the customer is: sent by the widget after `session` (app/customer_context.py)."""

    type: Literal["context"]
    page_url: Annotated[Line, StringConstraints(max_length=2000)] | None = None
    page_title: Annotated[Line, StringConstraints(max_length=300)] | None = None
    time_zone: Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$")] | None = None
    language: Annotated[str, StringConstraints(max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")] | None = None


class Rating(_Frame):
    type: Literal["rating"]
    score: int = Field(ge=1, le=5)
    comment: Annotated[Text, StringConstraints(max_length=2000)] | None = None


class Contact(_Frame):
    type: Literal["contact"]
    email: EmailAddress
    name: Annotated[Line, StringConstraints(max_length=120)] | None = None


class Identify(_Frame):
    type: Literal["identify"]
    user_id: Annotated[Line, StringConstraints(min_length=1, max_length=128)]
    name: Annotated[Line, StringConstraints(max_length=120)] | None = None
    email: Annotated[Line, StringConstraints(max_length=254)] | None = None
    user_hash: Annotated[str, StringConstraints(max_length=128)] | None = None


class HistoryOpen(_Frame):  # a verified customer opens one of their earlier conversations
    type: Literal["history_open"]
    conversation_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^c_[0-9a-f]{1,60}$")]


class FollowupAnswer(_Frame):  # "Did that solve it?" (app/followup.py)
    type: Literal["followup_answer"]
    followup_id: int = Field(ge=1)
    answer: Literal["yes", "no"]


CustomerFrame = Annotated[
    Union[CustomerMessage, RequestHuman, Feedback, Resume, Typing, Ping, Rating, Contact, Identify, FollowupAnswer,
          HistoryOpen,
          Context],
    Field(discriminator="type"),
]


# ----------------------------------------------------------------------------- agent -> server
class _AgentFrame(_Frame):
    ref: Ref | None = None


class Claim(_AgentFrame):
    type: Literal["claim"]
    case_id: int = Field(ge=1)


class Open(_AgentFrame):
    type: Literal["open"]
    conversation_id: ConversationId
    last_seq: int = Field(default=0, ge=0)


class AgentMessage(_AgentFrame):
    type: Literal["message"]
    conversation_id: ConversationId
    text: str
    client_msg_id: ClientMsgId | None = None


class Note(_AgentFrame):
    type: Literal["note"]
    conversation_id: ConversationId
    text: str


class Resolve(_AgentFrame):
    type: Literal["resolve"]
    case_id: int = Field(ge=1)


class HandBack(_AgentFrame):
    type: Literal["hand_back"]
    case_id: int = Field(ge=1)


class Transfer(_AgentFrame):
    """To an agent (`agent_id`: assigned to them) or to a team (`team_id`: back in the queue, for that team)."""
    type: Literal["transfer"]
    case_id: int = Field(ge=1)
    agent_id: int | None = Field(default=None, ge=1)
    team_id: int | None = Field(default=None, ge=1, le=2_147_483_647)

    @model_validator(mode="after")
    def _one_target(self) -> "Transfer":
        if (self.agent_id is None) == (self.team_id is None):
            raise ValueError("give exactly one of agent_id and team_id")
        return self


class AgentTyping(_AgentFrame):
    type: Literal["typing"]
    conversation_id: ConversationId
    active: bool = True


class Presence(_AgentFrame):
    type: Literal["presence"]
    status: Literal["online", "away", "offline"]


class AgentPing(_AgentFrame):
    type: Literal["ping"]


class Join(_AgentFrame):
    """Take over a conversation the bot is handling (app/takeover.py)."""

    type: Literal["join"]
    conversation_id: ConversationId


AgentFrame = Annotated[
    Union[Claim, Open, AgentMessage, Note, Resolve, HandBack, Transfer, AgentTyping, Presence, AgentPing, Join],
    Field(discriminator="type"),
]

_customer_adapter: TypeAdapter[Any] = TypeAdapter(CustomerFrame)
_agent_adapter: TypeAdapter[Any] = TypeAdapter(AgentFrame)
CUSTOMER_TYPES = ("message", "request_human", "feedback", "resume", "typing", "ping", "rating", "contact", "identify",
                  "followup_answer", "context", "history_open")
AGENT_TYPES = ("claim", "open", "message", "note", "resolve", "hand_back", "transfer", "typing", "presence", "ping",
               "join")
SERVER_TYPES = ("session", "message", "handoff", "queue", "typing", "error", "pong", "feedback", "hello",
                "case", "event", "transcript", "ack", "rating", "contact", "followup", "followup_answer",
                "history", "history_transcript")


class FrameError(Exception):
    def __init__(self, code: str, detail: str, ref: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.ref = ref


def _parse(raw: str, adapter: TypeAdapter[Any], known: tuple[str, ...]) -> Any:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise FrameError("invalid_json", "the frame is not valid JSON") from None
    if "\\u" in raw:  # escapes may decode to lone surrogates, which no database can store
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except (UnicodeEncodeError, RecursionError):
            raise FrameError("invalid_json", "the frame contains invalid unicode escapes") from None
    if not isinstance(data, dict):
        raise FrameError("invalid_frame", "a frame must be a JSON object with a \"type\"")
    ref = data.get("ref") if isinstance(data.get("ref"), str) else None
    kind = data.get("type")
    if kind not in known:
        raise FrameError("unknown_type", f"unknown frame type {str(kind)[:40]!r}; expected one of {', '.join(known)}", ref)
    try:
        frame = adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "frame"
        raise FrameError("invalid_frame", f"{kind}: {where}: {first['msg']}", ref) from None
    for name, value in vars(frame).items():  # ids and seqs must fit the database's integers
        if isinstance(value, int) and not isinstance(value, bool) and not -INT_MAX <= value <= INT_MAX:
            raise FrameError("invalid_frame", f"{kind}: {name}: number out of range", ref)
    return frame


def parse_customer_frame(raw: str) -> Any:
    return _parse(raw, _customer_adapter, CUSTOMER_TYPES)


def parse_agent_frame(raw: str) -> Any:
    return _parse(raw, _agent_adapter, AGENT_TYPES)


def read_frame(parse: Callable[[str], Any], raw: str | None) -> tuple[Any, FrameError | None]:
    """(frame, None), or (None, the error to answer with) for a binary or an invalid frame."""
    if raw is None:
        return None, FrameError("binary_not_supported", "send JSON text frames")
    try:
        return parse(raw), None
    except FrameError as exc:
        return None, exc


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))  # zero-width, soft hyphen
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")  # embeddings, overrides, isolates


def check_text(text: str, limit: int) -> str:
    """Message text rules shared by every sender: not blank (zero-width characters alone count as
    blank), not too long, no NUL bytes, no bidirectional override or isolate characters (they make
    a line read differently from what it says, in the console and in every transcript)."""
    cleaned = text.replace("\x00", "").strip()
    if not cleaned.translate(_INVISIBLE).strip():
        raise FrameError("empty_text", "text must not be empty")
    if _BIDI_CONTROLS.search(cleaned):
        raise FrameError("invalid_text", "text must not contain bidirectional override characters")
    if len(cleaned) > limit:
        raise FrameError("text_too_long", f"text is longer than {limit} characters")
    return cleaned


def error_frame(code: str, detail: str, ref: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    if ref is not None:
        frame["ref"] = ref
    return frame


# ----------------------------------------------------------------------------- server -> client
def event_frame(event: Event) -> dict[str, Any]:
    """A stored event as the customer-facing frame (`message` or `handoff`)."""
    data = event.data
    if event.kind == "followup":  # a check-in with yes/no answers (app/followup.py)
        return {"type": "followup", "seq": event.seq, "followup_id": data.get("followup_id"), "text": event.text,
                "answers": data.get("answers", ["yes", "no"]), "case_id": data.get("case_id"),
                "created_at": event.created_at.isoformat()}
    if event.kind == "handoff":
        return {
            "type": "handoff", "seq": event.seq, "status": data.get("status"), "reason": data.get("reason"),
            "position": data.get("position"), "agent": data.get("agent"), "text": event.text,
            "availability": data.get("availability"), "estimated_wait_seconds": data.get("estimated_wait_seconds"),
            "agents_online": data.get("agents_online"),
            "created_at": event.created_at.isoformat(),
            **{k: data[k] for k in ("offline_reason", "back_at") if k in data},  # queued while no one can answer
        }
    frame: dict[str, Any] = {
        "type": "message", "seq": event.seq, "sender": event.sender, "text": event.text,
        "article": data.get("article"), "suggestions": data.get("suggestions", []),
        "confidence": data.get("confidence"), "client_msg_id": event.client_msg_id,
        "created_at": event.created_at.isoformat(), "agent": data.get("agent"), "action": data.get("action"),
        "kind": event.kind,
    }
    for key in ("html", "more_html", "offer_person"):  # a bot answer's rendered section (knowledge_base/render.py)
        if data.get(key):
            frame[key] = data[key]
    if isinstance(data.get("attachment"), dict):  # a file (app/attachments.py): the customer's download url
        frame["attachment"] = dict(data["attachment"], url=f"/api/chat/attachments/{data['attachment'].get('id')}")
    return frame


def agent_event_frame(event: Event) -> dict[str, Any]:
    """The same event for agents: adds visibility and the bot's decision record."""
    frame = event_frame(event)
    if "attachment" in frame:  # agents download through the staff route
        frame["attachment"]["url"] = f"/api/console/attachments/{frame['attachment'].get('id')}"
    frame["visibility"] = event.visibility
    frame["data"] = event.data
    return {"type": "event", "conversation_id": event.conversation_id, "event": frame}
