"""The agent console: its pages (/login, /console), its assets, and the REST reads it needs.

The live part (queue, chats, presence) is the agent socket `/ws/agent`; these endpoints cover what a
socket is a poor fit for: searching history, exporting a transcript, canned replies, article search.
The wire models are in app/console_schemas.py.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from app import web
from app.auth import user_for_token
from app.attachments import export_text
from app.console_schemas import (
    AgentOut,
    ArticleHitOut,
    CannedIn,
    CannedOut,
    ContextOut,
    HistoryRow,
    LiveMessageOut,
    LiveOut,
    PastOut,
    customer_label,
)
from app.conversation import case_summary, transcript_entry
from app.deps import CurrentAdmin, CurrentAgent, KnowledgeDep, StoreDep, bearer_token
from app.events import ConversationId
from app.schemas import RowId
from app.storage.console import DuplicateShortcut
from app.storage.records import Event
from app.storage.tables import INT_MAX
from app.validation import Line
from app.vocabulary import FILTER_REASONS

router = APIRouter(tags=["console"])
ASSETS = {"console.css", "console.js", "login.js"}
REASONS = FILTER_REASONS  # app/vocabulary.py: the one list


def _page(name: str, status_code: int = 200) -> HTMLResponse:
    return web.page("console", name, status_code)


# ----------------------------------------------------------------------------- pages
@router.get("/login", include_in_schema=False)
async def login_page(request: Request, store: StoreDep) -> Response:
    user = await user_for_token(store, bearer_token(request))
    if user is not None and user.role in ("agent", "admin"):
        return RedirectResponse("/console", status.HTTP_303_SEE_OTHER)
    return _page("login.html")


@router.get("/console", include_in_schema=False)
async def console_page(request: Request, store: StoreDep) -> Response:
    user = await user_for_token(store, bearer_token(request))
    if user is None:
        return RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    if user.role not in ("agent", "admin"):
        return _page("forbidden.html", status.HTTP_403_FORBIDDEN)
    return _page("console.html")


@router.get("/console/assets/{name}", include_in_schema=False)
async def console_asset(name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(404, "no such asset")
    return web.asset("console", name)


# ----------------------------------------------------------------------------- team
@router.get("/api/console/agents", response_model=list[AgentOut])
async def agents(user: CurrentAgent, store: StoreDep) -> list[AgentOut]:
    """Agents and admins on the team with presence and load: for transfers and the team view."""
    stale = datetime.now(timezone.utc) - timedelta(seconds=60)
    return [AgentOut(id=a.id, name=a.name, role=a.role, active_cases=a.active_cases, capacity=a.capacity,
                     presence=a.presence if a.presence == "offline" or (a.last_seen and a.last_seen > stale)
                     else "offline")
            for a in await store.agents_on_duty()]


# ----------------------------------------------------------------------------- live bot conversations
@router.get("/api/console/live", response_model=list[LiveOut])
async def live_conversations(user: CurrentAgent, store: StoreDep,
                             minutes: int = Query(default=15, ge=1, le=240),
                             limit: int = Query(default=50, ge=1, le=100)) -> list[LiveOut]:
    """Conversations the bot is handling now (a customer wrote in the last `minutes`), most
    recently active first, with their last messages and the bot's last decision: agents may join one."""
    since = datetime.now(timezone.utc) - timedelta(minutes=minutes)
    return [LiveOut(conversation_id=c.conversation_id, lang=c.lang, customer=customer_label(c.contact),
                    verified=bool(c.contact.get("verified")),
                    page_url=(c.contact.get("context") or {}).get("page_url"),
                    started_at=c.created_at, last_activity_at=c.updated_at,
                    messages=[LiveMessageOut(**m) for m in c.messages], decision=c.decision)
            for c in await store.live_bot_conversations(since, limit)]


