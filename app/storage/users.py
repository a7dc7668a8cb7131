"""Store queries for users, their login sessions, login attempts and presence: the users aggregate.

A mixin that `SqlStore` (app/storage/sql.py) inherits. A change of password, role or activity
ends the user's sessions in the same transaction (`session_ends_on`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage import tables as t
from app.storage.errors import Conflict, NotFound
from app.storage.mappers import _user, utcnow
from app.storage.records import User


def session_ends_on(changes: dict[str, Any], old_role: str) -> bool:
    """A change of password, role or activity ends the user's sessions: whoever held one must log in again."""
    return ("password_hash" in changes or changes.get("active") is False
            or ("role" in changes and changes["role"] != old_role))


class UserQueries:
    engine: AsyncEngine

    # ------------------------------------------------------------------ users and sessions
    async def create_user(self, email: str, name: str, password_hash: str, role: str, capacity: int = 3) -> User:
        async with self.engine.begin() as conn:
            try:
                row = (await conn.execute(
                    t.users.insert().values(email=email.lower(), name=name, password_hash=password_hash, role=role,
                                            active=True, capacity=capacity, created_at=utcnow()).returning(t.users)
                )).one()
            except IntegrityError:
                raise Conflict("exists", f"a user with email {email} already exists") from None
        return _user(row)

    async def update_user(self, user_id: int, **fields: Any) -> User:
        """Change a user. A new password, a new role or deactivation ends every session of the user
        (`session_ends_on` says which changes do)."""
        allowed = {k: v for k, v in fields.items() if k in {"name", "role", "active", "capacity", "password_hash"}}
        async with self.engine.begin() as conn:
            before = (await conn.execute(sa.select(t.users.c.role).where(t.users.c.id == user_id))).first()
            row = (await conn.execute(
                t.users.update().where(t.users.c.id == user_id).values(**allowed).returning(t.users))).first()
            if row is None or before is None:
                raise NotFound(f"user {user_id} not found")
            if session_ends_on(allowed, before.role):
                await conn.execute(t.auth_sessions.delete().where(t.auth_sessions.c.user_id == user_id))
        return _user(row)

    async def delete_user_sessions(self, user_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(t.auth_sessions.delete().where(t.auth_sessions.c.user_id == user_id))

    async def get_user(self, user_id: int) -> User | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.users).where(t.users.c.id == user_id))).first()
        return _user(row) if row else None

    async def get_user_credentials(self, email: str) -> tuple[User, str] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.users).where(t.users.c.email == email.lower()))).first()
        return (_user(row), row.password_hash) if row else None

    async def list_users(self) -> list[User]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.users).order_by(t.users.c.id))).all()
        return [_user(r) for r in rows]

    async def create_session(self, token_hash: str, user_id: int, expires_at: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(t.auth_sessions.insert().values(
                token_hash=token_hash, user_id=user_id, created_at=utcnow(), expires_at=expires_at))

    async def session_user(self, token_hash: str) -> User | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(
                sa.select(t.users).join(t.auth_sessions, t.auth_sessions.c.user_id == t.users.c.id).where(
                    t.auth_sessions.c.token_hash == token_hash, t.auth_sessions.c.expires_at > utcnow(),
                    t.users.c.active.is_(True))
            )).first()
        return _user(row) if row else None

    async def delete_session(self, token_hash: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(t.auth_sessions.delete().where(t.auth_sessions.c.token_hash == token_hash))

    async def count_login_attempts(self, key: str, since: datetime, record: bool = True) -> int:
        """Record a login attempt for `key` and return how many there were since `since`."""
        async with self.engine.begin() as conn:
            await conn.execute(t.login_attempts.delete().where(t.login_attempts.c.created_at < since - timedelta(hours=1)))
            if record:
                await conn.execute(t.login_attempts.insert().values(key=key, created_at=utcnow()))
            return int((await conn.execute(sa.select(sa.func.count()).select_from(t.login_attempts).where(
                t.login_attempts.c.key == key, t.login_attempts.c.created_at >= since))).scalar_one())

    # ------------------------------------------------------------------ presence
    async def set_presence(self, user_id: int, status: str) -> None:
        now = utcnow()
        async with self.engine.begin() as conn:
            updated = await conn.execute(t.presence.update().where(t.presence.c.user_id == user_id).values(
                status=status, last_seen=now))
            if updated.rowcount == 0:
                try:
                    async with conn.begin_nested():
                        await conn.execute(t.presence.insert().values(user_id=user_id, status=status, last_seen=now))
                except IntegrityError:
                    await conn.execute(t.presence.update().where(t.presence.c.user_id == user_id).values(
                        status=status, last_seen=now))

    async def touch_presence(self, user_id: int) -> None:
        """The agent acted (over the REST agent channel, which has no socket to say so): seen now,
        their status kept (an agent with no presence yet is offline, seen now)."""
        now = utcnow()
        async with self.engine.begin() as conn:
            updated = await conn.execute(t.presence.update().where(t.presence.c.user_id == user_id).values(last_seen=now))
            if updated.rowcount == 0:
                try:
                    async with conn.begin_nested():
                        await conn.execute(t.presence.insert().values(user_id=user_id, status="offline", last_seen=now))
                except IntegrityError:
                    pass  # inserted meanwhile, by a socket that says more than we know

    async def online_agents(self, stale_after: timedelta = timedelta(seconds=60)) -> list[User]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                sa.select(t.users).join(t.presence, t.presence.c.user_id == t.users.c.id).where(
                    t.presence.c.status == "online", t.presence.c.last_seen > utcnow() - stale_after,
                    t.users.c.active.is_(True), t.users.c.role.in_(("agent", "admin")))
            )).all()
        return [_user(r) for r in rows]
