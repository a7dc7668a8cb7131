"""Store queries for sites (widget keys) and the admin audit log.

A mixin that `SqlStore` inherits. A site's changes and their audit entry are written in one
transaction, so an action is never done without its record.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.storage import tables as t
from app.storage.mappers import as_utc
from app.storage.records import AuditEntry, Site

SITE_FIELDS = {"name", "allowed_origins", "identity_secret", "enforce_identity", "enabled", "language",
               "previous_identity_secret", "previous_secret_expires_at", "business_hours"}


def _site(row: Any) -> Site:
    return Site(row.key, row.name, list(row.allowed_origins), row.identity_secret, bool(row.enforce_identity),
                bool(row.enabled), row.language, row.previous_identity_secret, as_utc(row.previous_secret_expires_at),
                as_utc(row.created_at), as_utc(row.updated_at), row.business_hours)


class Audit:
    """Who acts: an admin's id and email, or the parley command (`cli`)."""

    def __init__(self, actor: str, actor_id: int | None = None) -> None:
        self.actor, self.actor_id = actor, actor_id


async def write_audit(conn: AsyncConnection, who: Audit, action: str, target: str, detail: dict[str, Any]) -> None:
    """One audit entry, inside the caller's transaction."""
    await conn.execute(t.audit_log.insert().values(created_at=datetime.now(timezone.utc), actor_id=who.actor_id,
                                                   actor=who.actor, action=action, target=target, detail=detail))


class SiteQueries:
    engine: AsyncEngine

    async def _audit(self, conn: AsyncConnection, who: Audit, action: str, target: str, detail: dict[str, Any]) -> None:
        await write_audit(conn, who, action, target, detail)

    async def upsert_site(self, key: str, name: str, allowed_origins: list[str], identity_secret: str | None = None,
                          enforce_identity: bool = False) -> Site:
        """Create or overwrite a site as is (the demo's key); admins go through create_site/update_site."""
        async with self.engine.begin() as conn:
            exists = (await conn.execute(sa.select(t.sites.c.key).where(t.sites.c.key == key))).first()
            values = dict(name=name, allowed_origins=allowed_origins, identity_secret=identity_secret,
                          enforce_identity=enforce_identity, updated_at=datetime.now(timezone.utc))
            if exists:
                await conn.execute(t.sites.update().where(t.sites.c.key == key).values(**values))
            else:
                await conn.execute(t.sites.insert().values(key=key, created_at=values["updated_at"], **values))
        site = await self.get_site(key)
        assert site is not None
        return site

    async def get_site(self, key: str) -> Site | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.sites).where(t.sites.c.key == key))).first()
        return _site(row) if row else None

    async def list_sites(self) -> list[Site]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.sites).order_by(t.sites.c.created_at, t.sites.c.key))).all()
        return [_site(r) for r in rows]

    async def create_site(self, key: str, fields: dict[str, Any], who: Audit, detail: dict[str, Any]) -> Site | None:
        """None when the key is taken."""
        now = datetime.now(timezone.utc)
        async with self.engine.begin() as conn:
            if (await conn.execute(sa.select(t.sites.c.key).where(t.sites.c.key == key))).first():
                return None
            await conn.execute(t.sites.insert().values(key=key, created_at=now, updated_at=now,
                                                       **{k: v for k, v in fields.items() if k in SITE_FIELDS}))
            await self._audit(conn, who, "site.created", key, detail)
        return await self.get_site(key)

    async def update_site(self, key: str, fields: dict[str, Any], who: Audit, action: str,
                          detail: dict[str, Any]) -> Site | None:
        """None when there is no such site."""
        values = {k: v for k, v in fields.items() if k in SITE_FIELDS}
        async with self.engine.begin() as conn:
            result = await conn.execute(t.sites.update().where(t.sites.c.key == key).values(
                updated_at=datetime.now(timezone.utc), **values))
            if result.rowcount == 0:
                return None
            await self._audit(conn, who, action, key, detail)
        return await self.get_site(key)

    async def list_audit(self, limit: int = 200, target: str | None = None) -> list[AuditEntry]:
        query = sa.select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
        if target is not None:
            query = query.where(t.audit_log.c.target == target)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [AuditEntry(r.id, as_utc(r.created_at), r.actor_id, r.actor, r.action, r.target, dict(r.detail))  # type: ignore[arg-type]
                for r in rows]