@router.get("/api/console/conversations/{conversation_id}/context", response_model=ContextOut, responses={404: {}})
async def conversation_context(conversation_id: ConversationId, user: CurrentAgent, store: StoreDep) -> ContextOut:
    """Past conversations of this customer, only when the site verified their user_id (a claimed id
    could be anyone's: its history is never shown)."""
    conv = await store.get_conversation(conversation_id)
    if conv is None:
        raise HTTPException(404, f"conversation {conversation_id} not found")
    user_id = conv.contact.get("user_id")
    if not user_id or "user_id" not in (conv.contact.get("verified_fields") or []):
        note = "not signed in on your site" if not user_id else "identity not verified: past conversations are not shown"
        return ContextOut(conversation_id=conv.id, verified_user_id=None, past=[], past_note=note)
    past = await store.past_conversations(conv.site_key, str(user_id), exclude=conv.id)
    return ContextOut(conversation_id=conv.id, verified_user_id=str(user_id), past=[PastOut(**vars(p)) for p in past],
                      past_note="" if past else "no earlier conversations")


# ----------------------------------------------------------------------------- canned replies
@router.get("/api/console/canned", response_model=list[CannedOut])
async def list_canned(user: CurrentAgent, store: StoreDep) -> list[CannedOut]:
    return [CannedOut(**vars(c)) for c in await store.list_canned()]


@router.post("/api/console/canned", response_model=CannedOut, status_code=201, responses={409: {}})
async def create_canned(body: CannedIn, user: CurrentAdmin, store: StoreDep) -> CannedOut:
    try:
        return CannedOut(**vars(await store.create_canned(body.shortcut, body.title, body.body, user.id)))
    except DuplicateShortcut:
        raise HTTPException(409, f"the shortcut /{body.shortcut} is taken") from None


@router.delete("/api/console/canned/{canned_id}", status_code=204, responses={404: {}})
async def delete_canned(canned_id: RowId, user: CurrentAdmin, store: StoreDep) -> Response:
    if not await store.delete_canned(canned_id):
        raise HTTPException(404, f"canned reply {canned_id} not found")
    return Response(status_code=204)


# ----------------------------------------------------------------------------- article search
@router.get("/api/console/articles", response_model=list[ArticleHitOut])
async def search_articles(user: CurrentAgent, knowledge: KnowledgeDep,
                          q: str = Query(default="", max_length=300)) -> list[ArticleHitOut]:
    """Published articles matching `q` (semantic search over the live index), best first."""
    kb = knowledge.kb
    q = q.strip()
    if not q:
        return [ArticleHitOut(id=a.id, title=a.title, snippet=(a.chunks[0] if a.chunks else "")[:240], url=a.url,
                              score=None) for a in sorted(kb.articles.values(), key=lambda a: a.title)][:20]
    result = await asyncio.to_thread(kb.search, q, 8)
    needle = q.lower()
    titled = [a for a in kb.articles.values() if needle in a.title.lower()]
    hits = [ArticleHitOut(id=a.id, title=a.title, snippet=(a.chunks[0] if a.chunks else "")[:240], url=a.url,
                          score=1.0) for a in titled]
    seen = {h.id for h in hits}
    hits += [ArticleHitOut(id=c.article_id, title=c.title, snippet=c.snippet[:240], url=c.url,
                           score=round(c.score, 3)) for c in result.candidates if c.article_id not in seen]
    return hits[:8]


