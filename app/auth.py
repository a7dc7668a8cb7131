"""Passwords (argon2), bearer tokens stored hashed, and login throttling."""

from __future__ import annotations

import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.conversation import hash_token
from app.storage.records import User
from app.storage.sql import SqlStore, utcnow

_hasher = PasswordHasher()
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must be at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the email is unknown, so timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class LoginThrottled(Exception):
    pass


async def login(store: SqlStore, email: str, password: str, client_ip: str, ttl_hours: float,
                attempts_per_minute: int) -> tuple[User, str, object] | None:
    since = utcnow() - timedelta(minutes=1)
    by_email = await store.count_login_attempts(f"email:{email.lower()}", since)
    by_ip = await store.count_login_attempts(f"ip:{client_ip}", since)
    if by_email > attempts_per_minute or by_ip > attempts_per_minute * 3:
        raise LoginThrottled()
    found = await store.get_user_credentials(email)
    if found is None:
        verify_password(_DUMMY_HASH, password)
        return None
    user, password_hash = found
    if not user.active or not verify_password(password_hash, password):
        return None
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=ttl_hours)
    await store.create_session(hash_token(token), user.id, expires_at)
    return user, token, expires_at


async def user_for_token(store: SqlStore, token: str | None) -> User | None:
    if not token or len(token) > 200:
        return None
    return await store.session_user(hash_token(token))
