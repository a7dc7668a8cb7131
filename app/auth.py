"""Passwords (argon2), bearer tokens stored hashed, and login throttling.

argon2 is slow on purpose (about 0.15 s a check here). The async `*_async` helpers run it in a
small thread pool, never on the event loop: a burst of wrong logins must not stall every socket.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.conversation import hash_token
from app.storage.records import User
from app.storage.sql import SqlStore, utcnow

_hasher = PasswordHasher()
MIN_PASSWORD = 8
# Bounded: two checks at a time (each already uses several lanes), the rest wait their turn off the loop.
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must be at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    """hash_password off the event loop."""
    if len(password) < MIN_PASSWORD:  # the error is raised here, not in the pool
        raise ValueError(f"password must be at least {MIN_PASSWORD} characters")
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    """verify_password off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_pool, verify_password, password_hash, password)


# A hash to verify against when the email is unknown or the account deactivated, so timing reveals
# neither which emails exist nor which accounts were closed.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class LoginThrottled(Exception):
    pass


def _failures_key(email: str, client_ip: str) -> str:
    # hashed: an email and an address may be longer together than the key column
    return "fail:" + hashlib.sha256(f"{email.lower()}\n{client_ip}".encode()).hexdigest()[:40]


async def login(store: SqlStore, email: str, password: str, client_ip: str, ttl_hours: float,
                attempts_per_minute: int) -> tuple[User, str, object] | None:
    """Check the password; None when it is wrong (or the account unknown or deactivated), after the
    same argon2 work in every case.

    Throttled (LoginThrottled) per client address: more than `attempts_per_minute` failures for one
    email, or three times as many attempts of any kind. There is no lock-out per email alone: a
    guesser anywhere would lock the owner out with eleven wrong passwords. Guessing from many
    addresses is bounded by the per-address limits times the addresses, and by argon2's cost.
    """
    since = utcnow() - timedelta(minutes=1)
    failures_key = _failures_key(email, client_ip)
    failures = await store.count_login_attempts(failures_key, since, record=False)
    by_ip = await store.count_login_attempts(f"ip:{client_ip}", since)
    if failures >= attempts_per_minute or by_ip > attempts_per_minute * 3:
        raise LoginThrottled()
    found = await store.get_user_credentials(email)
    right = await verify_password_async(found[1] if found else _DUMMY_HASH, password)
    if found is None or not found[0].active or not right:
        await store.count_login_attempts(failures_key, since)  # one more failure from this client
        return None
    user = found[0]
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=ttl_hours)
    await store.create_session(hash_token(token), user.id, expires_at)
    return user, token, expires_at


async def user_for_token(store: SqlStore, token: str | None) -> User | None:
    if not token or len(token) > 200:
        return None
    return await store.session_user(hash_token(token))


def sessions_channel(user_id: int) -> str:
    """The broker channel on which a user's sessions are said to have changed (logout, revocation)."""
    return f"sessions:{user_id}"


async def announce_sessions_changed(broker: Any, user_id: int) -> None:
    """Tell every process: the agent sockets of this user re-check their session now (and close
    with 1008 `session ended` when it is gone)."""
    await broker.publish(sessions_channel(user_id), {"type": "sessions_changed", "user_id": user_id})
