"""Customers' votes on the bot's answers, as the calibration reads them (knowledge_base/calibration.py).

A vote is a `feedback` event naming the seq of the bot message it is about; what the calibration
needs is that answer's score and whether it helped. Only answers the bot gave at once count: one
given after the customer picked it from "I found these" says nothing about the answer threshold
(its confidence is the pick's 1.0, not the search's score). A customer who changed their vote
counts once, with the last one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.storage import tables as t
from app.storage.sql import SqlStore

VOTE_WINDOW = 500  # the newest votes the calibration reads


async def newest_vote(store: SqlStore) -> int:
    """The id of the newest vote (0: none yet): a cheap check whether the votes changed."""
    ev = t.events
    async with store.engine.connect() as conn:
        found = (await conn.execute(sa.select(sa.func.max(ev.c.id)).where(ev.c.kind == "feedback"))).scalar()
    return int(found or 0)


async def answer_votes(store: SqlStore, limit: int = VOTE_WINDOW) -> list[tuple[float, bool]]:
    """(score, helpful) of the newest `limit` votes on answers given at once, newest first."""
    ev = t.events
    async with store.engine.connect() as conn:
        rows = (await conn.execute(
            sa.select(ev.c.conversation_id, ev.c.data).where(ev.c.kind == "feedback")
            .order_by(ev.c.id.desc()).limit(limit))).all()
        latest: dict[tuple[str, int], bool] = {}
        for row in rows:  # newest first: the first vote seen on an answer is the one that stands
            seq = row.data.get("seq") if isinstance(row.data, dict) else None
            if isinstance(seq, int) and isinstance(row.data.get("helpful"), bool):
                latest.setdefault((row.conversation_id, seq), row.data["helpful"])
        if not latest:
            return []
        targets = (await conn.execute(
            sa.select(ev.c.conversation_id, ev.c.seq, ev.c.data).where(
                ev.c.sender == "bot", sa.tuple_(ev.c.conversation_id, ev.c.seq).in_(list(latest))))).all()
    scored = {(r.conversation_id, r.seq): score for r in targets if (score := _answered_at_once(r.data)) is not None}
    return [(scored[key], helpful) for key, helpful in latest.items() if key in scored]


def _answered_at_once(data: Any) -> float | None:
    """The search score an answer was given at once with, or None (a pick, a queued suggestion)."""
    if not isinstance(data, dict) or data.get("action") != "answer":
        return None
    decision = data.get("decision") or {}
    candidates = decision.get("candidates") or []
    confidence = decision.get("confidence")
    if not candidates or not isinstance(confidence, (int, float)):
        return None
    top = candidates[0].get("score")
    # at once, the confidence is the top candidate's score; after a pick it is 1.0 (bot/decision.py)
    return float(confidence) if isinstance(top, (int, float)) and abs(top - confidence) < 1e-3 else None
