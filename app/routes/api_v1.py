"""The REST API channel (/api/v1): the customer side of a conversation and the agents' actions, over HTTP.

Thin: every route parses, calls the same Desk methods the sockets call (app/conversation.py), and
shapes the reply with the sockets' own frames (app/events.py), so the guarantees are the sockets':
a customer message is stored (and numbered) before the answer acknowledges it, a retried
`client_msg_id` returns the stored message and does nothing else, an internal note never reaches
the customer side. Errors are the sockets' codes, as HTTP statuses (app/api_channel.py, with who may
act and the long polling); the wire models are in app/api_v1_schemas.py.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from app import events as ev
from app.api_channel import AgentUser, Writer, customer_conversation, events_after, http_error
from app.api_v1_schemas import (
    ERRORS,
    AfterSeq,
    AgentMessageIn,
    ConversationPath,
    ConversationStart,
    ConversationStarted,
    ConversationToken,
    CustomerMessageIn,
    EventsOut,
    NoteIn,
    Posted,
    RatingIn,
    TransferIn,
    Wait,
)
from app.conversation import DeskError, case_summary
from app.deps import DeskDep, ServicesDep, StoreDep
from app.schemas import RowId
from app.storage.records import User

router = APIRouter(prefix="/api/v1", tags=["api channel"])


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# ----------------------------------------------------------------------------- customer side
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
    conv = await customer_conversation(request, conversation_id, "conversations:write", desk, x_conversation_token)
    try:
        text = ev.check_text(body.text, desk.settings.max_message_chars)
        refused = await request.app.state.limits.hit_message(conv.id, _ip(request))
        if refused:
            desk.metrics.rate_limited.labels(f"{refused}_messages").inc()
            raise ev.FrameError("rate_limited", "too many messages; slow down")
        before = await desk.store.get_conversation(conv.id)
        events = await desk.receive_customer_message(conv.id, text, body.client_msg_id, body.article_id)
    except (DeskError, ev.FrameError) as exc:
        raise http_error(exc) from None
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
    conv = await customer_conversation(request, conversation_id, "conversations:write", desk, x_conversation_token)
    try:
        event = await desk.request_human(conv.id)
    except DeskError as exc:
        raise http_error(exc) from None
    return {"event": ev.event_frame(event)}


@router.post("/conversations/{conversation_id}/rating", responses=ERRORS)
async def rate(conversation_id: ConversationPath, body: RatingIn, request: Request, desk: DeskDep,
               x_conversation_token: ConversationToken = None) -> dict[str, Any]:
    """Rate the resolved case (409 when there is none)."""
    conv = await customer_conversation(request, conversation_id, "conversations:write", desk, x_conversation_token)
    try:
        case = await desk.rate(conv.id, body.score, body.comment)
    except DeskError as exc:
        raise http_error(exc) from None
    return {"case_id": case.id, "score": body.score, "recorded": True}


@router.get("/conversations/{conversation_id}/events", response_model=EventsOut, responses=ERRORS)
async def customer_events(conversation_id: ConversationPath, request: Request, services: ServicesDep,
                          after_seq: AfterSeq = 0, wait: Wait = 0,
                          x_conversation_token: ConversationToken = None) -> EventsOut:
    """The conversation's public events after `after_seq`, in seq order, as the customer socket sends them
    (never an internal note). Needs the conversation token or a token with conversations:read."""
    conv = await customer_conversation(request, conversation_id, "conversations:read", services.desk,
                                       x_conversation_token)
    events = await events_after(services, conv.id, after_seq, False, wait)
    current = await services.store.get_conversation(conv.id)
    return EventsOut(conversation_id=conv.id, status=(current or conv).status,
                     last_seq=max([after_seq, *[e.seq for e in events]]), events=[ev.event_frame(e) for e in events])


# ----------------------------------------------------------------------------- agent side
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
        raise http_error(exc) from None
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
        raise http_error(exc) from None
    return {"event": ev.agent_event_frame(event)["event"]}


@router.post("/agent/conversations/{conversation_id}/notes", status_code=201, responses=ERRORS)
async def note(conversation_id: ConversationPath, body: NoteIn, user: AgentUser, desk: DeskDep) -> dict[str, Any]:
    """An internal note: stored, shown to agents, never sent to the customer."""
    try:
        event = await desk.note(conversation_id, user, ev.check_text(body.text, desk.settings.max_message_chars))
    except (DeskError, ev.FrameError) as exc:
        raise http_error(exc) from None
    return {"event": ev.agent_event_frame(event)["event"]}


@router.get("/agent/conversations/{conversation_id}/events", response_model=EventsOut, responses=ERRORS)
async def agent_events(conversation_id: ConversationPath, user: AgentUser, services: ServicesDep,
                       after_seq: AfterSeq = 0, wait: Wait = 0) -> EventsOut:
    """Every event after `after_seq`, internal notes included, as the agent socket's `event` frames carry them."""
    conv = await services.store.get_conversation(conversation_id)
    if conv is None:
        raise HTTPException(404, f"conversation {conversation_id} not found")
    events = await events_after(services, conv.id, after_seq, True, wait)
    current = await services.store.get_conversation(conv.id)
    return EventsOut(conversation_id=conv.id, status=(current or conv).status,
                     last_seq=max([after_seq, *[e.seq for e in events]]),
                     events=[ev.agent_event_frame(e)["event"] for e in events])
