"""One customer socket's session (`/ws/chat`, app/routes/chat.py): frames in, events out.

The route checks the handshake (widget key, origin, token, limits) and sends the `session` frame;
CustomerSession then reads the customer's frames and writes the conversation's events, in seq
order and exactly once, until the socket closes. The frames are documented in docs/protocol.md.
It is a little over 300 lines because CustomerSession is one class whose reader, writer and frame
handlers share the socket's send lock and last seq, which reads best in one place.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from typing import Any

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app import events as ev
from app.conversation import DeskError, event_from_wire
from app.customer_context import customer_context
from app.deps import Services, pump, send_text
from app.hours import hours_from_json
from app.ratelimit import FrameBudget, spend_frame
from app.realtime.delivery import in_order
from app.sites import signed_identity
from app.storage.records import Conversation, Event
from bot.replies import say
from handoff.audience import customer_may_see

POLICY = 1008
TOO_BIG = 1009
INTERNAL = 1011
TRY_AGAIN_LATER = 1013  # the process is at its socket cap: the client retries after a pause


def client_ip(ws: WebSocket) -> str:
    return ws.client.host if ws.client else "unknown"


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
        await pump(self.sub, self._on_message)

    async def _on_message(self, message: dict[str, Any]) -> bool:
        """One message of the subscription; True once there is nothing more to send."""
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
            return True
        return False

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
                # without waiting for this one's answer (turns keep their order, app/bot_turns.py).
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


async def hours_field(services: Services, conv: Conversation) -> dict[str, Any]:
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

