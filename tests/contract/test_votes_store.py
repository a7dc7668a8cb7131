"""The votes the calibration reads, against SQLite and PostgreSQL (app/storage/votes.py): votes on answers
the bot gave at once, each answer once with its last vote; picks and queued suggestions left out; and the
knowledge base's answer threshold moved by them (app/kb_thresholds.py)."""

from __future__ import annotations

from typing import Any

import pytest

from app.kb_thresholds import load_votes
from app.storage.sql import SqlStore
from app.storage.votes import answer_votes, newest_vote
from knowledge_base.embedder import HashingEmbedder
from knowledge_base.service import KnowledgeBase, embed_article


def bot_answer(score: float, action: str = "answer", confidence: float | None = None) -> dict[str, Any]:
    conf = score if confidence is None else confidence
    return {"action": action, "confidence": conf, "article": {"id": "a", "title": "A"},
            "decision": {"action": "answer", "confidence": conf, "candidates": [{"article_id": "a", "score": score}]}}


async def answered(store: SqlStore, cid: str, data: dict[str, Any]) -> int:
    await store.create_conversation(cid, "hash-" + cid, "en", None)
    await store.append_event(cid, "message", "customer", "how do I reset my password")
    event, _ = await store.append_event(cid, "message", "bot", "Go to Settings", data=data)
    return event.seq


async def vote(store: SqlStore, cid: str, seq: int, helpful: bool) -> None:
    await store.append_event(cid, "feedback", "customer", "", visibility="internal",
                             data={"seq": seq, "helpful": helpful, "article_id": "a"})


async def test_votes_on_answers_given_at_once_each_counted_once_with_its_last_vote(store: SqlStore) -> None:
    assert await newest_vote(store) == 0 and await answer_votes(store) == []
    at_once = await answered(store, "c1", bot_answer(0.61))
    await vote(store, "c1", at_once, True)
    first = await newest_vote(store)
    await vote(store, "c1", at_once, False)  # changed their mind: the last vote stands
    assert await newest_vote(store) > first
    picked = await answered(store, "c2", bot_answer(0.41, confidence=1.0))  # picked from "I found these"
    await vote(store, "c2", picked, False)
    queued = await answered(store, "c3", bot_answer(0.7, action="queued_suggestion"))
    await vote(store, "c3", queued, False)
    other = await answered(store, "c4", bot_answer(0.55))
    await vote(store, "c4", other, True)
    assert sorted(await answer_votes(store)) == [(0.55, True), (0.61, False)]
    assert await answer_votes(store, limit=1) == [(0.55, True)]


async def test_enough_unhelpful_votes_just_above_the_threshold_raise_it_for_the_knowledge_base(store: SqlStore) -> None:
    embedder = HashingEmbedder()
    kb = KnowledgeBase(embedder)
    title, body = "Reset your password", "Open Settings, choose Password and follow the link we email you."
    kb.put("reset", title, body, *embed_article(embedder, "reset", title, body, (), 120))
    content = kb.calibration.answer
    assert await load_votes(store, kb, 0) == 0 and kb.votes == ()
    for i in range(12):
        seq = await answered(store, f"u{i}", bot_answer(round(content + 0.01, 4)))
        await vote(store, f"u{i}", seq, False)
    for i in range(14):
        seq = await answered(store, f"h{i}", bot_answer(0.95))
        await vote(store, f"h{i}", seq, True)
    seen = await load_votes(store, kb, 0)
    assert seen == await newest_vote(store) and len(kb.votes) == 26
    cal = kb.calibration
    assert cal.answer == pytest.approx(round(content + 0.01, 4) + 1e-4)
    assert cal.feedback["answer_from_content"] == content and cal.feedback["not_helpful"] == 12
    assert await load_votes(store, kb, seen) == seen  # nothing new: not re-read
