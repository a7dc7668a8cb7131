"""app.ratelimit.LocalMovingWindow: the one-process customer limits hold, move with time, forget
idle keys, and cost no thread hand-off (limits' MemoryStorage swept every key through a thread
on each hit, in front of the bot's decisions)."""

from __future__ import annotations

import asyncio

from limits import RateLimitItemPerMinute

from app.config import Settings
from app.ratelimit import CustomerLimits, LocalMovingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_at_most_the_limit_in_any_window_then_the_window_moves() -> None:
    clock = Clock()
    window = LocalMovingWindow(clock)
    item = RateLimitItemPerMinute(3)
    assert [await window.hit(item, "message", "session", "c1") for _ in range(4)] == [True, True, True, False]
    assert await window.hit(item, "message", "session", "c2"), "another key has its own budget"
    clock.now += 30
    assert not await window.hit(item, "message", "session", "c1"), "30 s later the three are still in the window"
    clock.now += 30.5
    assert await window.hit(item, "message", "session", "c1"), "a minute after the first hits, room again"


async def test_a_refused_hit_does_not_count() -> None:
    clock = Clock()
    window = LocalMovingWindow(clock)
    item = RateLimitItemPerMinute(1)
    assert await window.hit(item, "k")
    for _ in range(50):
        clock.now += 1
        assert not await window.hit(item, "k")
    clock.now += 11  # 61 s after the only accepted hit
    assert await window.hit(item, "k")


async def test_idle_keys_are_forgotten() -> None:
    clock = Clock()
    window = LocalMovingWindow(clock)
    item = RateLimitItemPerMinute(5)
    for i in range(1000):
        await window.hit(item, "conversation", str(i))
    assert len(window) == 1000
    clock.now += LocalMovingWindow.SWEEP_SECONDS + 61
    await window.hit(item, "conversation", "new")
    assert len(window) == 1


async def test_customer_limits_in_one_process_use_no_thread(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    limits = CustomerLimits(Settings(redis_url="", messages_per_minute=2, ip_messages_per_minute=1000))

    handed: list[object] = []
    real = asyncio.to_thread

    async def counting(func, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        handed.append(func)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counting)
    for i in range(300):  # many conversations: every hit used to sweep all of them
        assert await limits.hit_message(f"c{i}", "10.0.0.1") is None
    assert await limits.hit_message("c0", "10.0.0.1") is None
    assert await limits.hit_message("c0", "10.0.0.1") == "session"
    await asyncio.sleep(0.2)  # nothing scheduled behind our back either
    assert handed == []
