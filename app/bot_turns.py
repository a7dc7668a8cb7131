"""The bot's side of a conversation: its turn on a customer's message.

Turns of one conversation run one at a time in message order; a turn decides (Parley's bot in the
decision thread pool, or Rasa), then answers, clarifies or escalates; while a chat waits in the
queue a confident match is offered as a suggestion. Owns the decision threads and the background
turns, and closes them.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from app.config import Settings
from app.desk_base import DeskCore, DeskError, answer_markup
from app.realtime.base import Broker
from app.storage.errors import Conflict
from app.storage.records import Conversation, Event, Transition
from app.storage.sql import SqlStore
from bot import ConversationContext, Decision, respond
from bot.replies import LANGUAGES, say
from handoff.state import Owner
from knowledge_base.render import render_markdown

log = logging.getLogger("parley.conversation")
DECISION_THREADS = 2  # one encodes while the other searches (ONNX and FAISS release the GIL)


class BotTurns(DeskCore):
    """The bot's turns, the decision threads they run in and the background turns."""

    def __init__(self, settings: Settings, store: SqlStore, broker: Broker, kb: Any) -> None:
        super().__init__(settings, store, broker, kb)
        self.rasa: Any = None
        if settings.bot_backend == "rasa":
            from bot.rasa_backend import RasaConfig
            from bot.rasa_client import RasaClient

            self.rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_seconds, token=settings.rasa_token)
            self.rasa_config = RasaConfig(
                handoff_intents=tuple(i.strip() for i in settings.rasa_handoff_intents.split(",") if i.strip()),
                confidence_threshold=settings.rasa_confidence_threshold)
        self._turn_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._turns: dict[str, int] = {}  # conversation id -> bot turns accepted and not yet finished
        self._background: set[asyncio.Task[None]] = set()
        # The bot's decisions (encode, search) run in threads of their own, never on the event loop
        # nor in the default executor that every to_thread shares; few of them, so that Python work
        # in decisions contends little with the event loop for the GIL. Concurrent decisions share
        # model calls (knowledge_base/batching.py).
        self._decisions = ThreadPoolExecutor(DECISION_THREADS, thread_name_prefix="bot-decision")

    if TYPE_CHECKING:  # app/escalation.py's, composed beside this part in app/conversation.py's Desk
        async def _escalate(self, conv: Conversation, reason: str, decision: Decision | None = None
                            ) -> Transition: ...

    async def _in_decision_thread(self, fn: Callable[..., Decision], *args: Any) -> Decision:
        context = contextvars.copy_context()  # the log lines keep their conversation id, as with to_thread
        return await asyncio.get_running_loop().run_in_executor(self._decisions, partial(context.run, fn, *args))

    def _turn_lock(self, conversation_id: str) -> asyncio.Lock:
        """One bot turn at a time per conversation (asyncio locks are fair: turns keep message order)."""
        lock = self._turn_locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._turn_locks[conversation_id] = lock
        return lock

    async def answer_customer_message(self, conv: Conversation, text: str, article_id: str | None = None,
                                      behind: bool = False) -> list[Event]:
        """The bot's turn on a message `accept_customer_message` stored: turns of one conversation
        run one at a time, in the order of their messages; one that waited for another reads the
        conversation again (owner, the bot's memory)."""
        try:
            async with self._turn_lock(conv.id):
                if behind:
                    conv = await self._conversation(conv.id)
                if conv.status == Owner.QUEUED.value and self.rasa is None:
                    return await self._queued_suggestion(conv, text)
                if conv.status != Owner.BOT.value:
                    return []  # a human owns the chat: the bot stays silent
                return await self._bot_turn(conv, text, article_id)
        finally:
            left = self._turns.get(conv.id, 1) - 1
            if left > 0:
                self._turns[conv.id] = left
            else:
                self._turns.pop(conv.id, None)

    def answer_in_background(self, conv: Conversation, text: str, article_id: str | None = None,
                             behind: bool = False) -> None:
        """`answer_customer_message` without holding up the caller: the customer's socket goes on
        reading (and acknowledging) their next messages while the bot answers this one."""
        task = asyncio.get_running_loop().create_task(self._answer_logged(conv, text, article_id, behind))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _answer_logged(self, conv: Conversation, text: str, article_id: str | None, behind: bool) -> None:
        try:
            await self.answer_customer_message(conv, text, article_id, behind)
        except asyncio.CancelledError:
            raise
        except Exception:  # the message is stored; an agent sees it in the transcript
            log.exception("the bot's turn failed in conversation %s", conv.id)

    async def _queued_suggestion(self, conv: Conversation, text: str) -> list[Event]:
        """While the chat waits for a person, a confident article match is offered as a suggestion
        (the chat stays in the queue); the decision is kept with the message for content gaps."""
        decision = await self._in_decision_thread(respond, text, ConversationContext(lang=conv.lang), self.kb,
                                                  self.bot_config)
        if decision.action != "answer" or decision.article is None:
            return []
        article = decision.article
        data: dict[str, Any] = {
            "action": "queued_suggestion", "confidence": round(decision.confidence, 4),
            "decision": decision.record(), "suggestions": [],
            "article": {"id": article.article_id, "title": article.title, "url": self._article_url(article.url)},
            **answer_markup(article)}
        text = say("queued_suggestion", conv.lang) + "\n\n" + article.snippet
        data["html"] = render_markdown(text)
        event, _ = await self.store.append_event(conv.id, "message", "bot", text, data=data)
        await self.publish(event)
        return [event]

    async def _bot_turn(self, conv: Conversation, text: str, article_id: str | None) -> list[Event]:
        state = conv.bot_state
        context = ConversationContext(
            lang=conv.lang, consecutive_failures=int(state.get("failures", 0)), last_action=state.get("last_action"),
            last_article_id=state.get("last_article_id"),
            last_suggestions=tuple((s["article_id"], s["title"]) for s in state.get("suggestions", [])),
        )
        started = time.perf_counter()
        decision = await self._decide(conv, text, context, article_id)
        self._count(decision, (time.perf_counter() - started) * 1000)
        if decision.lang and decision.lang != conv.lang and decision.lang in LANGUAGES:
            # read from what the customer wrote: the desk's later lines (queue, contact, follow-up) follow it
            await self.store.update_conversation(conv.id, lang=decision.lang)
            conv = replace(conv, lang=decision.lang)
        if decision.action == "escalate":
            try:
                transition = await self._escalate(conv, decision.reason or "low_confidence", decision)
            except DeskError:
                return []  # an agent joined meanwhile (app/takeover.py): the bot stands aside
            return [transition.event]
        data: dict[str, Any] = {"action": decision.action, "confidence": round(decision.confidence, 4),
                                "decision": decision.record(), "suggestions": []}
        failures = int(state.get("failures", 0))
        new_state = dict(state, last_action=decision.action, suggestions=[],
                         failures=failures + 1 if decision.action == "no_answer" else (
                             # a "no" to "Would you like a person?": the next unanswered question offers one again
                             0 if decision.action == "answer" or decision.reason == "declined" else failures))
        article = decision.article
        if article is not None:
            data["article"] = {"id": article.article_id, "title": article.title, "url": self._article_url(article.url)}
            data.update(answer_markup(article))
            new_state["last_article_id"] = article.article_id
        if decision.action == "clarify":
            data["suggestions"] = [{"article_id": c.article_id, "title": c.title} for c in decision.suggestions]
            new_state["suggestions"] = data["suggestions"]
        if decision.action in ("clarify", "no_answer"):
            data["offer_person"] = True  # the widget shows "None of these, talk to a person"

        def with_offer(seq: int) -> dict[str, Any]:  # the last ten articles offered, for feedback on them by seq
            assert article is not None
            offer = {"seq": seq, "article_id": article.article_id, "title": article.title,
                     "confidence": data["confidence"], "helpful": None}
            return dict(new_state, offered=[*list(state.get("offered", []))[-9:], offer])

        # the reply and the bot's memory are saved together; the memory names the reply's own seq
        try:  # only while the bot still owns the chat: an agent may have joined meanwhile, on any process
            event, _ = await self.store.append_event(conv.id, "message", "bot", decision.text, data=data,
                                                     bot_state=with_offer if article is not None else new_state,
                                                     only_if_status=Owner.BOT.value)
        except Conflict:
            return []
        await self.publish(event)
        return [event]

    async def _decide(self, conv: Conversation, text: str, context: ConversationContext,
                      article_id: str | None) -> Decision:
        if self.rasa is not None:
            from bot.rasa_backend import rasa_respond
            from bot.rasa_client import RasaError

            try:
                return await rasa_respond(text, context, self.rasa, self.rasa_config, self.bot_config, conv.id)
            except RasaError as exc:  # Rasa down or broken: Parley's own bot answers meanwhile
                log.warning("rasa failed (%s); Parley's bot answers conversation %s", exc, conv.id)
        return await self._in_decision_thread(respond, text, context, self.kb, self.bot_config, article_id)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        self._decisions.shutdown(wait=False, cancel_futures=True)
        if self.rasa is not None:
            await self.rasa.aclose()

    def _article_url(self, url: str) -> str:
        return (self.settings.public_url.rstrip("/") + url) if self.settings.public_url else url

    def _count(self, decision: Decision, ms: float) -> None:
        self.metrics.decision(decision.action, ms / 1000)
