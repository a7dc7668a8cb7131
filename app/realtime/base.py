"""The Broker protocol and the local fan-out both implementations share."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, Protocol

log = logging.getLogger("parley.realtime")
RESYNC: dict[str, Any] = {"type": "resync"}


class Subscription:
    """A set of channels feeding one bounded queue. Owned by one socket."""

    def __init__(self, fanout: "LocalFanout", maxsize: int = 1000) -> None:
        self._fanout = fanout
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(maxsize)
        self.channels: set[str] = set()
        self.overflowed = False

    async def add(self, *channels: str) -> None:
        for channel in channels:
            if channel not in self.channels:
                self.channels.add(channel)
                await self._fanout.attach(channel, self)

    async def remove(self, *channels: str) -> None:
        for channel in channels:
            if channel in self.channels:
                self.channels.discard(channel)
                await self._fanout.detach(channel, self)

    async def close(self) -> None:
        await self.remove(*list(self.channels))

    def deliver(self, channel: str, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait((channel, message))
        except asyncio.QueueFull:
            # Drop, and make sure the consumer re-reads the store once it catches up.
            self.overflowed = True

    async def get(self) -> tuple[str, dict[str, Any]]:
        if self.overflowed and self.queue.empty():
            self.overflowed = False
            return "*", RESYNC
        return await self.queue.get()


class LocalFanout:
    """Channel -> subscriptions in this process. Hooks let Redis (un)subscribe upstream."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}

    async def attach(self, channel: str, sub: Subscription) -> None:
        first = channel not in self._subs
        self._subs.setdefault(channel, set()).add(sub)
        if first:
            await self.on_first(channel)

    async def detach(self, channel: str, sub: Subscription) -> None:
        subs = self._subs.get(channel)
        if subs is None:
            return
        subs.discard(sub)
        if not subs:
            del self._subs[channel]
            await self.on_last(channel)

    async def on_first(self, channel: str) -> None:  # overridden by Redis
        return None

    async def on_last(self, channel: str) -> None:
        return None

    def dispatch(self, channel: str, message: dict[str, Any]) -> None:
        for sub in list(self._subs.get(channel, ())):
            sub.deliver(channel, message)

    def dispatch_all(self, message: dict[str, Any]) -> None:
        seen: set[int] = set()
        for subs in list(self._subs.values()):
            for sub in list(subs):
                if id(sub) not in seen:
                    seen.add(id(sub))
                    sub.deliver("*", message)

    @property
    def channels(self) -> Iterable[str]:
        return list(self._subs)


class Broker(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def subscription(self) -> Subscription: ...

    async def ping(self) -> bool: ...
