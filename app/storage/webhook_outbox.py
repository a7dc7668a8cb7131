"""Store queries for the webhook outbox: deliveries, their attempts, and the cursors that feed them.

The outbox aggregate: a mixin that IntegrationStore (app/storage/integrations.py) inherits.
Claiming a delivery is a conditional UPDATE, so on SQLite and PostgreSQL alike, and across
processes, exactly one worker sends a given row at a time; the cursors only move forward.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage import tables as t
from app.storage.integration_records import (
    Attempt,
    Delivery,
    Endpoint,
    _attempt,
    _delivery,
    _endpoint,
)
from app.storage.mappers import utcnow
from app.storage.sites import Audit


class WebhookOutboxQueries:
    engine: AsyncEngine
    dialect: str
    # IntegrationStore's audit entry inside a caller's transaction (app/storage/integrations.py)
    _audit: Callable[..., Awaitable[None]]

    # ------------------------------------------------------------------ the outbox
    async def enqueue(self, rows: list[dict[str, Any]]) -> int:
        """Insert deliveries; one already queued for the same endpoint and source is left as it is
        (so feeding the same event twice, from two processes or after a restart, queues it once)."""
        if not rows:
            return 0
        insert = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(t.webhook_deliveries)
        stmt = insert.on_conflict_do_nothing(index_elements=["endpoint_id", "source"]).returning(
            t.webhook_deliveries.c.id)
        async with self.engine.begin() as conn:
            return len((await conn.execute(stmt, rows)).all())

    async def cursor(self, name: str) -> int | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.integration_cursors.c.position).where(
                t.integration_cursors.c.name == name))).first()
        return int(row.position) if row else None

    async def set_cursor(self, name: str, position: int) -> None:
        """Move a cursor forward (never back, whichever process writes last)."""
        now = utcnow()
        async with self.engine.begin() as conn:
            updated = await conn.execute(t.integration_cursors.update().where(
                t.integration_cursors.c.name == name, t.integration_cursors.c.position < position).values(
                position=position, updated_at=now))
            if updated.rowcount == 0:
                exists = (await conn.execute(sa.select(t.integration_cursors.c.name).where(
                    t.integration_cursors.c.name == name))).first()
                if exists is None:
                    insert = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(t.integration_cursors)
                    await conn.execute(insert.values(name=name, position=position, updated_at=now)
                                       .on_conflict_do_nothing(index_elements=["name"]))

    async def max_event_id(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.events.c.id), 0)))).scalar_one())

    async def max_article_version_id(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.article_versions.c.id), 0)))).scalar_one())

    async def events_after_id(self, after_id: int, limit: int) -> list[Any]:
        """Raw event rows (with their global id) after `after_id`, in id order, with the conversation's language and site."""
        async with self.engine.connect() as conn:
            return list((await conn.execute(
                sa.select(t.events, t.conversations.c.lang, t.conversations.c.site_key)
                .join(t.conversations, t.conversations.c.id == t.events.c.conversation_id)
                .where(t.events.c.id > after_id).order_by(t.events.c.id).limit(limit))).all())

    async def article_versions_after_id(self, after_id: int, limit: int) -> list[Any]:
        """Article versions after `after_id`, each with the status of the version before it (None for the first)."""
        prev = t.article_versions.alias("prev")
        previous_status = (sa.select(prev.c.status).where(
            prev.c.article_id == t.article_versions.c.article_id, prev.c.version == t.article_versions.c.version - 1)
            .correlate(t.article_versions).scalar_subquery().label("previous_status"))
        async with self.engine.connect() as conn:
            return list((await conn.execute(
                sa.select(t.article_versions.c.id, t.article_versions.c.article_id, t.article_versions.c.version,
                          t.article_versions.c.title, t.article_versions.c.category, t.article_versions.c.status,
                          t.article_versions.c.author_id, t.article_versions.c.created_at, previous_status)
                .where(t.article_versions.c.id > after_id).order_by(t.article_versions.c.id).limit(limit))).all())

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[tuple[Delivery, Endpoint]]:
        """Claim up to `limit` due deliveries of enabled endpoints, each the oldest unsent one of its
        conversation for its endpoint (so one conversation's events arrive in seq order). A claim is a
        lease: a worker that dies mid-send leaves the row to be claimed again when the lease ends."""
        d, e = t.webhook_deliveries, t.webhook_endpoints
        earlier = d.alias("earlier")
        blocked = sa.exists(sa.select(earlier.c.id).where(
            earlier.c.endpoint_id == d.c.endpoint_id, earlier.c.conversation_id == d.c.conversation_id,
            earlier.c.status == "pending", earlier.c.seq < d.c.seq))
        query = (sa.select(d, *[c.label(f"ep_{c.name}") for c in e.c]).join(e, e.c.id == d.c.endpoint_id)
                 .where(d.c.status == "pending", d.c.next_attempt_at <= now, e.c.enabled.is_(True),
                        sa.or_(d.c.claimed_until.is_(None), d.c.claimed_until < now), ~blocked)
                 .order_by(d.c.next_attempt_at, d.c.created_at).limit(limit))
        claimed: list[tuple[Delivery, Endpoint]] = []
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query)).all()
            for row in rows:
                won = await conn.execute(d.update().where(
                    d.c.id == row.id, d.c.status == "pending",
                    sa.or_(d.c.claimed_until.is_(None), d.c.claimed_until < now)).values(claimed_until=now + lease))
                if won.rowcount == 1:
                    ep = type("Row", (), {c.name: getattr(row, f"ep_{c.name}") for c in e.c})
                    claimed.append((_delivery(row), _endpoint(ep)))
        return claimed

    async def record_attempt(self, delivery: Delivery, endpoint_id: int, started_at: datetime,
                             status_code: int | None, latency_ms: int, error: str | None, delivered: bool,
                             next_attempt_at: datetime | None, disable_after: timedelta) -> str:
        """Log one attempt and settle the delivery: delivered, due again at `next_attempt_at`, or
        failed (given up: None). An endpoint failing for `disable_after` without a success is
        disabled. Returns the delivery's new status."""
        now = utcnow()
        status = "delivered" if delivered else ("pending" if next_attempt_at is not None else "failed")
        async with self.engine.begin() as conn:
            await conn.execute(t.webhook_attempts.insert().values(
                delivery_id=delivery.id, started_at=started_at, status_code=status_code, latency_ms=latency_ms,
                error=(error or None) and error[:300]))
            await conn.execute(t.webhook_deliveries.update().where(t.webhook_deliveries.c.id == delivery.id).values(
                status=status, attempts=t.webhook_deliveries.c.attempts + 1, claimed_until=None,
                next_attempt_at=next_attempt_at or now, delivered_at=now if delivered else None,
                last_error=None if delivered else (error or "")[:300]))
            e = t.webhook_endpoints
            if delivered:
                await conn.execute(e.update().where(e.c.id == endpoint_id, e.c.failing_since.is_not(None)).values(
                    failing_since=None))
            else:
                await conn.execute(e.update().where(e.c.id == endpoint_id, e.c.failing_since.is_(None)).values(
                    failing_since=started_at))
                disabled = await conn.execute(e.update().where(
                    e.c.id == endpoint_id, e.c.enabled.is_(True), e.c.failing_since < now - disable_after).values(
                    enabled=False, updated_at=now,
                    disabled_reason=f"every delivery failed for {disable_after.total_seconds() / 86400:g} days"))
                if disabled.rowcount:
                    await self._audit(conn, Audit("webhooks"), "webhook.disabled", f"webhook:{endpoint_id}",
                                      {"reason": "failing", "last_error": (error or "")[:300]})
        return status

    async def release(self, delivery_id: str) -> None:
        """Give a claimed delivery back untried (the worker is stopping)."""
        async with self.engine.begin() as conn:
            await conn.execute(t.webhook_deliveries.update().where(t.webhook_deliveries.c.id == delivery_id).values(
                claimed_until=None))

    async def list_deliveries(self, endpoint_id: int, status: str | None = None, limit: int = 100) -> list[Delivery]:
        d = t.webhook_deliveries
        query = sa.select(d).where(d.c.endpoint_id == endpoint_id).order_by(d.c.created_at.desc(), d.c.id).limit(limit)
        if status:
            query = query.where(d.c.status == status)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_delivery(r) for r in rows]

    async def get_delivery(self, delivery_id: str) -> tuple[Delivery, list[Attempt]] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.webhook_deliveries).where(t.webhook_deliveries.c.id == delivery_id))).first()
            if row is None:
                return None
            attempts = (await conn.execute(sa.select(t.webhook_attempts).where(
                t.webhook_attempts.c.delivery_id == delivery_id).order_by(t.webhook_attempts.c.id))).all()
        return _delivery(row), [_attempt(a) for a in attempts]

    async def replay(self, delivery_id: str, who: Audit) -> Delivery | None:
        """Send a delivery again, with the same id and body (a receiver that has it already ignores it)."""
        d = t.webhook_deliveries
        async with self.engine.begin() as conn:
            row = (await conn.execute(d.update().where(d.c.id == delivery_id).values(
                status="pending", next_attempt_at=utcnow(), claimed_until=None).returning(d))).first()
            if row is None:
                return None
            await self._audit(conn, who, "webhook.replayed", f"webhook:{row.endpoint_id}", {"delivery_id": delivery_id})
        return _delivery(row)

    async def delivery_counts(self, endpoint_id: int) -> dict[str, int]:
        d = t.webhook_deliveries
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(d.c.status, sa.func.count()).where(d.c.endpoint_id == endpoint_id)
                                       .group_by(d.c.status))).all()
        return {str(r[0]): int(r[1]) for r in rows}
