"""The customer socket `/ws/chat`: the handshake, the `session` frame, then the session's frames.

The handshake checks the widget key and origin, the token (or starts a conversation) and the
limits; app/customer_session.py reads and writes the frames (docs/protocol.md). The customer's
transcript download and email are app/routes/transcripts.py.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app import events as ev
from app.conversation import QUEUE_CHANNEL, conversation_channel
from app.customer_session import INTERNAL, POLICY, TRY_AGAIN_LATER, CustomerSession, client_ip, hours_field
from app.deps import Services
from app.logging import bind_conversation
from app.sites import origin_matches
from app.storage.tables import INT_MAX

log = logging.getLogger("parley.chat")
router = APIRouter(tags=["chat"])


def origin_allowed(origin: str | None, allowed: list[str], own_host: str | None) -> bool:
    if "*" in allowed:
        return True
    if origin is None:
        return False
    if own_host and origin.split("://", 1)[-1] == own_host:
        return True  # the widget's own iframe is served from Parley's origin
    return origin_matches(origin, allowed)  # exact origins and https://*.example.com patterns


@router.websocket("/ws/chat")
async def chat_socket(ws: WebSocket) -> None:
    services: Services = ws.app.state.services
    desk = services.desk
    params = ws.query_params
    site_key = params.get("key")
    lang = (params.get("lang") or "en")[:8]
    await ws.accept()
    # Per-process caps, checked before any database work: one address (a script) cannot hold the
    # process's sockets, and the process refuses politely (1013, retried later) before memory does.
    sockets, ip = ws.app.state.sockets, client_ip(ws)
    if sockets.count_kind("chat") >= services.settings.max_customer_sockets:
        desk.metrics.rate_limited.labels("process_sockets").inc()
        await ws.close(TRY_AGAIN_LATER, "the server is at capacity; try again later")
        return
    if sockets.count_ip(ip) >= services.settings.max_sockets_per_ip:
        desk.metrics.rate_limited.labels("ip_sockets").inc()
        await ws.close(POLICY, "too many sockets from this address")
        return
    sockets.add(ws, "chat", ip=ip)  # counted with the checks above: no await between
    try:
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
            if sockets.count(conv.id) >= services.settings.max_sockets_per_conversation:
                desk.metrics.rate_limited.labels("conversation_sockets").inc()
                await ws.close(POLICY, "too many sockets for this conversation")
                return
            bind_conversation(conv.id)
            log.info("customer socket open", extra={"resumed": resumed, "site_key": site_key})
            sockets.set_key(ws, conv.id)  # counted with the check above: no await between
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
                                    **await hours_field(services, conv)})
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
    finally:
        sockets.discard(ws)
