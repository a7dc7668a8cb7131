"""The customer socket `/ws/chat` and the customer's own transcript download."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app import events as ev
from app.attachments import export_text
from app.conversation import QUEUE_CHANNEL, DeskError, conversation_channel, event_from_wire, transcript_entry
from app.customer_context import customer_context
from app.hours import hours_from_json
from app.deps import DeskDep, Services, send_text
from app.logging import bind_conversation
from app.mail import MailError, compose, send as send_mail
from app.ratelimit import FrameBudget, spend_frame
from app.realtime.delivery import in_order
from app.sites import origin_matches, signed_identity
from app.storage.records import Conversation, Event
from app.storage.tables import INT_MAX
from app.validation import Line
from bot.replies import say
from handoff.audience import customer_may_see

log = logging.getLogger("parley.chat")
router = APIRouter(tags=["chat"])

POLICY = 1008
TOO_BIG = 1009
INTERNAL = 1011


def client_ip(ws: WebSocket) -> str:
    return ws.client.host if ws.client else "unknown"


def origin_allowed(origin: str | None, allowed: list[str], own_host: str | None) -> bool:
    if "*" in allowed:
        return True
    if origin is None:
        return False
    if own_host and origin.split("://", 1)[-1] == own_host:
        return True  # the widget's own iframe is served from Parley's origin
    return origin_matches(origin, allowed)  # exact origins and https://*.example.com patterns


class CustomerSession:
    """One customer socket: a reader (frames in) and a writer (events out, in seq order, exactly once).

    Every stored event reaches the socket one way: the desk publishes it after commit, this
    socket's subscription hands it to the writer (a gap in seq is filled from the store first).
    The broker dispatches to this process's subscribers before any network hop, so the sender's
    acknowledgement never waits on Redis, the bot or the per-conversation lock."""

    def __init__(self, ws: WebSocket, services: Services, conv: Conversation, token: str) -> None:
        self.ws = ws
        self.services = services
        self.desk = services.desk
        self.conv = conv
        self.token = token
        self.status = conv.status
        self.last_seq = 0
        self.sub = services.broker.subscription()
        self.limits = ws.app.state.limits  # app.ratelimit.CustomerLimits: per session and per IP
        self.budget = FrameBudget(services.settings.frames_per_second, services.settings.frame_burst)
        self.ip = client_ip(ws)
        self.last_queue: dict[str, Any] | None = None
        self._send_lock = asyncio.Lock()
        self._progress = asyncio.Event()  # set whenever last_seq moves
        self._status_moved = asyncio.Event()  # set when a handoff changes the owner (wakes watch_hours)

    async def caught_up(self, events: list[Event], timeout: float = 5.0) -> None:
        """Wait until the writer has delivered `events` (they reach this socket one way only: the
        desk publishes them after commit, the subscription brings them to the writer), so that a
        reply to the frame (`feedback`, `queue`) follows them as it always has. Bounded: the
        events are stored, and a late one still arrives."""
        target = max((e.seq for e in events), default=0)
        deadline = asyncio.get_running_loop().time() + timeout
        while self.last_seq < target:
            self._progress.clear()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            try:
                await asyncio.wait_for(self._progress.wait(), left)
            except asyncio.TimeoutError:
                return

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            if self.ws.application_state == WebSocketState.CONNECTED:
                await send_text(self.ws, json.dumps(frame))

    async def deliver(self, event: Event) -> None:
        """Send an event once, in order; fill any gap from the store first."""
        async with self._send_lock:
            batch = await in_order(event, self.last_seq, lambda after: self.desk.transcript(self.conv.id, after))
            if not batch:
                return
            for item in batch:
                if customer_may_see(item.visibility):
                    if item.kind == "handoff":
                        self.status = item.data.get("status") or self.status
                        self._status_moved.set()
                    if self.ws.application_state == WebSocketState.CONNECTED:
                        await send_text(self.ws, json.dumps(ev.event_frame(item)))
                self.last_seq = max(self.last_seq, item.seq)
            self.last_seq = max(self.last_seq, event.seq)
            self._progress.set()

    async def replay(self, after: int) -> None:
        async with self._send_lock:
            self.last_seq = after  # the client has everything up to `after`
            self._progress.set()
        for event in await self.desk.transcript(self.conv.id, after):
            await self.deliver(event)

    async def push_queue_status(self) -> None:
        conv = await self.services.store.get_conversation(self.conv.id)
        if conv is None:
            return
        frame = await self.desk.queue_status(conv)
        if frame and frame != self.last_queue:
            self.last_queue = frame
            await self.send(frame)

    async def watch_hours(self) -> None:
        """Keep a waiting customer's `queue` frame true as time passes: at the site's next opening
        or closing (business hours), and every minute for presence gone stale (an agent's process
        killed); presence changes themselves arrive as `queue_changed`."""
        try:
            while True:
                wait = 60.0
                self._status_moved.clear()  # before reading the status: a change from here on wakes the wait
                if self.status == "queued":
                    site = await self.services.store.get_site(self.conv.site_key) if self.conv.site_key else None
                    hours = hours_from_json(site.business_hours) if site else None
                    change = hours.next_change(datetime.now(timezone.utc)) if hours else None
                    if change is not None:
                        wait = min(wait, max(0.2, (change - datetime.now(timezone.utc)).total_seconds() + 0.2))
                try:  # a new owner (queued now) recomputes at once
                    await asyncio.wait_for(self._status_moved.wait(), wait)
                    continue
                except asyncio.TimeoutError:
                    pass
                if self.status == "queued":
                    await self.push_queue_status()
        except WebSocketDisconnect:
            return

    async def writer(self) -> None:
        try:
            await self._write()
        except WebSocketDisconnect:
            return  # the socket is gone; the reader ends the session

    async def _write(self) -> None:
        while True:
            channel, message = await self.sub.get()
            kind = message.get("type")
            if kind == "event":
                await self.deliver(event_from_wire(message["event"]))
            elif kind == "resync":
                await self.replay(self.last_seq)
            elif kind == "typing" and message.get("sender") != "customer":
                await self.send({"type": "typing", "sender": message["sender"], "active": bool(message.get("active"))})
            elif kind == "queue_changed" and self.status == "queued":
                await self.push_queue_status()
            elif kind == "erased":  # privacy erasure or retention purge: nothing is left to talk about
                async with self._send_lock:
                    if self.ws.application_state == WebSocketState.CONNECTED:
                        await self.ws.close(POLICY, "conversation erased")
                return

    async def handle(self, frame: Any) -> None:
        settings = self.services.settings
        if isinstance(frame, ev.CustomerMessage):
            text = ev.check_text(frame.text, settings.max_message_chars)
            refused = await self.limits.hit_message(self.conv.id, self.ip)
            if refused:
                self.desk.metrics.rate_limited.labels(f"{refused}_messages").inc()
                raise ev.FrameError("rate_limited", "too many messages; slow down")
            await self.send({"type": "typing", "sender": "bot", "active": True}) if self.status == "bot" else None
            before = self.last_seq
            event, conv, behind = await self.desk.accept_customer_message(self.conv.id, text, frame.client_msg_id)
            if conv is None and event.seq <= before and event.client_msg_id == frame.client_msg_id:
                await self.send(ev.event_frame(event) | {"duplicate": True})  # a retry: the stored message back
            if conv is not None:
                # The bot answers in the background: the next message is stored and acknowledged
                # without waiting for this one's answer (turns keep their order, app/conversation.py).
                self.desk.answer_in_background(conv, text, frame.article_id, behind)
            await self.caught_up([event])
            if self.status == "queued":
                await self.push_queue_status()
        elif isinstance(frame, ev.RequestHuman):
            await self.caught_up([await self.desk.request_human(self.conv.id)])
            await self.push_queue_status()
        elif isinstance(frame, ev.Feedback):
            await self.caught_up(await self.desk.feedback(self.conv.id, frame.seq, frame.helpful))
            await self.send({"type": "feedback", "seq": frame.seq, "helpful": frame.helpful, "recorded": True})
        elif isinstance(frame, ev.Resume):
            await self.replay(frame.last_seq)
        elif isinstance(frame, ev.Typing):
            await self.desk.relay_typing(self.conv.id, "customer", frame.active)
        elif isinstance(frame, ev.Ping):
            await self.send({"type": "pong"})
        elif isinstance(frame, ev.Rating):
            case = await self.desk.rate(self.conv.id, frame.score, frame.comment)
            await self.send({"type": "rating", "case_id": case.id, "score": frame.score, "recorded": True})
        elif isinstance(frame, ev.Contact):
            await self.caught_up([await self.desk.leave_contact(self.conv.id, frame.email, frame.name)])
        elif isinstance(frame, ev.Identify):
            await self.identify(frame)
        elif isinstance(frame, ev.Context):  # where the customer is, for the agent's side panel
            conv = await self.services.store.get_conversation(self.conv.id)
            if conv is not None:
                context = customer_context(frame.page_url, frame.page_title, frame.time_zone, frame.language,
                                           self.ws.headers.get("user-agent", ""))
                await self.services.store.update_conversation(conv.id, contact=dict(conv.contact, context=context))
        elif isinstance(frame, ev.HistoryOpen):
            await self.open_history(frame.conversation_id)
        elif isinstance(frame, ev.FollowupAnswer):
            from app.followup import FollowupError, answer

            try:
                result = await answer(self.desk, frame.followup_id, frame.answer, self.conv.id)
            except FollowupError as exc:
                raise ev.FrameError(exc.code, exc.detail) from None
            await self.send({"type": "followup_answer", **result})

    async def identify(self, frame: ev.Identify) -> None:
        site = await self.services.store.get_site(self.conv.site_key) if self.conv.site_key else None
        shown = {"user_id": frame.user_id, "email": frame.email, "name": frame.name}
        signed = signed_identity(site, frame.user_id, frame.email, frame.name, frame.user_hash,
                                 datetime.now(timezone.utc)) if site else []  # what the site's HMAC covers
        if site and site.enforce_identity and "user_id" not in signed:
            raise ev.FrameError("identity_rejected", "the identity hash is missing or wrong")
        verified = bool(signed) and all(k in signed for k, v in shown.items() if v)  # everything shown was signed
        await self.desk.identify(self.conv.id, {**shown, "verified": verified, "verified_fields": signed})
        reply: dict[str, Any] = {"type": "identify", "verified": verified}
        if "name" in signed:  # the widget greets a verified customer by name
            reply["name"] = frame.name
            reply["greeting"] = say("welcome_back", self.conv.lang, name=frame.name)
        await self.send(reply)
        if "user_id" in signed and site is not None:  # only a signed user id sees its earlier conversations
            past = await self.services.store.past_conversations(site.key, frame.user_id, exclude=self.conv.id)
            await self.send({"type": "history", "conversations": [
                {"conversation_id": p.conversation_id, "created_at": p.created_at.isoformat(), "status": p.status,
                 "first_message": p.first_message} for p in past if p.first_message]})  # ones they wrote in

    async def open_history(self, conversation_id: str) -> None:
        """The transcript of one earlier conversation, read-only: only for this conversation's
        verified user id, and only a conversation of the same site whose user id was verified too."""
        conv = await self.services.store.get_conversation(self.conv.id)
        contact = conv.contact if conv is not None else {}
        user_id = contact.get("user_id")
        if not user_id or "user_id" not in (contact.get("verified_fields") or []) or not self.conv.site_key:
            raise ev.FrameError("not_found", "no such earlier conversation")
        past = await self.services.store.past_conversations(self.conv.site_key, str(user_id), exclude=self.conv.id,
                                                            limit=50)
        match = next((p for p in past if p.conversation_id == conversation_id), None)
        if match is None:
            raise ev.FrameError("not_found", "no such earlier conversation")
        events = await self.desk.transcript(conversation_id)  # public events only
        await self.send({"type": "history_transcript", "conversation_id": conversation_id,
                         "created_at": match.created_at.isoformat(), "messages": [
                             {"seq": e.seq, "sender": e.sender, "text": e.text, "created_at": e.created_at.isoformat(),
                              "agent": {"name": (e.data.get("agent") or {}).get("name")} if e.sender == "agent" else None}
                             for e in events if e.kind == "message"][-200:]})

    async def reader(self) -> None:
        limit = self.services.settings.max_frame_bytes
        idle = self.services.settings.idle_timeout_seconds or None
        while True:
            try:
                message = await asyncio.wait_for(self.ws.receive(), idle)
            except asyncio.TimeoutError:
                await self.ws.close(1000, "idle timeout")
                return
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if len(raw if raw is not None else message.get("bytes") or b"") > limit:
                await self.ws.close(TOO_BIG, "frame too big")
                return
            frame, problem = ev.read_frame(ev.parse_customer_frame, raw)
            try:
                # every frame spends the socket's budget, valid or not; messages are never refused
                # by it (app.ratelimit.FrameBudget), so it parses first
                await spend_frame(self.budget, self.ws, self.desk.metrics, "session_frames",
                                  always=isinstance(frame, ev.CustomerMessage))
                if problem is not None:
                    raise problem
                await self.handle(frame)
            except (ev.FrameError, DeskError) as exc:
                error = ev.error_frame(exc.code, exc.detail)
                if frame is not None:
                    error["frame"] = frame.type  # which kind of frame was refused (typing, message, …)
                if isinstance(frame, ev.CustomerMessage) and frame.client_msg_id:
                    error["client_msg_id"] = frame.client_msg_id  # which queued message was refused
                await self.send(error)


@router.websocket("/ws/chat")
async def chat_socket(ws: WebSocket) -> None:
    services: Services = ws.app.state.services
    desk = services.desk
    params = ws.query_params
    site_key = params.get("key")
    lang = (params.get("lang") or "en")[:8]
    await ws.accept()
    try:
        if site_key is None and services.settings.require_widget_key:
            await ws.close(POLICY, "a widget key is required")
            return
        if site_key is not None:
            site = await services.store.get_site(site_key)
            if site is None or not origin_allowed(ws.headers.get("origin"), site.allowed_origins, ws.headers.get("host")):
                await ws.close(POLICY, "origin not allowed for this widget key")
                return
            if not site.enabled:
                await ws.close(POLICY, "this widget key is disabled")
                return
        token = params.get("token")
        resumed = bool(token)
        if token:
            conv = await desk.conversation_for_token(token)
            if conv is None:
                await ws.close(POLICY, "invalid token")
                return
        else:
            if not await ws.app.state.limits.hit_new_conversation(client_ip(ws)):
                desk.metrics.rate_limited.labels("ip_conversations").inc()
                await ws.close(POLICY, "too many new conversations; try again in a minute")
                return
            conv, token = await desk.start_conversation(lang, site_key)
        if ws.app.state.sockets.count(conv.id) >= services.settings.max_sockets_per_conversation:
            desk.metrics.rate_limited.labels("conversation_sockets").inc()
            await ws.close(POLICY, "too many sockets for this conversation")
            return
        bind_conversation(conv.id)
        log.info("customer socket open", extra={"resumed": resumed, "site_key": site_key})
        ws.app.state.sockets.add(ws, "chat", conv.id)  # counted with the check above: no await between
        session = CustomerSession(ws, services, conv, token)
        await session.sub.add(conversation_channel(conv.id), QUEUE_CHANNEL)
        writer: asyncio.Task[None] | None = None
        watcher: asyncio.Task[None] | None = None
        try:
            # `session` is always the first frame: live events wait in the subscription until the
            # writer starts, after the replay.
            await session.send({"type": "session", "conversation_id": conv.id, "token": token, "resumed": resumed,
                                "last_seq": conv.last_seq, "status": conv.status,
                                "last_public_seq": await services.store.last_public_seq(conv.id),
                                "email_transcript": bool(services.settings.smtp_url),
                                **await _hours_field(services, conv)})
            last_seq = params.get("last_seq")
            after = int(last_seq) if last_seq is not None and last_seq.isdigit() and len(last_seq) <= 10 else None
            if last_seq is not None and (after is None or after > INT_MAX):
                # Out of range (or not a number): say so, and do not replay; a clear error, never a 1011
                # that the client would answer by reconnecting with the same last_seq.
                await session.send(ev.error_frame("invalid_frame", f"last_seq must be a number from 0 to {INT_MAX}")
                                   | {"frame": "resume"})
                after = None
            if resumed and after is not None:
                await session.replay(after)
            else:
                session.last_seq = conv.last_seq if resumed else 0
            writer = asyncio.create_task(session.writer())
            watcher = asyncio.create_task(session.watch_hours())
            if conv.status == "queued":
                await session.push_queue_status()
            await session.reader()
        finally:
            ws.app.state.sockets.discard(ws)
            log.info("customer socket closed")
            if writer is not None:
                writer.cancel()
            if watcher is not None:
                watcher.cancel()
            await session.sub.close()
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("customer socket failed")
        if ws.application_state == WebSocketState.CONNECTED:
            await ws.close(INTERNAL, "internal error")


async def _hours_field(services: Services, conv: Conversation) -> dict[str, Any]:
    """`hours` for the session frame when the site has business hours: open now, and when it
    next opens (so the widget says "We're back Monday at 09:00" before anyone asks)."""
    site = await services.store.get_site(conv.site_key) if conv.site_key else None
    hours = hours_from_json(site.business_hours) if site else None
    if hours is None:
        return {}
    now = datetime.now(timezone.utc)
    back = None if hours.is_open(now) else hours.next_open(now)
    return {"hours": {"open": hours.is_open(now), "back_at": back.isoformat() if back else None,
                      "time_zone": hours.time_zone}}


def transcript_text(conversation_id: str, events: list[Event]) -> str:
    """The customer's transcript as readable text: public messages and handoffs only."""
    lines = [f"Conversation {conversation_id}", ""]
    for e in events:
        if e.kind in ("message", "handoff"):
            who = (e.data.get("agent") or {}).get("name") if e.sender == "agent" else e.sender.capitalize()
            lines.append(transcript_entry(f"[{e.created_at:%Y-%m-%d %H:%M}] {who}: ", export_text(e)))
    return "\n".join(lines) + "\n"


