"""Privacy operations shared by the REST API, the CLI and the retention job.

Erasing or purging removes the database rows (see app/storage/privacy.py) and any Redis key
named after the conversation, then tells live sockets of those conversations that they are gone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from app.config import Settings
from app.conversation import conversation_channel
from app.realtime.base import Broker
from app.storage.sql import SqlStore
from app.tasks import cancel

log = logging.getLogger("parley.privacy")


async def _forget_redis(settings: Settings, conversation_ids: list[str]) -> int:
    """Delete Redis keys that name one of the conversations (Parley stores none today; this keeps it so)."""
    if not settings.redis_url or not conversation_ids:
        return 0
    import redis.asyncio as aioredis

    client = aioredis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)
    deleted = 0
    try:
        for conversation_id in conversation_ids:
            async for key in client.scan_iter(match=f"{settings.redis_prefix}*{conversation_id}*", count=500):
                deleted += int(await client.delete(key))
    finally:
        await client.aclose()
    return deleted


async def _announce(broker: Broker | None, conversation_ids: list[str]) -> None:
    if broker is None:
        return
    for conversation_id in conversation_ids:
        await broker.publish(conversation_channel(conversation_id), {"type": "erased", "conversation_id": conversation_id})


async def export_contact(store: SqlStore, key: str) -> dict[str, Any]:
    return await store.export_contact(key)


async def erase_contact(settings: Settings, store: SqlStore, key: str, broker: Broker | None = None) -> dict[str, Any]:
    ids, counts = await store.erase_contact(key)
    redis_keys = await _forget_redis(settings, ids)
    await _announce(broker, ids)
    log.info("erased a contact: %d conversations", len(ids), extra={"erased": counts})
    return {**counts, "redis_keys": redis_keys}


async def purge(settings: Settings, store: SqlStore, days: int | None = None, broker: Broker | None = None) -> dict[str, Any]:
    days = settings.retention_days if days is None else days
    if days <= 0:
        return {"conversations": 0, "events": 0, "cases": 0, "attachments": 0, "redis_keys": 0, "retention_days": 0}
    ids, counts = await store.purge_older_than(days)
    redis_keys = await _forget_redis(settings, ids)
    await _announce(broker, ids)
    if ids:
        log.info("retention purge: %d conversations older than %d days", len(ids), days, extra={"purged": counts})
    return {**counts, "redis_keys": redis_keys, "retention_days": days}


class RetentionJob:
    """Runs the purge at start-up and then every `purge_interval_seconds`, when retention is on."""

    def __init__(self, settings: Settings, store: SqlStore, broker: Broker, metrics: Any = None) -> None:
        self.settings = settings
        self.store = store
        self.broker = broker
        self.metrics = metrics
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.settings.retention_days > 0:
            self._task = asyncio.create_task(self._loop(), name="retention-purge")

    async def stop(self) -> None:
        await cancel(self._task)

    async def run_once(self) -> dict[str, Any]:
        result = await purge(self.settings, self.store, broker=self.broker)
        if self.metrics is not None and result["conversations"]:
            self.metrics.purged.labels("retention").inc(result["conversations"])
        return result

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("retention purge failed")
            await asyncio.sleep(self.settings.purge_interval_seconds)