# ----------------------------------------------------------------------------- history
@router.get("/api/console/history", response_model=list[HistoryRow])
async def history(user: CurrentAgent, store: StoreDep,
                  q: Annotated[Line | None, Query(max_length=200)] = None,
                  status_: Literal["queued", "assigned", "resolved", "bot"] | None = Query(default=None, alias="status"),
                  reason: Literal[REASONS] | None = None,  # type: ignore[valid-type]
                  agent_id: int | None = Query(default=None, ge=1, le=INT_MAX),
                  date_from: date | None = None, date_to: date | None = None,
                  limit: int = Query(default=100, ge=1, le=500),
                  rating: int | None = Query(default=None, ge=1, le=5, description="CSAT exactly this (1-5)"),
                  rating_max: int | None = Query(default=None, ge=1, le=5, description="CSAT at most this"),
                  frustrated: bool = Query(default=False, description="escalated because the customer was frustrated"),
                  repeated_failure: bool = Query(default=False, description="escalated after two failed answers"),
                  recontact_days: int | None = Query(default=None, ge=1, le=90,
                                                     description="resolved, and the customer came back within N days"),
                  tag: Annotated[str | None, Query(max_length=40, pattern=r"^[\w][\w .-]*$",
                                                   description="cases with this tag")] = None,
                  team_id: int | None = Query(default=None, ge=1, le=INT_MAX, description="cases of this team"),
                  priority: Literal["low", "normal", "high", "urgent"] | None = None,
                  ) -> list[HistoryRow]:
    """Cases newest first. `q` searches every message and note and the customer's identity;
    dates are inclusive days (UTC). `frustrated` and `repeated_failure` together mean either reason."""
    since = datetime.combine(date_from, time.min, timezone.utc) if date_from else None
    until = datetime.combine(date_to + timedelta(days=1), time.min, timezone.utc) if date_to else None
    reasons = tuple(r for r, on in (("frustration", frustrated), ("repeated_failure", repeated_failure)) if on)
    rows = await store.search_cases(text=(q or "").strip() or None, status=status_, reason=reason, agent_id=agent_id,
                                    since=since, until=until, limit=limit, rating=rating, rating_max=rating_max,
                                    reasons=reasons, recontact_days=recontact_days,
                                    tag=" ".join(tag.lower().split()) if tag else None, team_id=team_id,
                                    priority=priority)
    return [HistoryRow(id=r.case_id, conversation_id=r.conversation_id, status=r.status, reason=r.reason,
                       agent_id=r.agent_id, agent_name=r.agent_name, queued_at=r.queued_at, resolved_at=r.resolved_at,
                       rating=r.rating, customer=customer_label(r.contact), last_message=r.last_message,
                       team_id=r.team_id, priority=r.priority, tags=r.tags)
            for r in rows]


def _who(event: Event) -> str:
    if event.sender in ("agent",):
        return str((event.data.get("agent") or {}).get("name") or "Agent")
    return event.sender.capitalize()


@router.get("/api/console/cases/{case_id}/export", responses={404: {}})
async def export_case(case_id: RowId, user: CurrentAgent, store: StoreDep,
                      format: Literal["json", "txt"] = "json") -> Response:
    """The case's full transcript for agents (notes included and marked), as JSON or readable text."""
    case = await store.get_case(case_id)
    if case is None:
        raise HTTPException(404, f"case {case_id} not found")
    conv = await store.get_conversation(case.conversation_id)
    events = await store.events_after(case.conversation_id, 0, include_internal=True)
    filename = f"parley-case-{case.id}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"}
    if format == "json":
        body = {"case": case_summary(case), "contact": conv.contact if conv else {},
                "events": [{"seq": e.seq, "kind": e.kind, "sender": e.sender, "visibility": e.visibility,
                            "author": _who(e), "text": e.text, "created_at": e.created_at.isoformat(),
                            "data": {k: v for k, v in e.data.items() if k != "decision"}} for e in events]}
        return Response(json.dumps(body, indent=2, ensure_ascii=False), media_type="application/json",
                        headers=headers)
    lines = [f"Parley case #{case.id} ({case.status}), conversation {case.conversation_id}",
             f"Escalated: {case.queued_at:%Y-%m-%d %H:%M} UTC, reason: {case.reason.replace('_', ' ')}"]
    if conv and customer_label(conv.contact):
        lines.append(f"Customer: {customer_label(conv.contact)}")
    if case.rating:
        lines.append(transcript_entry(f"Rating: {case.rating}/5" + (" " if case.rating_comment else ""),
                                      f"\"{case.rating_comment}\"" if case.rating_comment else ""))
    lines.append("")
    for e in events:
        stamp = f"[{e.created_at:%Y-%m-%d %H:%M:%S}]"
        if e.kind == "note":
            lines.append(transcript_entry(f"{stamp} (internal note) {_who(e)}: ", e.text))
        elif e.kind in ("message", "handoff"):
            lines.append(transcript_entry(f"{stamp} {_who(e)}: ", export_text(e)))
        elif e.kind == "feedback":
            lines.append(f"{stamp} Customer marked answer #{e.data.get('seq')} "
                         f"{'helpful' if e.data.get('helpful') else 'not helpful'}")
        elif e.kind == "rating":
            lines.append(transcript_entry(f"{stamp} Customer rated {e.data.get('score')}/5" + (": " if e.text else ""), e.text))
    return PlainTextResponse("\n".join(lines) + "\n", headers=headers)