@router.get("/api/chat/transcript", tags=["chat"], responses={404: {}})
async def customer_transcript(desk: DeskDep, token: str = Query(min_length=1, max_length=128),
                              format: str = Query(default="txt", pattern="^(txt|json)$")) -> Response:
    conv = await desk.conversation_for_token(token)
    if conv is None:
        raise HTTPException(404, "no conversation for this token")
    events = await desk.transcript(conv.id)  # public events only: notes never leave the desk
    if format == "json":
        return JSONResponse({"conversation_id": conv.id, "messages": [
            {"seq": e.seq, "sender": e.sender, "text": e.text, "created_at": e.created_at.isoformat()}
            for e in events if e.kind in ("message", "handoff")]})
    return PlainTextResponse(transcript_text(conv.id, events), headers={
        "Content-Disposition": f'attachment; filename="transcript-{conv.id}.txt"',
        "X-Content-Type-Options": "nosniff"})


class TranscriptEmail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=128)
    email: ev.EmailAddress


@router.post("/api/chat/transcript/email", tags=["chat"], status_code=202,
             responses={404: {}, 429: {}, 502: {}, 503: {}})
async def email_transcript(body: TranscriptEmail, request: Request, desk: DeskDep) -> dict[str, Any]:
    """Email the customer's transcript (public messages only, as in the download) to `email`."""
    conv = await desk.conversation_for_token(body.token)
    if conv is None:
        raise HTTPException(404, "no conversation for this token")
    settings = desk.settings
    if not settings.smtp_url:
        raise HTTPException(503, "email is not set up on this desk; download the transcript instead")
    refused = await request.app.state.limits.hit_transcript_email(
        conv.id, request.client.host if request.client else "unknown")
    if refused:
        limit = {"conversation": settings.transcript_emails_per_hour, "ip": settings.transcript_emails_per_ip_per_hour,
                 "desk": settings.transcript_emails_total_per_hour}[refused]
        raise HTTPException(429, f"at most {limit} transcript emails an hour"
                                 + {"conversation": "", "ip": " from one address", "desk": " from this desk"}[refused])
    if _verified_email(conv.contact) == body.email.lower():
        await _send_transcript(desk, conv.id, body.email)
        return {"sent": True, "email": body.email}
    # Any other address must prove it is the customer's: it gets a fixed confirmation email (no
    # text of the conversation's) with a one-time link, and the transcript only when it is followed.
    # So the endpoint cannot relay anyone's words to an address of their choice.
    nonce = secrets.token_urlsafe(24)  # a one-time code, sent only to the address to be proven
    expires = int(time.time()) + CONFIRM_SECONDS
    pending = {"email": body.email.lower(), "code": hashlib.sha256(nonce.encode()).hexdigest(), "expires": expires}
    await desk.store.update_conversation(conv.id, bot_state=dict(conv.bot_state, transcript_confirm=pending))
    link = (settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")) + "/api/chat/transcript/confirm?" + \
        urlencode({"c": conv.id, "k": nonce})
    text = ("Someone asked for the transcript of a support conversation to be sent to this address.\n\n"
            f"To receive it, open this link within 24 hours:\n{link}\n\n"
            "If that was not you, ignore this email: nothing will be sent.\n")
    try:
        await asyncio.to_thread(send_mail, settings.smtp_url, compose(
            settings.mail_from, body.email, "Confirm your email to receive your transcript", text))
    except MailError as exc:
        log.warning("transcript confirmation email failed: %s", exc)
        raise HTTPException(502, "the mail server did not take the email; try again later") from None
    return {"sent": False, "confirmation_sent": True, "email": body.email}


CONFIRM_SECONDS = 24 * 3600


def _verified_email(contact: dict[str, Any]) -> str | None:
    """The email the site signed for this customer (identity verification), if any."""
    if contact.get("verified") and "email" in (contact.get("verified_fields") or []) and contact.get("email"):
        return str(contact["email"]).lower()
    return None


async def _send_transcript(desk: Any, conversation_id: str, email: str) -> None:
    events = await desk.transcript(conversation_id)
    message = compose(desk.settings.mail_from, email, "Your conversation transcript",
                      transcript_text(conversation_id, events))
    try:
        await asyncio.to_thread(send_mail, desk.settings.smtp_url, message)
    except MailError as exc:
        log.warning("transcript email failed: %s", exc)
        raise HTTPException(502, "the mail server did not take the email; try again later") from None
    log.info("transcript emailed", extra={"conversation_id": conversation_id})


@router.get("/api/chat/transcript/confirm", tags=["chat"], response_class=HTMLResponse,
            responses={403: {}, 404: {}, 429: {}, 502: {}, 503: {}})
async def confirm_transcript_email(request: Request, desk: DeskDep, c: Line = Query(min_length=1, max_length=64),
                                   k: Line = Query(min_length=16, max_length=64)) -> HTMLResponse:
    """The link in the confirmation email: the address is the customer's, so the transcript goes
    (once: the code is spent)."""
    conv = await desk.store.get_conversation(c)
    pending = (conv.bot_state.get("transcript_confirm") if conv is not None else None) or {}
    if (conv is None or not pending or pending.get("expires", 0) < time.time()
            or not hmac.compare_digest(str(pending.get("code")), hashlib.sha256(k.encode()).hexdigest())):
        raise HTTPException(403, "this link is not valid or has expired")
    if not desk.settings.smtp_url:
        raise HTTPException(503, "email is not set up on this desk")
    refused = await request.app.state.limits.hit_transcript_email(
        conv.id, request.client.host if request.client else "unknown")
    if refused:
        raise HTTPException(429, "too many transcript emails; try again later")
    state = dict(conv.bot_state)
    state.pop("transcript_confirm", None)
    await desk.store.update_conversation(conv.id, bot_state=state)
    e = str(pending["email"])
    await _send_transcript(desk, conv.id, e)
    return HTMLResponse("<!doctype html><meta charset=utf-8><title>Transcript sent</title>"
                        "<p>Your transcript is on its way. You can close this page.</p>",
                        headers={"Content-Security-Policy": "default-src 'none'", "X-Content-Type-Options": "nosniff"})
