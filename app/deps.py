"""Annotated dependency aliases: a route states its needs by type; tests swap them with dependency_overrides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket, status
from starlette.websockets import WebSocketDisconnect

from app.auth import user_for_token
from app.config import Settings
from app.conversation import Desk
from app.knowledge import KnowledgeRuntime
from app.realtime.base import Broker
from app.storage.records import User
from app.storage.sql import SqlStore

SESSION_COOKIE = "parley_session"
CSRF_HEADER = "X-Requested-With"  # any value; browsers cannot send it cross-site without a CORS preflight
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Services:
    settings: Settings
    store: SqlStore
    broker: Broker
    knowledge: KnowledgeRuntime
    desk: Desk


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _settings(services: Annotated[Services, Depends(_services)]) -> Settings:
    return services.settings


def _store(services: Annotated[Services, Depends(_services)]) -> SqlStore:
    return services.store


def _desk(services: Annotated[Services, Depends(_services)]) -> Desk:
    return services.desk


def _knowledge(services: Annotated[Services, Depends(_services)]) -> KnowledgeRuntime:
    return services.knowledge


ServicesDep = Annotated[Services, Depends(_services)]
SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[SqlStore, Depends(_store)]
DeskDep = Annotated[Desk, Depends(_desk)]
KnowledgeDep = Annotated[KnowledgeRuntime, Depends(_knowledge)]
BrokerDep = Annotated[Broker, Depends(lambda services=Depends(_services): services.broker)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


def check_csrf(request: Request) -> None:
    """A state-changing request authenticated by the session cookie must carry `X-Requested-With`.

    Bearer-token requests are exempt: a browser never adds an Authorization header on its own.
    """
    if request.method in SAFE_METHODS or request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    if request.cookies.get(SESSION_COOKIE) and not request.headers.get(CSRF_HEADER):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"cookie-authenticated requests must send the {CSRF_HEADER} header")


async def _current_user(request: Request, store: StoreDep) -> User:
    check_csrf(request)
    user = await user_for_token(store, bearer_token(request))
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not logged in or the session expired",
                            headers={"WWW-Authenticate": "Bearer"})
    return user


CurrentUser = Annotated[User, Depends(_current_user)]


def require_role(*roles: str):  # type: ignore[no-untyped-def]
    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the role {' or '.join(roles)}")
        return user

    return check


CurrentAgent = Annotated[User, Depends(require_role("agent", "admin"))]
CurrentEditor = Annotated[User, Depends(require_role("editor", "admin"))]
CurrentAdmin = Annotated[User, Depends(require_role("admin"))]


async def websocket_user(websocket: WebSocket, store: SqlStore) -> User | None:
    token = websocket.query_params.get("token") or websocket.cookies.get(SESSION_COOKIE)
    return await user_for_token(store, token)


async def send_text(ws: WebSocket, text: str) -> None:
    """Send on a socket that may have been closed underneath us: uvicorn closes it by itself on an
    oversized or malformed frame or a ping timeout, or the peer left. That is a disconnect, not a
    server error: WebSocketDisconnect, which the socket handlers end on quietly."""
    try:
        await ws.send_text(text)
    except (RuntimeError, OSError) as exc:
        raise WebSocketDisconnect(1006) from exc
