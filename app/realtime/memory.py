"""The in-process broker: one server process, no extra service."""

from __future__ import annotations

from typing import Any

from app.realtime.base import LocalFanout, Subscription


class MemoryBroker(LocalFanout):
    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self.dispatch(channel, message)

    def subscription(self) -> Subscription:
        return Subscription(self)

    async def ping(self) -> bool:
        return True
