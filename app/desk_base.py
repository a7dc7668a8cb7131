"""What every part of the desk shares, and the core the parts build on.

The channels a desk publishes on, its refusal (`DeskError`), the wire shapes of events and cases,
the bot's configured decision settings, and `DeskCore`: the store, the broker, the per-conversation
locks and publishing after commit. The parts (app/bot_turns.py, app/escalation.py,
app/agent_actions.py) extend DeskCore; app/conversation.py composes them into the Desk.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import weakref
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

from app.config import Settings
from app.metrics import Metrics
from app.realtime.base import Broker
from app.storage.errors import Conflict, NotFound
from app.storage.records import Case, Conversation, Event
from app.storage.sql import SqlStore
from bot import BotConfig
from knowledge_base.models import Candidate
from knowledge_base.render import render_markdown

AGENTS_CHANNEL = "agents"
QUEUE_CHANNEL = "queue"


def conversation_channel(conversation_id: str) -> str:
    return f"conv:{conversation_id}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def answer_markup(article: Candidate) -> dict[str, str]:
    """The shown part of an answer as sanitised HTML, and the rest of its section behind "Show
    more", both from the one renderer the editor's preview uses (knowledge_base/render.py)."""
    out = {"html": render_markdown(article.snippet)}
    if article.more:
        out["more"] = article.more
        out["more_html"] = render_markdown(article.more)
    return out


def event_to_wire(event: Event) -> dict[str, Any]:
    data = asdict(event)
    data["created_at"] = event.created_at.isoformat()
    return data


def event_from_wire(data: dict[str, Any]) -> Event:
    return Event(**{**data, "created_at": datetime.fromisoformat(data["created_at"])})


class DeskError(Exception):
    """A refused action, with the wire error code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """A store's refusal (Conflict, NotFound) as the desk's error, which sockets and REST turn into
    an error frame or a 4xx."""
    try:
        yield
    except Conflict as exc:
        raise DeskError(exc.code, exc.detail) from None
    except NotFound as exc:
        raise DeskError("not_found", str(exc)) from None


def bot_config(settings: Settings) -> BotConfig:
    """The bot's decision settings as configured (thresholds left empty are calibrated per knowledge
    base): the server, the CLI and the benchmarks all decide with this."""
    return BotConfig(answer_threshold=settings.answer_threshold, clarify_margin=settings.clarify_margin,
                     out_of_scope_threshold=settings.out_of_scope_threshold, max_failures=settings.max_failures,
                     unanswered=settings.unanswered)


CONTINUATION = "    | "  # the prefix of a message's second and later lines in text exports


def transcript_entry(head: str, text: str) -> str:
    """One entry of a text export: `head` then the text, every further line of it indented with
    CONTINUATION, so nothing a sender types can start a line of its own (a fake "[time] Agent:" line
    or "(internal note)"). Every line break counts, \\r and U+2028 included."""
    lines = text.splitlines() or [""]
    return "\n".join([f"{head}{lines[0]}", *(CONTINUATION + line for line in lines[1:])])


def case_summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.id, "conversation_id": case.conversation_id, "status": case.status, "reason": case.reason,
        "agent_id": case.agent_id, "queued_at": case.queued_at.isoformat(),
        "assigned_at": case.assigned_at.isoformat() if case.assigned_at else None,
        "resolved_at": case.resolved_at.isoformat() if case.resolved_at else None,
        "rating": case.rating, "rating_comment": case.rating_comment, "contact_email": case.contact_email,
        "packet": case.packet, "team_id": case.team_id, "priority": case.priority, "tags": list(case.tags),
    }


class DeskCore:
    """The state every part of the desk uses, its per-conversation lock and publishing."""

    def __init__(self, settings: Settings, store: SqlStore, broker: Broker, kb: Any) -> None:
        self.settings = settings
        self.store = store
        self.broker = broker
        self.kb = kb
        self.bot_config = bot_config(settings)
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.metrics = Metrics()

    def _lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock

    # ----------------------------------------------------------------- publishing (after commit)
    async def publish(self, event: Event) -> None:
        await self.broker.publish(conversation_channel(event.conversation_id),
                                  {"type": "event", "event": event_to_wire(event)})

    async def publish_case(self, case: Case) -> None:
        await self.broker.publish(AGENTS_CHANNEL, {"type": "case", "case": case_summary(case)})
        await self.broker.publish(QUEUE_CHANNEL, {"type": "queue_changed"})

    async def relay_typing(self, conversation_id: str, sender: str, active: bool) -> None:
        await self.broker.publish(conversation_channel(conversation_id),
                                  {"type": "typing", "sender": sender, "active": active, "conversation_id": conversation_id})

    async def _conversation(self, conversation_id: str) -> Conversation:
        conv = await self.store.get_conversation(conversation_id)
        if conv is None:
            raise DeskError("not_found", f"conversation {conversation_id} not found")
        return conv
