"""The REST API channel's rules beside its routes (app/routes/api_v1.py): who may act, Desk errors as
HTTP statuses, and the events after a seq, with long polling.

The statuses are the sockets' error codes mapped once (`http_error`); a scope is held by a logged-in
user's role or by an API token that carries it (or `admin`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from app import events as ev
from app.apitokens import SCOPES
from app.conversation import DeskError, conversation_channel
from app.deps import CurrentUser
from app.storage.records import Conversation, Event, User

_STATUS = {"not_found": 404, "not_owner": 403, "forbidden": 403, "already_claimed": 409, "invalid_state": 409,
           "duplicate_id": 409, "rate_limited": 429}


def http_error(exc: DeskError | ev.FrameError) -> HTTPException:
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
        if scope == "agent":  # an agent working over REST is present: their cases are not released as offline
            await request.app.state.services.store.touch_presence(user.id)
        return user
    return check


AgentUser = Annotated[User, Depends(require_scope("agent"))]
Writer = Annotated[User, Depends(require_scope("conversations:write"))]


async def customer_conversation(request: Request, conversation_id: str, scope: str, desk: Any,
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


async def events_after(services: Any, conv_id: str, after: int, include_internal: bool, wait: float) -> list[Event]:
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
