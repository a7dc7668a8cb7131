"""In-order, exactly-once delivery (app/realtime/delivery.py), shared by the customer and agent sockets."""

from __future__ import annotations

from datetime import datetime, timezone

from app.realtime.delivery import in_order
from app.storage.records import Event

STORE = [Event("c", seq, "message", "customer", "public", f"m{seq}", {}, None, datetime.now(timezone.utc))
         for seq in range(1, 8)]


class Store:
    def __init__(self) -> None:
        self.reads: list[int] = []

    async def after(self, seq: int) -> list[Event]:
        self.reads.append(seq)
        return [e for e in STORE if e.seq > seq]


async def test_the_next_event_is_sent_alone_without_reading_the_store() -> None:
    store = Store()
    assert [e.seq for e in await in_order(STORE[3], 3, store.after)] == [4]
    assert store.reads == []


async def test_a_gap_is_filled_from_the_store_up_to_the_event_and_no_further() -> None:
    store = Store()
    assert [e.seq for e in await in_order(STORE[4], 2, store.after)] == [3, 4, 5]
    assert store.reads == [2]


async def test_an_event_already_sent_is_not_sent_again() -> None:
    store = Store()
    assert await in_order(STORE[1], 2, store.after) == [] and await in_order(STORE[2], 5, store.after) == []


async def test_a_gap_the_store_cannot_fill_still_sends_the_event() -> None:
    async def nothing(after: int) -> list[Event]:  # e.g. the events in between are internal
        return []

    assert [e.seq for e in await in_order(STORE[6], 2, nothing)] == [7]
