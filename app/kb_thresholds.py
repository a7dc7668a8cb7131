"""What moves this process's answer and offer thresholds off the ones the content derived
(knowledge_base/calibration.py): the editors' override, stored as a desk setting, and the desk's
votes on answers given at once. Both are re-read on the knowledge base's broker channel and poll
(app/knowledge.py), so every process decides alike.
"""

from __future__ import annotations

import logging
from typing import Any

from app.realtime.base import Broker
from app.storage.desk_settings import THRESHOLDS_KEY, get_setting, set_setting
from app.storage.sql import SqlStore
from app.storage.votes import answer_votes, newest_vote
from knowledge_base.service import KnowledgeBase

log = logging.getLogger("parley.kb")


async def load_override(store: SqlStore, kb: KnowledgeBase) -> None:
    """Apply the editors' threshold override as stored (no row: the calibrated thresholds)."""
    found = await get_setting(store, THRESHOLDS_KEY)
    value = found[0] if found is not None else None
    override = None
    if isinstance(value, dict):
        try:
            override = (float(value["answer_threshold"]), float(value["offer_threshold"]))
        except (KeyError, TypeError, ValueError):
            log.warning("ignoring a malformed threshold override")
    if override != kb.override:
        kb.override = override
        log.info("threshold override applied" if override else "calibrated thresholds restored",
                 extra={"override": override})


async def set_override(store: SqlStore, broker: Broker, kb: KnowledgeBase, override: tuple[float, float] | None,
                       who: Any, channel: str) -> None:
    """Store the editors' override (None: back to calibrated) with its audit entry, use it here
    at once and tell every other process (they re-read it on the knowledge base's channel)."""
    stored = await get_setting(store, THRESHOLDS_KEY)
    previous = stored[0] if stored is not None else None
    value = None if override is None else {"answer_threshold": override[0], "offer_threshold": override[1]}
    detail = {"answer_threshold": override[0] if override else None,
              "offer_threshold": override[1] if override else None,
              "previous": previous}
    action = "bot.thresholds_overridden" if override else "bot.thresholds_calibrated"
    await set_setting(store, THRESHOLDS_KEY, value, who, action, detail)
    kb.override = override
    await broker.publish(channel, {"type": "thresholds_changed"})


async def load_votes(store: SqlStore, kb: KnowledgeBase, seen: int) -> int:
    """Re-read the desk's votes into `kb.votes` when one was cast since the vote `seen` (one indexed
    max() a poll otherwise); returns the newest vote's id."""
    newest = await newest_vote(store)
    if newest != seen:
        kb.votes = tuple(await answer_votes(store))
        log.info("answer votes read", extra={"votes": len(kb.votes), "shift": kb.calibration.feedback.get("shift")})
    return newest
