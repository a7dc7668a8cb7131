"""API tokens for integrations: scoped, revocable, hashed at rest, shown once.

A token is `pk_` and 43 random URL-safe characters; only its SHA-256 is stored (a token is random
enough that a slow hash adds nothing), with its first 11 characters (`prefix`) to recognise it in
lists. A request sends it as `Authorization: Bearer pk_...` and acts as the token's user, within
both the user's role and the token's scopes.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from app.conversation import hash_token
from app.storage.integrations import ApiToken, IntegrationStore
from app.storage.records import User
from app.storage.sites import Audit

PREFIX = "pk_"
PREFIX_SHOWN = 11  # "pk_" and 8 characters: enough to tell tokens apart, useless for guessing
# scope -> the user roles that may hold it
SCOPES: dict[str, tuple[str, ...]] = {
    "conversations:read": ("agent", "admin"),   # read conversations and their public events
    "conversations:write": ("agent", "admin"),  # the customer-side channel: start conversations, send customer messages
    "agent": ("agent", "admin"),                # agents' actions as the token's user (queue, claim, reply, note, ...)
    "editor": ("editor", "admin"),              # the editor's routes (articles, analytics)
    "admin": ("admin",),                        # the admin's routes (users, sites, webhooks, tokens)
}


class TokenError(ValueError):
    pass


def is_api_token(token: str | None) -> bool:
    return bool(token) and token.startswith(PREFIX) and len(token) <= 100  # type: ignore[union-attr]


def scope_allows(scopes: list[str], roles: tuple[str, ...]) -> bool:
    """May a token with `scopes` use a route for `roles`? `admin` opens every route its user's role does."""
    return "admin" in scopes or any(role in scopes for role in roles)


async def create_token(store: IntegrationStore, who: Audit, user: User, name: str, scopes: list[str],
                       expires_days: float | None = None) -> tuple[ApiToken, str]:
    """A new token for `user` (shown once, returned with its record)."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise TokenError(f"unknown scope {unknown[0]!r}" if unknown else "give at least one scope")
    for scope in scopes:
        if user.role not in SCOPES[scope]:
            raise TokenError(f"a {user.role} cannot hold the scope {scope!r}")
    if not user.active:
        raise TokenError("the user is deactivated")
    token = PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(timezone.utc) + timedelta(days=expires_days) if expires_days else None
    record = await store.create_token(hash_token(token), token[:PREFIX_SHOWN], name, user.id,
                                      sorted(set(scopes)), expires, who)
    return record, token


async def user_for_api_token(store: IntegrationStore, token: str) -> tuple[User, list[str]] | None:
    """The token's user and scopes, or None for an unknown, revoked or expired token or a deactivated user."""
    if not is_api_token(token):
        return None
    found = await store.token_user(hash_token(token))
    if found is None:
        return None
    record, user = found
    return user, [s for s in record.scopes if user.role in SCOPES.get(s, ())]
