"""The REST API channel (/api/v1): the customer side of a conversation and the agents' actions, over HTTP.

Thin: every route parses, calls the same Desk methods the sockets call (app/conversation.py), and
shapes the reply with the sockets' own frames (app/events.py), so the guarantees are the sockets':
a customer message is stored (and numbered) before the answer acknowledges it, a retried
`client_msg_id` returns the stored message and does nothing else, an internal note never reaches
the customer side. Errors are the sockets' codes, as HTTP statuses (see _status).
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app import events as ev
from app.apitokens import SCOPES
from app.conversation import DeskError, case_summary, conversation_channel
from app.deps import CurrentUser, DeskDep, ServicesDep, StoreDep
from app.schemas import RowId
from app.storage.records import Conversation, Event, User
from app.storage.tables import INT_MAX
from app.validation import Line, Text

router = APIRouter(prefix="/api/v1", tags=["api channel"])
ERRORS = {404: {"description": "no such conversation or case"}, 409: {"description": "the state changed"},
          422: {"description": "invalid input"}, 429: {"description": "rate limited"}}
MAX_WAIT = 30
_STATUS = {"not_found": 404, "not_owner": 403, "forbidden": 403, "already_claimed": 409, "invalid_state": 409,
           "duplicate_id": 409, "rate_limited": 429}


def _status(exc: DeskError | ev.FrameError) -> HTTPException:
    code = _STATUS.get(exc.code, 422)
    return HTTPException(code, {"code": exc.code, "detail": exc.detail})


def require_scope(scope: str):  # type: ignore[no-untyped-def]
    """A logged-in user whose role may do `scope`, or an API token that carries it (or `admin`)."""
    async def check(request: Request, user: CurrentUser) -> User:
        scopes = getattr(request.state, "api_scopes", None)
        if user.role not in SCOPES[scope]:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"a {user.role} cannot use {scope} routes")
        if scopes is not None and scope not in scopes and "admin" not in scopes:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this API token needs the scope {scope}")
        return user
    return check


AgentUser = Annotated[User, Depends(require_scope("agent"))]
Writer = Annotated[User, Depends(require_scope("conversations:write"))]
ConversationPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
MessageText = Annotated[Text, Field(min_length=1, max_length=100_000)]


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


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


async def _customer_conversation(request: Request, conversation_id: str, scope: str, desk: Any,
                                 conversation_token: str | None) -> Conversation:
    """The conversation, for its own customer (X-Conversation-Token) or an integration with `scope`."""
    if conversation_token:
        conv = await desk.conversation_for_token(conversation_token)
        if conv is None or conv.id != conversation_id:
            raise HTTPException(404, "no conversation for this token")
        return conv
    from app.deps import _current_user

    user = await _current_user(request, desk.store)
    await require_scope(scope)(request, user)
    conv = await desk.store.get_conversation(conversation_id)
    if conv is None:
        raise HTTPException(404, f"conversation {conversation_id} not found")
    return conv


ConversationToken = Annotated[str | None, Header(alias="X-Conversation-Token", max_length=128)]


@router.post("/conversations", response_model=ConversationStarted, status_code=201, responses=ERRORS)
async def start_conversation(body: ConversationStart, request: Request, user: Writer, desk: DeskDep) -> ConversationStarted:
    """Start a customer conversation (the bot owns it), as the widget socket does without a token."""
    if not await request.app.state.limits.hit_new_conversation(_ip(request)):
        desk.metrics.rate_limited.labels("ip_conversations").inc()
        raise HTTPException(429, "too many new conversations; try again in a minute")
    conv, token = await desk.start_conversation(body.lang.lower()[:8], None)
    if body.email:
        await desk.store.update_conversation(conv.id, contact={"email": body.email, **({"name": body.name} if body.name else {})})
    elif body.name:
        await desk.store.update_conversation(conv.id, contact={"name": body.name})
    return ConversationStarted(conversation_id=conv.id, token=token, status=conv.status, last_seq=conv.last_seq)


@router.post("/conversations/{conversation_id}/messages", response_model=Posted, status_code=201, responses=ERRORS)
async def post_customer_message(conversation_id: ConversationPath, body: CustomerMessageIn, request: Request,
                                response: Response, desk: DeskDep,
                                x_conversation_token: ConversationToken = None) -> Posted:
    """A customer message. 201 once it is stored (its seq is in `message`), with what the bot did at once;
    a retried client_msg_id answers 200 with the stored message and `duplicate: true`."""
    conv = await _customer_conversation(request, conversation_id, "conversations:write", desk, x_conversation_token)
    try:
        text = ev.check_text(body.text, desk.settings.max_message_chars)
        refused = await request.app.state.limits.hit_message(conv.id, _ip(request))
        if refused:
            desk.metrics.rate_limited.labels(f"{refused}_messages").inc()
            raise ev.FrameError("rate_limited", "too many messages; slow down")
        before = await desk.store.get_conversation(conv.id)
        events = await desk.receive_customer_message(conv.id, text, body.client_msg_id, body.article_id)
    except (DeskError, ev.FrameError) as exc:
        raise _status(exc) from None
    first = events[0]
    duplicate = before is not None and first.seq <= before.last_seq
    if duplicate:
        response.status_code = 200
    return Posted(message=ev.event_frame(first), duplicate=duplicate,
                  events=[ev.event_frame(e) for e in events[1:] if e.visibility == "public"])


@router.post("/conversations/{conversation_id}/request_human", responses=ERRORS)
async def request_human(conversation_id: ConversationPath, request: Request, desk: DeskDep,
                        x_conversation_token: ConversationToken = None) -> dict[str, Any]:
    """Ask for a person now: the conversation enters the queue (409 when it is already queued or assigned)."""
    conv = await _customer_conversation(request, conversation_id, "conversations:write", desk, x_conversation_token)
    try:
        event = await desk.request_human(conv.id)
    except DeskError as exc:
        raise _status(exc) from None
    return {"event": ev.event_frame(event)}


@router.post("/conversations/{conversation_id}/rating", responses=ERRORS)
async def rate(conversation_id: ConversationPath, body: RatingIn, request: Request, desk: DeskDep,
               x_conversation_token: ConversationToken = None) -> dict[str, Any]:
    """Rate the resolved case (409 when there is none)."""
    conv = await _customer_conversation(request, conversation_id, "conversations:write", desk, x_conversation_token)
    try:
        case = await desk.rate(conv.id, body.score, body.comment)
    except DeskError as exc:
        raise _status(exc) from None
    return {"case_id": case.id, "score": body.score, "recorded": True}


async def _events_after(services: Any, conv_id: str, after: int, include_internal: bool, wait: float) -> list[Event]:
    """Events after `after`; with `wait`, holds the request until one arrives (long polling), at most `wait` s."""
    desk = services.desk
    events = await desk.transcript(conv_id, after, include_internal=include_internal)
    if events or wait <= 0:
        return events
    sub = services.broker.subscription()
    deadline = time.monotonic() + wait
    try:
        await sub.add(conversation_channel(conv_id))
        while True:
            events = await desk.transcript(conv_id, after, include_internal=include_internal)  # after subscribing
            left = deadline - time.monotonic()
            if events or left <= 0:
                return events
            try:
                while True:
                    _, message = await asyncio.wait_for(sub.get(), left)
                    if message.get("type") in ("event", "resync", "erased"):
                        break
            except asyncio.TimeoutError:
                return await desk.transcript(conv_id, after, include_internal=include_internal)
    finally:
        await sub.close()


AfterSeq = Annotated[int, Query(ge=0, le=INT_MAX, description="Return the events after this seq")]
Wait = Annotated[float, Query(ge=0, le=MAX_WAIT, description="Seconds to wait for a first event (long polling)")]


@router.get("/conversations/{conversation_id}/events", response_model=EventsOut, responses=ERRORS)
async def customer_events(conversation_id: ConversationPath, request: Request, services: ServicesDep,
                          after_seq: AfterSeq = 0, wait: Wait = 0,
                          x_conversation_token: ConversationToken = None) -> EventsOut:
    """The conversation's public events after `after_seq`, in seq order, as the customer socket sends them
    (never an internal note). Needs the conversation token or a token with conversations:read."""
    conv = await _customer_conversation(request, conversation_id, "conversations:read", services.desk,
                                        x_conversation_token)
    events = await _events_after(services, conv.id, after_seq, False, wait)
    current = await services.store.get_conversation(conv.id)
    return EventsOut(conversation_id=conv.id, status=(current or conv).status,
                     last_seq=max([after_seq, *[e.seq for e in events]]), events=[ev.event_frame(e) for e in events])


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


@router.get("/agent/queue", responses=ERRORS)
async def queue(user: AgentUser, store: StoreDep) -> dict[str, Any]:
    """The waiting cases, oldest first (the agent socket's `queue` frame)."""
    items = await store.queue()
    return {"agents_online": len(await store.online_agents()), "cases": [
        {**case_summary(i.case), "position": i.position, "last_message": i.last_message, "contact": i.contact}
        for i in items]}


@router.get("/agent/cases", responses=ERRORS)
async def cases(user: AgentUser, store: StoreDep, status_: Literal["queued", "assigned", "resolved", "bot"] | None =
                Query(default=None, alias="status"), mine: bool = False,
                limit: int = Query(default=100, ge=1, le=500)) -> dict[str, Any]:
    """Cases, newest first (`mine`: assigned to the token's user)."""
    found = await store.list_cases(status=status_, agent_id=user.id if mine else None, limit=limit)
    return {"cases": [case_summary(c) for c in found]}


async def _case_action(action: str, case_id: int, user: User, desk: Any, store: Any, body: Any = None) -> dict[str, Any]:
    try:
        if action == "claim":
            transition = await desk.claim(case_id, user)
        elif action == "resolve":
            transition = await desk.resolve(case_id, user)
        elif action == "hand_back":
            transition = await desk.hand_back(case_id, user)
        else:
            target = await store.get_user(body.agent_id)
            if target is None:
                raise DeskError("not_found", f"agent {body.agent_id} not found")
            transition = await desk.transfer(case_id, user, target)
    except DeskError as exc:
        raise _status(exc) from None
    return {"case": case_summary(transition.case), "event": ev.agent_event_frame(transition.event)["event"]}


@router.post("/agent/cases/{case_id}/claim", responses=ERRORS)
async def claim(case_id: RowId, user: AgentUser, desk: DeskDep, store: StoreDep) -> dict[str, Any]:
    """Take a queued case; of several agents exactly one wins, the others get 409 already_claimed."""
    return await _case_action("claim", case_id, user, desk, store)


@router.post("/agent/cases/{case_id}/resolve", responses=ERRORS)
async def resolve(case_id: RowId, user: AgentUser, desk: DeskDep, store: StoreDep) -> dict[str, Any]:
    return await _case_action("resolve", case_id, user, desk, store)


@router.post("/agent/cases/{case_id}/hand_back", responses=ERRORS)
async def hand_back(case_id: RowId, user: AgentUser, desk: DeskDep, store: StoreDep) -> dict[str, Any]:
    return await _case_action("hand_back", case_id, user, desk, store)


@router.post("/agent/cases/{case_id}/transfer", responses=ERRORS)
async def transfer(case_id: RowId, body: TransferIn, user: AgentUser, desk: DeskDep, store: StoreDep) -> dict[str, Any]:
    return await _case_action("transfer", case_id, user, desk, store, body)


@router.post("/agent/conversations/{conversation_id}/messages", status_code=201, responses=ERRORS)
async def agent_message(conversation_id: ConversationPath, body: AgentMessageIn, user: AgentUser,
                        desk: DeskDep) -> dict[str, Any]:
    """Reply to the customer (only the agent the case is assigned to)."""
    try:
        event = await desk.agent_message(conversation_id, user, ev.check_text(body.text, desk.settings.max_message_chars),
                                         body.client_msg_id)
    except (DeskError, ev.FrameError) as exc:
        raise _status(exc) from None
    return {"event": ev.agent_event_frame(event)["event"]}


@router.post("/agent/conversations/{conversation_id}/notes", status_code=201, responses=ERRORS)
async def note(conversation_id: ConversationPath, body: NoteIn, user: AgentUser, desk: DeskDep) -> dict[str, Any]:
    """An internal note: stored, shown to agents, never sent to the customer."""
    try:
        event = await desk.note(conversation_id, user, ev.check_text(body.text, desk.settings.max_message_chars))
    except (DeskError, ev.FrameError) as exc:
        raise _status(exc) from None
    return {"event": ev.agent_event_frame(event)["event"]}


@router.get("/agent/conversations/{conversation_id}/events", response_model=EventsOut, responses=ERRORS)
async def agent_events(conversation_id: ConversationPath, user: AgentUser, services: ServicesDep,
                       after_seq: AfterSeq = 0, wait: Wait = 0) -> EventsOut:
    """Every event after `after_seq`, internal notes included, as the agent socket's `event` frames carry them."""
    conv = await services.store.get_conversation(conversation_id)
    if conv is None:
        raise HTTPException(404, f"conversation {conversation_id} not found")
    events = await _events_after(services, conv.id, after_seq, True, wait)
    current = await services.store.get_conversation(conv.id)
    return EventsOut(conversation_id=conv.id, status=(current or conv).status,
                     last_seq=max([after_seq, *[e.seq for e in events]]),
                     events=[ev.agent_event_frame(e)["event"] for e in events])
