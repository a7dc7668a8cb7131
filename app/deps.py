"""Annotated dependency aliases: a route states its needs by type; tests swap them with dependency_overrides."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, WebSocket, status
from starlette.websockets import WebSocketDisconnect

from app.auth import user_for_token
from app.config import Settings
from app.conversation import Desk
from app.knowledge import KnowledgeRuntime
from app.realtime.base import Broker, Subscription
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


def _origin_parts(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port or {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def desk_origin_ok(origin: str | None, host: str | None, public_url: str) -> bool:
    """Is `origin` (a browser's Origin header) the desk's own?

    With PARLEY_PUBLIC_URL set: exactly its scheme, host and port. Without it: an origin whose
    host[:port] equals the request's Host header. That fallback is what a DNS-rebinding page also
    passes (it reaches the desk under the attacker's name, and Host and Origin both carry that name),
    so set PARLEY_PUBLIC_URL in production. A missing or `null` origin is never the desk's own.
    """
    if not origin or origin == "null":
        return False
    if public_url:
        mine = _origin_parts(public_url)
        return mine is not None and _origin_parts(origin) == mine
    return bool(host) and origin.split("://", 1)[-1].lower() == (host or "").lower()


def _public_url(request: Request | WebSocket) -> str:
    services = getattr(request.app.state, "services", None)
    return services.settings.public_url if services is not None else ""


def check_csrf(request: Request) -> None:
    """A state-changing request authenticated by the session cookie must carry `X-Requested-With`,
    and, when the browser names its Origin, come from the desk's own (desk_origin_ok): a page on
    another port of the same host is same-site, so SameSite cookies alone do not stop it.

    Bearer-token requests are exempt: a browser never adds an Authorization header on its own.
    """
    if request.method in SAFE_METHODS or request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    if request.cookies.get(SESSION_COOKIE) and not request.headers.get(CSRF_HEADER):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"cookie-authenticated requests must send the {CSRF_HEADER} header")
    origin = request.headers.get("origin")
    if (request.cookies.get(SESSION_COOKIE) and origin is not None
            and not desk_origin_ok(origin, request.headers.get("host"), _public_url(request))):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-origin request refused: origin not allowed")


async def _current_user(request: Request, store: StoreDep) -> User:
    check_csrf(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and header[7:].strip().startswith("pk_"):  # an API token (app/apitokens.py)
        from app.apitokens import user_for_api_token
        from app.storage.integrations import IntegrationStore

        found = await user_for_api_token(IntegrationStore(store.engine), header[7:].strip())
        request.state.api_scopes = found[1] if found else []
        user = found[0] if found else None
    else:
        user = await user_for_token(store, bearer_token(request))
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not logged in or the session expired",
                            headers={"WWW-Authenticate": "Bearer"})
    return user


CurrentUser = Annotated[User, Depends(_current_user)]


def require_role(*roles: str):  # type: ignore[no-untyped-def]
    async def check(request: Request, user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the role {' or '.join(roles)}")
        scopes = getattr(request.state, "api_scopes", None)  # set for API tokens only
        if scopes is not None and not ("admin" in scopes or any(r in scopes for r in roles)):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this API token needs the scope {' or '.join(roles)}")
        return user

    return check


CurrentAgent = Annotated[User, Depends(require_role("agent", "admin"))]
CurrentEditor = Annotated[User, Depends(require_role("editor", "admin"))]
CurrentAdmin = Annotated[User, Depends(require_role("admin"))]


def websocket_token(websocket: WebSocket) -> tuple[str | None, bool]:
    """The socket's session token (`?token=` or the session cookie), and whether it may be used.

    A cookie is sent by the browser whichever page opens the socket, so a cookie-authenticated
    socket from a browser must come from the desk's own origin (cross-site websocket hijacking).
    Browsers always send `Origin` on a websocket handshake; a client without one is not a browser
    and holds the cookie itself. A token in the URL is not ambient: another page cannot know it.
    """
    token = websocket.query_params.get("token")
    if token:
        return token, True
    cookie = websocket.cookies.get(SESSION_COOKIE)
    origin = websocket.headers.get("origin")
    if not cookie or origin is None:
        return cookie, True
    return cookie, desk_origin_ok(origin, websocket.headers.get("host"), _public_url(websocket))


async def pump(sub: Subscription, handle: Callable[[dict[str, Any]], Awaitable[bool | None]]) -> None:
    """A socket's writer: each message of its subscription to `handle`, in order, until `handle`
    returns True (nothing more to send) or the socket is gone (the reader ends the session)."""
    try:
        while True:
            _, message = await sub.get()
            if await handle(message):
                return
    except WebSocketDisconnect:
        return


async def send_text(ws: WebSocket, text: str) -> None:
    """Send on a socket that may have been closed underneath us: uvicorn closes it by itself on an
    oversized or malformed frame or a ping timeout, or the peer left. That is a disconnect, not a
    server error: WebSocketDisconnect, which the socket handlers end on quietly."""
    try:
        await ws.send_text(text)
    except (RuntimeError, OSError) as exc:
        raise WebSocketDisconnect(1006) from exc
