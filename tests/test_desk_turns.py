"""app.conversation.Desk: a customer's message is stored, published and acknowledgeable while the
bot is still answering their previous one; the bot's turns keep message order and each sees the
memory the one before it left (in process: SQLite, the in-process broker, a bot held on purpose)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from app import bot_turns
from app.config import Settings
from app.conversation import Desk, conversation_channel
from app.realtime.memory import MemoryBroker
from app.storage.migrations import upgrade_database
from app.storage.sql import SqlStore
from bot import Decision


@pytest.fixture
async def desk(tmp_path: Path) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path}/desk.db"
    await upgrade_database(url)
    store = SqlStore.from_url(url)
    desk = Desk(Settings(database_url=url), store, MemoryBroker(), kb=None)
    yield desk
    await desk.close()
    await store.close()


async def test_the_next_message_is_stored_while_the_bot_answers_the_last(desk: Desk, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()
    seen_failures: list[int] = []

    def held_bot(text: str, context: Any, kb: Any, config: Any, article_id: Any = None) -> Decision:
        seen_failures.append(context.consecutive_failures)
        release.wait(10)  # the model is busy: this turn takes as long as the test says
        return Decision("no_answer", f"no article for {text}", 0.1)

    monkeypatch.setattr(bot_turns, "respond", held_bot)
    conv, _ = await desk.start_conversation("en", None)
    sub = desk.broker.subscription()
    await sub.add(conversation_channel(conv.id))

    first, c1, behind1 = await desk.accept_customer_message(conv.id, "one", "m1")
    assert c1 is not None and not behind1
    desk.answer_in_background(c1, "one")
    await asyncio.sleep(0.1)  # the bot's turn on "one" is under way, and held
    second, c2, behind2 = await asyncio.wait_for(desk.accept_customer_message(conv.id, "two", "m2"), 2)
    assert c2 is not None and behind2, "stored while the first turn was still going"
    desk.answer_in_background(c2, "two", None, behind2)
    published = [(await asyncio.wait_for(sub.get(), 2))[1]["event"] for _ in range(2)]
    assert [(e["sender"], e["text"]) for e in published] == [("customer", "one"), ("customer", "two")]

    release.set()
    replies = [(await asyncio.wait_for(sub.get(), 5))[1]["event"] for _ in range(2)]
    assert [(e["sender"], e["text"]) for e in replies] == [("bot", "no article for one"), ("bot", "no article for two")]
    assert [e["seq"] for e in [*published, *replies]] == [first.seq, second.seq, first.seq + 2, first.seq + 3]
    assert seen_failures == [0, 1], "the second turn read the memory the first one left"
    stored = await desk.store.get_conversation(conv.id)
    assert stored is not None and stored.bot_state["failures"] == 2


async def test_a_retried_message_is_not_answered_again(desk: Desk, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []

    def bot(text: str, context: Any, kb: Any, config: Any, article_id: Any = None) -> Decision:
        calls.append(text)
        return Decision("smalltalk", "hello", 1.0)

    monkeypatch.setattr(bot_turns, "respond", bot)
    conv, _ = await desk.start_conversation("en", None)
    events = await desk.receive_customer_message(conv.id, "hi", "same")
    again = await desk.receive_customer_message(conv.id, "hi", "same")
    assert [e.sender for e in events] == ["customer", "bot"]
    assert [e.seq for e in again] == [events[0].seq] and calls == ["hi"]
