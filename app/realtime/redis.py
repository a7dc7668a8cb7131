"""Redis pub/sub broker: several server processes or hosts share one desk.

One pub/sub connection per process feeds the local fan-out. A publish reaches this process's own
subscribers at once, before the network hop (each message carries its process's origin, and the
listener skips its own), so a socket's own events never wait on Redis nor depend on it. If Redis
goes away, publishing fails soft (the event is already stored), and after reconnecting every local
subscriber gets a resync so nothing published meanwhile is missed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.realtime.base import RESYNC, LocalFanout, Subscription

log = logging.getLogger("parley.realtime.redis")
PREFIX = "parley:"
PUBLISH_TIMEOUT = 1.0  # seconds
ORIGIN = "_origin"  # the publishing process, in every message on the wire


class RedisBroker(LocalFanout):
    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        super().__init__()
        self._url = url
        self.prefix = prefix
        self._redis = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10)
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.origin = secrets.token_hex(8)

    async def start(self) -> None:
        await self._redis.ping()  # fail fast at start-up when Redis is not there
        self._task = asyncio.create_task(self._listen(), name="redis-listener")
        await asyncio.wait_for(self._ready.wait(), timeout=5)

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        await self._redis.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except RedisError:
            return False

    def subscription(self) -> Subscription:
        return Subscription(self)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self.dispatch(channel, message)  # this process's subscribers: now, whatever Redis does
        try:
            # Bounded: while Redis is away a publish must not hold up the sender (the event is stored).
            payload = json.dumps({**message, ORIGIN: self.origin}, default=str)
            await asyncio.wait_for(self._redis.publish(self.prefix + channel, payload), PUBLISH_TIMEOUT)
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            # Stored already; subscribers will resync when Redis is back.
            log.warning("redis publish failed on %s: %s", channel, exc)

    async def on_first(self, channel: str) -> None:
        if self._pubsub is not None:
            try:
                await self._pubsub.subscribe(self.prefix + channel)
            except (RedisError, OSError) as exc:
                log.warning("redis subscribe failed on %s: %s", channel, exc)

    async def on_last(self, channel: str) -> None:
        if self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(self.prefix + channel)
            except (RedisError, OSError):
                pass

    async def _listen(self) -> None:
        backoff = 0.1
        first = True
        while True:
            try:
                self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                await self._pubsub.subscribe(self.prefix + "__control__", *[self.prefix + c for c in self.channels])
                self._ready.set()
                if not first:
                    log.info("redis reconnected; asking subscribers to resync")
                    self.dispatch_all(RESYNC)
                first, backoff = False, 0.1
                while True:
                    msg = await self._pubsub.get_message(timeout=1.0)
                    if msg is None or msg.get("type") != "message":
                        continue
                    channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
                    try:
                        payload = json.loads(msg["data"])
                    except (ValueError, TypeError):
                        continue
                    if not isinstance(payload, dict) or payload.pop(ORIGIN, None) == self.origin:
                        continue  # not ours to read, or ours: dispatched when it was published
                    self.dispatch(channel[len(self.prefix):], payload)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("redis listener lost its connection: %s; retrying in %.1fs", exc, backoff)
                try:
                    if self._pubsub is not None:
                        await self._pubsub.aclose()
                except Exception:
                    pass
                self._pubsub = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
