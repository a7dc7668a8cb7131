"""Desk-wide settings changed at run time (`desk_settings`), each change with its audit entry.

A setting and its audit row are written in one transaction, as sites' are (app/storage/sites.py),
so a change is never made without its record. Every process reads the row (app/knowledge.py
re-reads the threshold override whenever the knowledge base's broker channel speaks, and on its poll).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.storage import tables as t
from app.storage.sites import Audit
from app.storage.sql import SqlStore

THRESHOLDS_KEY = "bot.thresholds"  # {"answer_threshold": a, "offer_threshold": o}; no row = calibrated


async def get_setting(store: SqlStore, key: str) -> tuple[Any, datetime | None, int | None] | None:
    """(value, updated_at, updated_by) or None when the setting is not set."""
    async with store.engine.connect() as conn:
        row = (await conn.execute(sa.select(t.desk_settings).where(t.desk_settings.c.key == key))).first()
    if row is None:
        return None
    at = row.updated_at
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return row.value, at, row.updated_by


async def set_setting(store: SqlStore, key: str, value: Any | None, who: Audit, action: str,
                      detail: dict[str, Any]) -> None:
    """Set `key` to `value` (None: remove it, back to the default) and audit it as `action`."""
    try:
        await _set(store, key, value, who, action, detail)
    except IntegrityError:  # another process set it between our delete and insert: ours comes after
        await _set(store, key, value, who, action, detail)


async def _set(store: SqlStore, key: str, value: Any | None, who: Audit, action: str, detail: dict[str, Any]) -> None:
    now = datetime.now(timezone.utc)
    async with store.engine.begin() as conn:
        await conn.execute(t.desk_settings.delete().where(t.desk_settings.c.key == key))
        if value is not None:
            await conn.execute(t.desk_settings.insert().values(key=key, value=value, updated_at=now,
                                                               updated_by=who.actor_id))
        await conn.execute(t.audit_log.insert().values(created_at=now, actor_id=who.actor_id, actor=who.actor,
                                                       action=action, target=key, detail=detail))
