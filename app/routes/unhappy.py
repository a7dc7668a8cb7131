"""Unhappy customers: who rated low, was frustrated, failed twice or came back, and the follow-up case.

Why a case counts as unhappy is app/analytics.py (unhappy_reasons); the query is the store's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from app import analytics as learn
from app import web
from app.conversation import DeskError
from app.deps import CurrentAgent, DeskDep, StoreDep
from app.reports import period
from app.schemas import RowId
from app.storage.quality import UNHAPPY_KINDS
from app.storage.sql import Conflict
from app.storage.tables import INT_MAX

router = APIRouter(tags=["analytics"])


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
