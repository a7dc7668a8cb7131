"""Rate limits for customers, per session and per client IP, with the `limits` library.

In-memory within one process; with `REDIS_URL` the counters live in Redis, so a limit holds
across every server process. If Redis fails, limits fail open (logged): chat keeps working.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect

from app.config import Settings
from app.events import FrameError

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
        self.transcript_emails: RateLimitItem = RateLimitItemPerHour(settings.transcript_emails_per_hour)
        self.ip_transcript_emails: RateLimitItem = RateLimitItemPerHour(settings.transcript_emails_per_ip_per_hour)
        self.all_transcript_emails: RateLimitItem = RateLimitItemPerHour(settings.transcript_emails_total_per_hour)

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

    async def hit_transcript_email(self, conversation_id: str, ip: str = "unknown") -> str | None:
        """None when allowed, else the scope that refused it: `conversation`, `ip` or `desk`."""
        if not await self._hit(self.transcript_emails, "transcript-email", "session", conversation_id):
            return "conversation"
        if not await self._hit(self.ip_transcript_emails, "transcript-email", "ip", ip):
            return "ip"
        if not await self._hit(self.all_transcript_emails, "transcript-email", "desk", "all"):
            return "desk"
        return None


class FrameBudget:
    """A token bucket for one websocket's frames, of every type: typing and ping floods cost the
    server as much as messages do. Local to the socket (its frames all arrive at this process),
    so it needs no shared storage and no await.

    Customer messages spend it but are never refused by it: they have their own per-minute limits,
    and refusing one while the next is accepted would put the conversation out of order. A burst of
    messages therefore leaves less room for the typing and ping frames around it."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.rate = per_second
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.refused_in_a_row = 0
        self.give_up_after = burst * 10

    def take(self, always: bool = False) -> bool:
        """Spend one frame; False when over budget. `always`: spend what is there and allow it."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if always:
            self.tokens = max(0.0, self.tokens - 1)
            return True
        if self.tokens >= 1:
            self.tokens -= 1
            self.refused_in_a_row = 0
            return True
        self.refused_in_a_row += 1
        return False

    @property
    def flooding(self) -> bool:
        """The client ignores its errors and keeps sending: close the socket."""
        return self.refused_in_a_row >= self.give_up_after


async def spend_frame(budget: FrameBudget, ws: WebSocket, metrics: Any, scope: str, always: bool = False) -> None:
    """Spend one frame of a socket's budget: over it, a `rate_limited` error; flooding on, close 1008.
    `always` for chat messages (see FrameBudget)."""
    if budget.take(always):
        return
    if budget.flooding:
        await ws.close(1008, "too many frames")
        raise WebSocketDisconnect(1008)
    metrics.rate_limited.labels(scope).inc()
    raise FrameError("rate_limited", "too many frames; slow down")
