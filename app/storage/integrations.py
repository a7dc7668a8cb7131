"""Store queries for integrations: the API tokens and webhook endpoints aggregates.

A small class over the store's engine (`IntegrationStore(store.engine)`), like the other query
modules but without growing SqlStore. Admin changes and their audit entry are one transaction.
IntegrationStore also holds the webhook outbox's queries (app/storage/webhook_outbox.py:
deliveries, their attempts, the cursors that feed them); the records it returns live in
app/storage/integration_records.py and are imported from here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.storage import tables as t
from app.storage.integration_records import ApiToken, Attempt, Delivery, Endpoint, _endpoint, _token
from app.storage.mappers import as_utc, utcnow
from app.storage.records import User
from app.storage.sites import Audit
from app.storage.webhook_outbox import WebhookOutboxQueries

__all__ = ["ApiToken", "Attempt", "Delivery", "Endpoint", "IntegrationStore"]  # the records are imported from here

ENDPOINT_FIELDS = {"url", "description", "events", "enabled", "disabled_reason", "failing_since", "secret",
                   "previous_secret", "previous_secret_expires_at"}


class IntegrationStore(WebhookOutboxQueries):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    async def _audit(self, conn: AsyncConnection, who: Audit, action: str, target: str, detail: dict[str, Any]) -> None:
        await conn.execute(t.audit_log.insert().values(created_at=utcnow(), actor_id=who.actor_id, actor=who.actor,
                                                       action=action, target=target, detail=detail))

    # ------------------------------------------------------------------ API tokens
    async def create_token(self, token_hash: str, prefix: str, name: str, user_id: int, scopes: list[str],
                           expires_at: datetime | None, who: Audit) -> ApiToken:
        async with self.engine.begin() as conn:
            row = (await conn.execute(t.api_tokens.insert().values(
                token_hash=token_hash, prefix=prefix, name=name, user_id=user_id, scopes=scopes,
                created_by=who.actor_id, created_at=utcnow(), expires_at=expires_at).returning(t.api_tokens))).one()
            await self._audit(conn, who, "token.created", prefix, {"name": name, "user_id": user_id, "scopes": scopes})
        return _token(row)

    async def list_tokens(self) -> list[ApiToken]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.api_tokens).order_by(t.api_tokens.c.id))).all()
        return [_token(r) for r in rows]

    async def revoke_token(self, token_id: int, who: Audit) -> ApiToken | None:
        """None when there is no such token; revoking twice keeps the first time."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(sa.select(t.api_tokens).where(t.api_tokens.c.id == token_id))).first()
            if row is None:
                return None
            if row.revoked_at is None:
                row = (await conn.execute(t.api_tokens.update().where(t.api_tokens.c.id == token_id).values(
                    revoked_at=utcnow()).returning(t.api_tokens))).one()
                await self._audit(conn, who, "token.revoked", row.prefix, {"name": row.name})
        return _token(row)

    async def token_user(self, token_hash: str, touch_after: timedelta = timedelta(seconds=60)
                         ) -> tuple[ApiToken, User] | None:
        """The live token with this hash and its active user; records its use (at most once a minute)."""
        now = utcnow()
        async with self.engine.connect() as conn:
            row = (await conn.execute(
                sa.select(t.api_tokens, t.users.c.email, t.users.c.name.label("user_name"), t.users.c.role,
                          t.users.c.active, t.users.c.capacity, t.users.c.created_at.label("user_created_at"))
                .join(t.users, t.users.c.id == t.api_tokens.c.user_id)
                .where(t.api_tokens.c.token_hash == token_hash, t.api_tokens.c.revoked_at.is_(None),
                       t.users.c.active.is_(True),
                       sa.or_(t.api_tokens.c.expires_at.is_(None), t.api_tokens.c.expires_at > now)))).first()
        if row is None:
            return None
        token = _token(row)
        user = User(row.user_id, row.email, row.user_name, row.role, bool(row.active), row.capacity,
                    as_utc(row.user_created_at))  # type: ignore[arg-type]
        if token.last_used_at is None or token.last_used_at < now - touch_after:
            async with self.engine.begin() as conn:
                await conn.execute(t.api_tokens.update().where(t.api_tokens.c.id == token.id).values(last_used_at=now))
        return token, user

    # ------------------------------------------------------------------ webhook endpoints
    async def create_endpoint(self, url: str, description: str, events: list[str], secret: str, who: Audit) -> Endpoint:
        now = utcnow()
        async with self.engine.begin() as conn:
            row = (await conn.execute(t.webhook_endpoints.insert().values(
                url=url, description=description, events=events, secret=secret, enabled=True, created_at=now,
                updated_at=now).returning(t.webhook_endpoints))).one()
            await self._audit(conn, who, "webhook.created", f"webhook:{row.id}", {"url": url, "events": events})
        return _endpoint(row)

    async def get_endpoint(self, endpoint_id: int) -> Endpoint | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.webhook_endpoints).where(t.webhook_endpoints.c.id == endpoint_id))).first()
        return _endpoint(row) if row else None

    async def list_endpoints(self, enabled_only: bool = False) -> list[Endpoint]:
        query = sa.select(t.webhook_endpoints).order_by(t.webhook_endpoints.c.id)
        if enabled_only:
            query = query.where(t.webhook_endpoints.c.enabled.is_(True))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_endpoint(r) for r in rows]

    async def update_endpoint(self, endpoint_id: int, fields: dict[str, Any], who: Audit | None, action: str,
                              detail: dict[str, Any]) -> Endpoint | None:
        values = {k: v for k, v in fields.items() if k in ENDPOINT_FIELDS}
        async with self.engine.begin() as conn:
            row = (await conn.execute(t.webhook_endpoints.update().where(t.webhook_endpoints.c.id == endpoint_id)
                                      .values(updated_at=utcnow(), **values).returning(t.webhook_endpoints))).first()
            if row is None:
                return None
            if who is not None:
                await self._audit(conn, who, action, f"webhook:{endpoint_id}", detail)
        return _endpoint(row)

    async def delete_endpoint(self, endpoint_id: int, who: Audit) -> bool:
        async with self.engine.begin() as conn:
            row = (await conn.execute(sa.select(t.webhook_endpoints.c.url).where(
                t.webhook_endpoints.c.id == endpoint_id))).first()
            if row is None:
                return False
            ids = sa.select(t.webhook_deliveries.c.id).where(t.webhook_deliveries.c.endpoint_id == endpoint_id)
            await conn.execute(t.webhook_attempts.delete().where(t.webhook_attempts.c.delivery_id.in_(ids)))
            await conn.execute(t.webhook_deliveries.delete().where(t.webhook_deliveries.c.endpoint_id == endpoint_id))
            await conn.execute(t.webhook_endpoints.delete().where(t.webhook_endpoints.c.id == endpoint_id))
            await self._audit(conn, who, "webhook.deleted", f"webhook:{endpoint_id}", {"url": row.url})
        return True
