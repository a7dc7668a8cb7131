"""Redis pub/sub broker: several server processes or hosts share one desk.

One pub/sub connection per process feeds the local fan-out. A publish reaches this process's own
subscribers at once, before the network hop (each message carries its process's origin, and the
listener skips its own), so a socket's own events never wait on Redis nor depend on it. If Redis
goes away, publishing fails soft (the event is already stored), and after reconnecting every local
subscriber gets a resync so nothing published meanwhile is missed.

A reconnect is recognised by Redis confirming the subscription of this process's control channel,
whoever remade the connection: this listener, or redis-py's retry policy, which reconnects and
re-subscribes inside a command without raising. The confirmation also orders the resync after the
re-subscription: whatever is published from then on arrives on the channel, and whatever was
stored before is in the store the resync reads. A channel whose own subscribe fails (a socket
attaching while the connection is remade) is subscribed by the listener, and its subscribers
resync on that confirmation (the CI run of 2026-12-03 left a customer one event short after a
Redis restart).
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
        self.origin = secrets.token_hex(8)
        # Named per process, so `CLIENT LIST` tells an operator (and a test) whose connection is whose.
        self._redis = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10,
                                        client_name=f"parley-{self.origin}")
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.subscribed_times = 0  # how often Redis confirmed this process's subscription (1 + reconnects)
        self._stale = False  # a channel's subscribe failed: the listener reconciles
        self._resync_on_confirm: set[str] = set()  # resubscribed channels whose subscribers resync on confirmation

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
        pubsub = self._pubsub
        if pubsub is None:
            return  # between connections: the listener subscribes every local channel when it reconnects
        try:
            await pubsub.subscribe(self.prefix + channel)
        except Exception as exc:
            # RedisError/OSError while Redis is away, and redis-py's own errors from a connection
            # that another task is reconnecting (an AttributeError on its writer was seen). The
            # channel is local already; the listener subscribes it and resyncs its subscribers.
            log.warning("redis subscribe failed on %s: %r", channel, exc)
            self._stale = True

    async def on_last(self, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                await pubsub.unsubscribe(self.prefix + channel)
            except Exception:
                pass  # a channel left subscribed upstream only costs the messages it brings

    async def _listen(self) -> None:
        backoff = 0.1
        control = self.prefix + "__control__"
        while True:
            try:
                self._pubsub = self._redis.pubsub(ignore_subscribe_messages=False)
                await self._pubsub.subscribe(control, *[self.prefix + c for c in self.channels])
                while True:
                    msg = await self._pubsub.get_message(timeout=1.0)
                    if self._stale:
                        self._stale = False
                        await self._reconcile()
                    if msg is None:
                        continue
                    channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
                    if msg.get("type") == "subscribe":
                        if channel == control:
                            await self._reconcile()  # channels attached while this connection was made
                            self._subscribed()
                            backoff = 0.1
                        elif channel in self._resync_on_confirm:
                            self._resync_on_confirm.discard(channel)
                            self.dispatch(channel[len(self.prefix):], RESYNC)
                        continue
                    if msg.get("type") != "message":
                        continue
                    try:
                        payload = json.loads(msg["data"])
                    except (ValueError, TypeError):
                        continue
                    if not isinstance(payload, dict) or payload.pop(ORIGIN, None) == self.origin:
                        continue  # not ours to read, or ours: dispatched when it was published
                    self.dispatch(channel[len(self.prefix):], payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the listener must outlive anything a broken connection raises
                log.warning("redis listener lost its connection: %r; retrying in %.1fs", exc, backoff)
                try:
                    if self._pubsub is not None:
                        await self._pubsub.aclose()
                except Exception:
                    pass
                self._pubsub = None
                self._resync_on_confirm.clear()  # the next connection's confirmation resyncs everyone
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    async def _reconcile(self) -> None:
        """Subscribe upstream every local channel Redis does not have yet (one attached while a
        connection was being made, or whose own subscribe failed); each one's subscribers resync
        once Redis confirms it, as nothing published before that reached this process."""
        pubsub = self._pubsub
        if pubsub is None:
            return
        have = {k.decode() if isinstance(k, bytes) else k for k in pubsub.channels}
        missing = [self.prefix + c for c in self.channels if self.prefix + c not in have]
        if missing:
            self._resync_on_confirm.update(missing)
            await pubsub.subscribe(*missing)

    def _subscribed(self) -> None:
        """Redis confirmed the control channel: at start-up, or after any reconnect (ours or
        redis-py's own), every channel of this process is subscribed again from here on."""
        self.subscribed_times += 1
        if self._ready.is_set():
            log.info("redis subscription restored; asking subscribers to resync")
            self.dispatch_all(RESYNC)
        self._ready.set()
