"""Log in and out (agents, editors, admins)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from app.auth import LoginThrottled, announce_sessions_changed, login
from app.conversation import hash_token
from app.deps import SESSION_COOKIE, BrokerDep, CurrentUser, SettingsDep, StoreDep, bearer_token
from app.schemas import LoginIn, TokenOut, UserPublic

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login", response_model=TokenOut, responses={401: {}, 429: {}})
async def post_login(body: LoginIn, request: Request, response: Response, store: StoreDep,
                     settings: SettingsDep) -> TokenOut:
    client_ip = request.client.host if request.client else "unknown"
    try:
        result = await login(store, body.email, body.password, client_ip, settings.token_ttl_hours,
                             settings.login_attempts_per_minute)
    except LoginThrottled:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many login attempts; wait a minute") from None
    if result is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong email or password")
    user, token, expires_at = result
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=settings.cookie_secure,
                        max_age=int(settings.token_ttl_hours * 3600), path="/")
    return TokenOut(access_token=token, expires_at=expires_at, user=UserPublic.of(user))  # type: ignore[arg-type]


@router.post("/logout", status_code=204)
async def post_logout(request: Request, response: Response, user: CurrentUser, store: StoreDep,
                      broker: BrokerDep) -> Response:
    token = bearer_token(request)
    if token:
        await store.delete_session(hash_token(token))
        await announce_sessions_changed(broker, user.id)  # its open sockets close, the others stay
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserPublic)
async def get_me(user: CurrentUser) -> UserPublic:
    return UserPublic.of(user)
