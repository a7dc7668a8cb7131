"""In-order, exactly-once delivery of a conversation's events to one socket.

A socket remembers the last seq it sent. An event that is next is sent alone; one further ahead
means the socket missed some (a reconnect, a broker outage, a publish that overtook another), so
the gap is read from the store first. Both the customer and the agent socket use this.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.storage.records import Event


async def in_order(event: Event, last: int, load: Callable[[int], Awaitable[list[Event]]]) -> list[Event]:
    """What to send, in order, so the receiver has every seq up to `event.seq` once; `load(after)`
    returns the stored events after a seq. Empty when `event` was already sent."""
    if event.seq <= last:
        return []
    if event.seq == last + 1:
        return [event]
    return [e for e in await load(last) if last < e.seq <= event.seq] or [event]
