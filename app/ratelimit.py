"""Rate limits for customers, per session and per client IP, with the `limits` library.

In-memory within one process; with `REDIS_URL` the counters live in Redis, so a limit holds
across every server process. If Redis fails, limits fail open (logged): chat keeps working.
"""

from __future__ import annotations

import asyncio
import logging

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from app.config import Settings

log = logging.getLogger("parley.ratelimit")


class CustomerLimits:
    """`hit_*` consume one unit and say whether it was allowed."""

    def __init__(self, settings: Settings) -> None:
        storage: Storage
        if settings.redis_url:
            storage = RedisStorage("async+" + settings.redis_url, implementation="redispy",
                                   key_prefix=settings.redis_prefix + "limits")
        else:
            storage = MemoryStorage()
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        self.session_messages: RateLimitItem = RateLimitItemPerMinute(settings.messages_per_minute)
        self.ip_messages: RateLimitItem = RateLimitItemPerMinute(settings.ip_messages_per_minute)
        self.ip_conversations: RateLimitItem = RateLimitItemPerMinute(settings.conversations_per_minute)

    async def _hit(self, item: RateLimitItem, *keys: str) -> bool:
        try:
            # Bounded: a Redis outage must not stall the customer's socket.
            return await asyncio.wait_for(self.limiter.hit(item, *keys), 0.5)
        except Exception as exc:  # a limiter outage must not take chat down
            log.warning("rate limiter unavailable, allowing: %s", exc)
            return True

    async def hit_message(self, conversation_id: str, ip: str) -> str | None:
        """None when allowed, else the scope that refused it (`session` or `ip`)."""
        if not await self._hit(self.session_messages, "message", "session", conversation_id):
            return "session"
        if not await self._hit(self.ip_messages, "message", "ip", ip):
            return "ip"
        return None

    async def hit_new_conversation(self, ip: str) -> bool:
        return await self._hit(self.ip_conversations, "conversation", "ip", ip)
