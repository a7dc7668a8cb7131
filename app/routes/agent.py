"""The agent socket `/ws/agent`: the live queue, claiming, and talking to customers."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app import events as ev
from app.auth import sessions_channel, user_for_token
from app.conversation import AGENTS_CHANNEL, QUEUE_CHANNEL, DeskError, case_summary, conversation_channel, event_from_wire
from app.deps import Services, pump, send_text, websocket_token
from app.ratelimit import FrameBudget, spend_frame
from app.realtime.delivery import in_order
from app.schemas import UserPublic
from app.storage.records import Event, User
from app.takeover import join

log = logging.getLogger("parley.agent")
router = APIRouter(tags=["agent"])
HEARTBEAT_SECONDS = 20
AGENT_ROLES = ("agent", "admin")
SESSION_ENDED = "session ended"


class AgentSession:
    def __init__(self, ws: WebSocket, services: Services, user: User, token: str) -> None:
        self.ws = ws
        self.services = services
        self.desk = services.desk
        self.user = user
        self.token = token
        self.checked_at = time.monotonic()
        self.sub = services.broker.subscription()
        self.opened: dict[str, int] = {}  # conversation id -> last seq sent
        self._send_lock = asyncio.Lock()
        self._queue_dirty = asyncio.Event()
        self.budget = FrameBudget(services.settings.frames_per_second, services.settings.frame_burst)

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            if self.ws.application_state == WebSocketState.CONNECTED:
                await send_text(self.ws, json.dumps(frame, default=str))

    async def check_session(self, now: bool = False) -> None:
        """The socket acts for its session only while the session lasts: before any frame is acted
        on or any event sent, the session is looked up again when the last look is older than
        PARLEY_SESSION_RECHECK_SECONDS (`now`: at once, on a `sessions_changed` broker message).
        Logged out, expired, revoked, deactivated or no longer an agent: close 1008 `session ended`
        and end the session (WebSocketDisconnect). Never called under the send lock."""
        if now:
            self.checked_at = float("-inf")  # before the await: a frame read meanwhile looks it up too
        elif time.monotonic() - self.checked_at < self.services.settings.session_recheck_seconds:
            return
        user = await user_for_token(self.services.store, self.token)
        if user is not None and user.role in AGENT_ROLES:
            self.user, self.checked_at = user, time.monotonic()
            return
        async with self._send_lock:
            if self.ws.application_state == WebSocketState.CONNECTED:
                try:
                    await self.ws.close(1008, SESSION_ENDED)
                except (RuntimeError, OSError):
                    pass  # the peer left meanwhile
        raise WebSocketDisconnect(1008, SESSION_ENDED)

    async def send_queue(self) -> None:
        items = await self.services.store.queue()
        online = len(await self.services.store.online_agents())
        await self.send({"type": "queue", "agents_online": online, "cases": [
            {**case_summary(i.case), "position": i.position, "last_message": i.last_message, "contact": i.contact,
             "team_name": i.team_name}
            for i in items]})

    async def deliver(self, event: Event) -> None:
        conv_id = event.conversation_id
        async with self._send_lock:
            last = self.opened.get(conv_id)
            if last is None:
                return  # not open on this socket
            for item in await in_order(event, last, lambda after: self.desk.transcript(conv_id, after,
                                                                                        include_internal=True)):
                if self.ws.application_state == WebSocketState.CONNECTED:
                    await send_text(self.ws, json.dumps(ev.agent_event_frame(item), default=str))
                self.opened[conv_id] = item.seq

    async def writer(self) -> None:
        await pump(self.sub, self._on_message)

    async def _on_message(self, message: dict[str, Any]) -> None:
        """One message of the subscription."""
        kind = message.get("type")
        # at once when told, or after a broker outage (a `sessions_changed` may have been lost)
        await self.check_session(now=kind in ("sessions_changed", "resync"))
        if kind == "event":
            await self.deliver(event_from_wire(message["event"]))
        elif kind == "case":
            await self.send(message)
            self._queue_dirty.set()
        elif kind == "queue_changed":
            self._queue_dirty.set()
        elif kind == "typing" and message.get("sender") == "customer":
            await self.send(message)
        elif kind == "resync":
            self._queue_dirty.set()
            for conv_id, last in list(self.opened.items()):
                for event in await self.desk.transcript(conv_id, last, include_internal=True):
                    await self.deliver(event)

    async def queue_pusher(self) -> None:
        """Coalesce bursts of queue changes into one snapshot."""
        try:
            while True:
                await self._queue_dirty.wait()
                self._queue_dirty.clear()
                await self.check_session()
                await self.send_queue()
                await asyncio.sleep(0.05)
        except WebSocketDisconnect:
            return  # the socket is gone or its session ended; the reader ends the session

    async def heartbeat(self) -> None:
        try:
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                await self.check_session()  # an idle socket's session expires too
                if self.presence == "online":
                    await self.services.store.set_presence(self.user.id, "online")
        except WebSocketDisconnect:
            return

    presence = "online"

    async def open(self, conversation_id: str, last_seq: int, ref: str | None) -> None:
        conv = await self.services.store.get_conversation(conversation_id)
        if conv is None:
            raise DeskError("not_found", f"conversation {conversation_id} not found")
        case = await self.services.store.get_case(conv.current_case_id) if conv.current_case_id else None
        # Under the send lock from subscribing to sending the transcript: a live event that arrives
        # meanwhile waits, then is skipped (already in the transcript) instead of being sent twice.
        async with self._send_lock:
            await self.sub.add(conversation_channel(conversation_id))
            events = await self.desk.transcript(conversation_id, last_seq, include_internal=True)
            self.opened[conversation_id] = max([last_seq, *[e.seq for e in events]])
            if self.ws.application_state == WebSocketState.CONNECTED:
                await send_text(self.ws, json.dumps({
                    "type": "transcript", "conversation_id": conversation_id, "ref": ref,
                    "status": conv.status, "contact": conv.contact, "case": case_summary(case) if case else None,
                    "events": [ev.agent_event_frame(e)["event"] for e in events]}, default=str))

    async def handle(self, frame: Any) -> dict[str, Any]:
        limit = self.services.settings.max_message_chars
        if isinstance(frame, ev.Claim):
            transition = await self.desk.claim(frame.case_id, self.user)
            await self.open(transition.case.conversation_id, 0, frame.ref)
            return {"case": case_summary(transition.case)}
        if isinstance(frame, ev.Join):
            transition = await join(self.desk, frame.conversation_id, self.user)
            await self.open(frame.conversation_id, 0, frame.ref)
            return {"case": case_summary(transition.case)}
        if isinstance(frame, ev.Open):
            await self.open(frame.conversation_id, frame.last_seq, frame.ref)
            return {}
        if isinstance(frame, ev.AgentMessage):
            text = ev.check_text(frame.text, limit)
            event = await self.desk.agent_message(frame.conversation_id, self.user, text, frame.client_msg_id)
            await self.deliver(event)
            return {"seq": event.seq}
        if isinstance(frame, ev.Note):
            event = await self.desk.note(frame.conversation_id, self.user, ev.check_text(frame.text, limit))
            await self.deliver(event)
            return {"seq": event.seq}
        if isinstance(frame, ev.Resolve):
            return {"case": case_summary((await self.desk.resolve(frame.case_id, self.user)).case)}
        if isinstance(frame, ev.HandBack):
            return {"case": case_summary((await self.desk.hand_back(frame.case_id, self.user)).case)}
        if isinstance(frame, ev.Transfer) and frame.team_id is not None:
            transition = await self.desk.transfer_to_team(frame.case_id, self.user, frame.team_id)
            return {"case": case_summary(transition.case)}
        if isinstance(frame, ev.Transfer):
            assert frame.agent_id is not None  # the frame holds exactly one target
            target = await self.services.store.get_user(frame.agent_id)
            if target is None:
                raise DeskError("not_found", f"agent {frame.agent_id} not found")
            return {"case": case_summary((await self.desk.transfer(frame.case_id, self.user, target)).case)}
        if isinstance(frame, ev.AgentTyping):
            await self.desk.agent_typing(frame.conversation_id, self.user, frame.active)
            return {}
        if isinstance(frame, ev.Presence):
            self.presence = frame.status
            await self.services.store.set_presence(self.user.id, frame.status)
            await self.services.broker.publish(AGENTS_CHANNEL, {"type": "queue_changed"})
            await self.services.broker.publish(QUEUE_CHANNEL, {"type": "queue_changed"})  # waiting customers: availability
            return {"presence": frame.status}
        if isinstance(frame, ev.AgentPing):
            await self.send({"type": "pong"})
            return {}
        raise ev.FrameError("unknown_type", "unsupported frame")

    async def reader(self) -> None:
        limit = self.services.settings.max_frame_bytes
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if len(raw if raw is not None else message.get("bytes") or b"") > limit:
                await self.ws.close(1009, "frame too big")
                return
            frame, problem = ev.read_frame(ev.parse_agent_frame, raw)
            ref = frame.ref if frame is not None else None
            try:
                # every frame spends the socket's budget, valid or not (parsed first, so a refused
                # frame's error carries its ref)
                await spend_frame(self.budget, self.ws, self.desk.metrics, "agent_frames",
                                  always=isinstance(frame, ev.AgentMessage))
                if problem is not None:
                    raise problem
                await self.check_session()
                result = await self.handle(frame)
                if ref is not None:
                    await self.send({"type": "ack", "ref": ref, "ok": True, **result})
            except ev.FrameError as exc:
                await self.send(ev.error_frame(exc.code, exc.detail, exc.ref or ref))
            except DeskError as exc:
                await self.send(ev.error_frame(exc.code, exc.detail, ref))


@router.websocket("/ws/agent")
async def agent_socket(ws: WebSocket) -> None:
    services: Services = ws.app.state.services
    await ws.accept()
    token, origin_ok = websocket_token(ws)
    if not origin_ok:
        await ws.close(1008, "origin not allowed")
        return
    user = await user_for_token(services.store, token)
    if user is None or token is None:
        await ws.close(1008, "log in first: pass ?token=<bearer token>")
        return
    if user.role not in AGENT_ROLES:
        await ws.close(1008, "only agents and admins may use the agent socket")
        return
    session = AgentSession(ws, services, user, token)
    await session.send({"type": "hello", "agent": UserPublic.of(user).model_dump()})  # always the first frame
    ws.app.state.sockets.add(ws, "agent")
    await session.sub.add(AGENTS_CHANNEL, sessions_channel(user.id))
    tasks = [asyncio.create_task(session.writer()), asyncio.create_task(session.queue_pusher()),
             asyncio.create_task(session.heartbeat())]
    try:
        await services.store.set_presence(user.id, "online")
        await services.broker.publish(AGENTS_CHANNEL, {"type": "queue_changed"})
        await services.broker.publish(QUEUE_CHANNEL, {"type": "queue_changed"})  # waiting customers: availability
        await session.send_queue()
        await session.reader()
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("agent socket failed")
        if ws.application_state == WebSocketState.CONNECTED:
            await ws.close(1011, "internal error")
    finally:
        ws.app.state.sockets.discard(ws)
        for task in tasks:
            task.cancel()
        await session.sub.close()
        try:
            await services.store.set_presence(user.id, "offline")
            await services.broker.publish(AGENTS_CHANNEL, {"type": "queue_changed"})
            await services.broker.publish(QUEUE_CHANNEL, {"type": "queue_changed"})  # waiting customers: availability
        except Exception:
            log.exception("could not record the agent going offline")
