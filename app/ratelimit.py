"""Rate limits for customers, per session and per client IP, with the `limits` library.

In-memory within one process; with `REDIS_URL` the counters live in Redis, so a limit holds
across every server process. If Redis fails, limits fail open (logged): chat keeps working.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect

from app.config import Settings
from app.events import FrameError

log = logging.getLogger("parley.ratelimit")


class CustomerLimits:
    """`hit_*` consume one unit and say whether it was allowed."""

    def __init__(self, settings: Settings) -> None:
        if settings.redis_url:
            storage = RedisStorage("async+" + settings.redis_url, implementation="redispy",
                                   key_prefix=settings.redis_prefix + "limits")
            self.storage: Storage | None = storage
            self.limiter: MovingWindowRateLimiter | LocalMovingWindow = MovingWindowRateLimiter(storage)
        else:
            self.storage = None
            self.limiter = LocalMovingWindow()
        self.session_messages: RateLimitItem = RateLimitItemPerMinute(settings.messages_per_minute)
        self.ip_messages: RateLimitItem = RateLimitItemPerMinute(settings.ip_messages_per_minute)
        self.ip_conversations: RateLimitItem = RateLimitItemPerMinute(settings.conversations_per_minute)
        self.attachments: RateLimitItem = RateLimitItemPerHour(settings.attachments_per_hour)
        self.ip_attachments: RateLimitItem = RateLimitItemPerHour(settings.ip_attachments_per_hour)
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

    async def hit_attachment(self, conversation_id: str, ip: str | None) -> str | None:
        """None when allowed, else the scope that refused it: `conversation` (customer and agents
        together) or `ip` (customers only: `ip` None for an agent's upload)."""
        if not await self._hit(self.attachments, "attachment", "session", conversation_id):
            return "conversation"
        if ip is not None and not await self._hit(self.ip_attachments, "attachment", "ip", ip):
            return "ip"
        return None

    async def hit_transcript_email(self, conversation_id: str, ip: str = "unknown") -> str | None:
        """None when allowed, else the scope that refused it: `conversation`, `ip` or `desk`."""
        if not await self._hit(self.transcript_emails, "transcript-email", "session", conversation_id):
            return "conversation"
        if not await self._hit(self.ip_transcript_emails, "transcript-email", "ip", ip):
            return "ip"
        if not await self._hit(self.all_transcript_emails, "transcript-email", "desk", "all"):
            return "desk"
        return None


class LocalMovingWindow:
    """The moving-window limit of `limits`, for one process, without its in-memory storage: that
    storage (limits 5.8 `MemoryStorage`) sweeps every key on each hit with one thread hand-off per
    key, which at 200 chatting customers was thousands of hand-offs a second on the default
    executor, in front of the bot's decisions. Same rule: at most `item.amount` hits in any
    `item.get_expiry()` seconds per key. No await, no thread; keys idle longer than their window
    are dropped once a minute."""

    SWEEP_SECONDS = 60.0

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[str, tuple[float, deque[float]]] = {}  # key -> (window, hit times, oldest first)
        self._swept = clock()

    async def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        now = self._clock()
        key = item.key_for(*identifiers)
        window = float(item.get_expiry())
        _, hits = self._hits.setdefault(key, (window, deque()))
        while hits and hits[0] <= now - window:
            hits.popleft()
        allowed = len(hits) + cost <= item.amount
        if allowed:
            hits.extend([now] * cost)
        if now - self._swept >= self.SWEEP_SECONDS:
            self._sweep(now)
        return allowed

    def _sweep(self, now: float) -> None:
        self._swept = now
        for key in [k for k, (window, hits) in self._hits.items() if not hits or hits[-1] <= now - window]:
            del self._hits[key]

    def __len__(self) -> int:
        return len(self._hits)


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
