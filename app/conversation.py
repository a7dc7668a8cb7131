"""The one place that composes the bot and the human side of a conversation.

Every path here is: check -> store (in one transaction) -> publish after commit. Sockets call
these methods and only move frames; they never decide anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import logging
import secrets
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from app.config import Settings
from app.hours import hours_from_json
from app.metrics import Metrics
from app.packet import build_packet
from app.realtime.base import Broker
from app.storage.records import Case, Conversation, Event, Transition, User
from app.storage.sql import Conflict, NotFound, SqlStore
from bot import BotConfig, ConversationContext, Decision, respond
from bot.replies import say, when_back
from handoff.audience import customer_may_see
from handoff.queue import estimated_wait_seconds
from handoff.state import Action, Owner
from knowledge_base.models import Candidate
from knowledge_base.render import render_markdown

log = logging.getLogger("parley.conversation")
DECISION_THREADS = 2  # one encodes while the other searches (ONNX and FAISS release the GIL)
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


class Desk:
    def __init__(self, settings: Settings, store: SqlStore, broker: Broker, kb: Any) -> None:
        self.settings = settings
        self.store = store
        self.broker = broker
        self.kb = kb
        self.bot_config = bot_config(settings)
        self.rasa: Any = None
        if settings.bot_backend == "rasa":
            from bot.rasa_backend import RasaConfig
            from bot.rasa_client import RasaClient

            self.rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_seconds, token=settings.rasa_token)
            self.rasa_config = RasaConfig(
                handoff_intents=tuple(i.strip() for i in settings.rasa_handoff_intents.split(",") if i.strip()),
                confidence_threshold=settings.rasa_confidence_threshold)
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._turn_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._turns: dict[str, int] = {}  # conversation id -> bot turns accepted and not yet finished
        self._background: set[asyncio.Task[None]] = set()
        self.metrics = Metrics()
        # The bot's decisions (encode, search) run in threads of their own, never on the event loop
        # nor in the default executor that every to_thread shares; few of them, so that Python work
        # in decisions contends little with the event loop for the GIL. Concurrent decisions share
        # model calls (knowledge_base/batching.py).
        self._decisions = ThreadPoolExecutor(DECISION_THREADS, thread_name_prefix="bot-decision")

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

    async def agent_typing(self, conversation_id: str, agent: User, active: bool) -> None:
        """Only the agent who owns the conversation shows "is typing" to its customer."""
        await self._owned_case(conversation_id, agent)
        await self.relay_typing(conversation_id, "agent", active)

    # ----------------------------------------------------------------- customer side
    async def start_conversation(self, lang: str, site_key: str | None) -> tuple[Conversation, str]:
        token = secrets.token_urlsafe(32)
        conversation_id = "c_" + secrets.token_hex(12)
        conv = await self.store.create_conversation(conversation_id, hash_token(token), lang, site_key)
        return conv, token

    async def conversation_for_token(self, token: str) -> Conversation | None:
        if not token or len(token) > 128:
            return None
        return await self.store.conversation_by_token(hash_token(token))

    async def receive_customer_message(self, conversation_id: str, text: str, client_msg_id: str | None,
                                       article_id: str | None = None) -> list[Event]:
        """Store the message, then let the bot answer if it owns the conversation. Returns the new
        events in order (the customer's message first). A retried client_msg_id returns just the
        stored message and does nothing else."""
        event, conv, behind = await self.accept_customer_message(conversation_id, text, client_msg_id)
        if conv is None:
            return [event]
        return [event, *await self.answer_customer_message(conv, text, article_id, behind)]

    async def accept_customer_message(self, conversation_id: str, text: str, client_msg_id: str | None
                                      ) -> tuple[Event, Conversation | None, bool]:
        """Store and publish a customer's message: all that its acknowledgement waits for. The
        broker hands it to this process's sockets at once; it does not wait for the bot's turn on an
        earlier message of the conversation (seqs come from the database). Returns the event, the
        conversation as the append left it (None for a retried client_msg_id: nothing more to do)
        and whether a bot turn of this conversation was still going (`answer_customer_message`
        then reads the conversation again)."""
        async with self._lock(conversation_id):
            event, created, conv = await self.store.append_event_returning(
                conversation_id, "message", "customer", text, client_msg_id=client_msg_id)
            if not created or conv is None:
                return event, None, False
            self.metrics.message()
            await self.publish(event)
            if conv.status == Owner.QUEUED.value:
                await self.broker.publish(AGENTS_CHANNEL, {"type": "queue_changed"})
            if conv.status == Owner.RESOLVED.value:
                reopened = await self.store.reopen(conversation_id)
                if reopened is not None:  # tell the customer the bot has the conversation again
                    conv = reopened
                    notice, _ = await self.store.append_event(
                        conversation_id, "handoff", "system", say("handed_back", conv.lang),
                        data={"status": "bot", "reason": "reopened"})
                    await self.publish(notice)
            behind = self._turns.get(conversation_id, 0) > 0
            self._turns[conversation_id] = self._turns.get(conversation_id, 0) + 1
            return event, conv, behind

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
                             0 if decision.action == "answer" else failures))
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

    async def availability(self, conv: Conversation) -> dict[str, Any]:
        """Whether someone can answer now: agents online and, when the conversation's site has
        business hours, inside them. `back_at` is the next opening when closed (None when unknown:
        no hours ahead, or closed only for want of agents)."""
        online = len(await self.store.online_agents())
        site = await self.store.get_site(conv.site_key) if conv.site_key else None
        hours = hours_from_json(site.business_hours) if site else None
        now = datetime.now(timezone.utc)
        closed = hours is not None and not hours.is_open(now)
        back_at = hours.next_open(now) if closed and hours is not None else None
        why = "closed" if closed else ("no_agents" if online == 0 else None)
        return {"agents_online": online, "availability": "offline" if why else "online", "offline_reason": why,
                "back_at": back_at.isoformat() if back_at else None,
                "_back": back_at, "_zone": hours.time_zone if hours else None}

    def _offline_text(self, conv: Conversation, status: dict[str, Any], lang: str | None = None) -> str:
        """"We're back Monday at 09:00 (your time)" in the customer's zone when the widget told us
        it (context frame), else in the site's, named."""
        lang = lang or conv.lang
        back: datetime | None = status["_back"]
        if status["offline_reason"] != "closed" or back is None:
            return say("queued_offline", lang)
        zone_name = (conv.contact.get("context") or {}).get("time_zone")
        try:
            zone, yours = (ZoneInfo(zone_name), True) if zone_name else (ZoneInfo(status["_zone"]), False)
        except (ValueError, KeyError):
            zone, yours = ZoneInfo(status["_zone"]), False
        now = datetime.now(timezone.utc).astimezone(zone)
        return say("queued_closed", lang, when=when_back(lang, back.astimezone(zone), now, yours))

    async def _escalate(self, conv: Conversation, reason: str, decision: Decision | None = None) -> Transition:
        status = await self.availability(conv)
        online = status["agents_online"]
        events = await self.store.events_after(conv.id, 0)
        packet = build_packet(events, conv.bot_state, reason, triggered_by_message=decision is not None,
                              confidence=decision.confidence if decision else None,
                              candidates=decision.record()["candidates"] if decision else [])

        # the customer's language as the bot read it from this message, else the page's
        lang = decision.lang if decision is not None and decision.lang else conv.lang

        def render(position: int) -> tuple[str, dict[str, Any]]:
            wait = estimated_wait_seconds(position, online, self.settings.estimated_handle_seconds)
            if status["availability"] == "offline":  # no ETA when no one can answer
                return self._offline_text(conv, status, lang), {
                    "position": position, "availability": "offline", "agents_online": online,
                    "offline_reason": status["offline_reason"], "back_at": status["back_at"],
                    "estimated_wait_seconds": None}
            return say("queued", lang, position=position), {
                "position": position, "availability": "online", "agents_online": online,
                "estimated_wait_seconds": wait}

        try:
            transition = await self.store.escalate(conv.id, reason, packet, render)
        except Conflict as exc:
            raise DeskError(exc.code, exc.detail) from None
        self.metrics.escalation(reason)
        await self.store.update_conversation(conv.id, bot_state=dict(conv.bot_state, failures=0, suggestions=[]))
        await self.publish(transition.event)
        await self.publish_case(transition.case)
        return transition

    async def request_human(self, conversation_id: str) -> Event:
        async with self._lock(conversation_id):
            conv = await self._conversation(conversation_id)
            if conv.status in (Owner.QUEUED.value, Owner.ASSIGNED.value):
                raise DeskError("invalid_state", f"the conversation is already {conv.status}")
            return (await self._escalate(conv, "customer_request")).event

    async def feedback(self, conversation_id: str, seq: int, helpful: bool) -> list[Event]:
        """Record a vote on a bot answer. Unhelpful votes count towards escalation."""
        async with self._lock(conversation_id):
            target = await self.store.get_event(conversation_id, seq)
            if target is None or target.sender != "bot" or not target.data.get("article"):
                raise DeskError("unknown_seq", f"message {seq} is not a bot answer in this conversation")
            conv = await self._conversation(conversation_id)
            article_id = target.data["article"]["id"]
            event, _ = await self.store.append_event(
                conversation_id, "feedback", "customer", "", visibility="internal",
                data={"seq": seq, "helpful": helpful, "article_id": article_id})
            await self.publish(event)
            state = dict(conv.bot_state)
            state["offered"] = [dict(o, helpful=helpful) if o.get("seq") == seq else o for o in state.get("offered", [])]
            state["failures"] = 0 if helpful else int(state.get("failures", 0)) + 1
            await self.store.update_conversation(conversation_id, bot_state=state)
            if helpful or conv.status != Owner.BOT.value:
                return [event]
            conv = await self._conversation(conversation_id)
            if state["failures"] >= self.bot_config.max_failures:
                return [event, (await self._escalate(conv, "repeated_failure")).event]
            reply, _ = await self.store.append_event(conversation_id, "message", "bot", say("not_helpful", conv.lang),
                                                     data={"action": "not_helpful"})
            await self.publish(reply)
            return [event, reply]

    async def rate(self, conversation_id: str, score: int, comment: str | None) -> Case:
        case = await self.store.last_case(conversation_id)
        if case is None or case.status != "resolved":
            raise DeskError("invalid_state", "there is no resolved case to rate")
        await self.store.update_case(case.id, rating=score, rating_comment=(comment or None))
        event, _ = await self.store.append_event(conversation_id, "rating", "customer", comment or "",
                                                 visibility="internal", data={"score": score, "case_id": case.id})
        await self.publish(event)
        return case

    async def leave_contact(self, conversation_id: str, email: str, name: str | None) -> Event:
        conv = await self._conversation(conversation_id)
        contact = dict(conv.contact, email=email)
        if name:
            contact["name"] = name
        # what the customer typed here is a claim: it is no longer shown as verified
        fields = [f for f in contact.get("verified_fields", [])
                  if not (f == "email" and conv.contact.get("email") != email) and not (f == "name" and name)]
        if "verified" in contact:
            contact["verified_fields"] = fields
            contact["verified"] = bool(fields) and all(
                k in fields for k in ("user_id", "email", "name") if contact.get(k))
        await self.store.update_conversation(conversation_id, contact=contact)
        if conv.current_case_id:
            await self.store.update_case(conv.current_case_id, contact_email=email)
        event, _ = await self.store.append_event(conversation_id, "message", "system",
                                                 say("contact_saved", conv.lang, email=email), data={"action": "contact"})
        await self.publish(event)
        return event

    async def identify(self, conversation_id: str, identity: dict[str, Any]) -> None:
        conv = await self._conversation(conversation_id)
        await self.store.update_conversation(conversation_id, contact=dict(conv.contact, **identity))

    async def _conversation(self, conversation_id: str) -> Conversation:
        conv = await self.store.get_conversation(conversation_id)
        if conv is None:
            raise DeskError("not_found", f"conversation {conversation_id} not found")
        return conv

    async def queue_status(self, conversation: Conversation) -> dict[str, Any] | None:
        if conversation.status != Owner.QUEUED.value or not conversation.current_case_id:
            return None
        position = await self.store.queue_position(conversation.current_case_id)
        status = await self.availability(conversation)
        online, offline = status["agents_online"], status["availability"] == "offline"
        return {"type": "queue", "position": position, "agents_online": online,
                "availability": status["availability"], "offline_reason": status["offline_reason"],
                "back_at": status["back_at"],
                "estimated_wait_seconds": None if offline else
                estimated_wait_seconds(position or 0, online, self.settings.estimated_handle_seconds)}

    # ----------------------------------------------------------------- agent side
    async def _case_action(self, case_id: int, action: Action, agent: User, text_key: str, data: dict[str, Any],
                           target: User | None = None, words: dict[str, Any] | None = None,
                           team_id: int | None = None) -> Transition:
        """One case action with its system line (`text_key`, said with `words`, by default the name of
        the agent who now has the case); `team_id`: a release that queues the case for that team."""
        case = await self.store.get_case(case_id)
        if case is None:
            raise DeskError("not_found", f"case {case_id} not found")
        conv = await self._conversation(case.conversation_id)
        words = words if words is not None else {"agent": (target or agent).name}
        async with self._lock(conv.id):
            with store_errors():
                transition = await self.store.case_action(
                    case_id, action, actor_id=agent.id, text=say(text_key, conv.lang, **words),
                    data=data, target_agent_id=target.id if target else None,
                    require_owner=agent.role != "admin" or action is Action.CLAIM, target_team_id=team_id)
        await self.publish(transition.event)
        await self.publish_case(transition.case)
        return transition

    async def claim(self, case_id: int, agent: User) -> Transition:
        return await self._case_action(case_id, Action.CLAIM, agent, "assigned",
                                       {"status": "assigned", "agent": {"name": agent.name, "id": agent.id}})

    async def resolve(self, case_id: int, agent: User) -> Transition:
        return await self._case_action(case_id, Action.RESOLVE, agent, "resolved", {"status": "resolved"})

    async def hand_back(self, case_id: int, agent: User) -> Transition:
        transition = await self._case_action(case_id, Action.HAND_BACK, agent, "handed_back", {"status": "bot"})
        conv = transition.conversation
        await self.store.update_conversation(conv.id, bot_state=dict(conv.bot_state, failures=0, last_action=None))
        return transition

    async def transfer(self, case_id: int, agent: User, target: User) -> Transition:
        if target.role not in ("agent", "admin") or not target.active:
            raise DeskError("invalid_frame", "the target is not an active agent")
        return await self._case_action(case_id, Action.TRANSFER, agent, "assigned",
                                       {"status": "assigned", "agent": {"name": target.name, "id": target.id},
                                        "transferred_from": agent.id}, target=target)

    async def transfer_to_team(self, case_id: int, agent: User, team_id: int) -> Transition:
        """Back in the queue, for `team_id`: assigned --release--> queued, with the case's new team
        set in the same write. The owner (or an admin) may do it."""
        team = await self.store.get_team(team_id)
        if team is None:
            raise DeskError("not_found", f"team {team_id} not found")
        position = len(await self.store.queue()) + 1
        return await self._case_action(
            case_id, Action.RELEASE, agent, "queued",
            {"status": "queued", "position": position, "released": "transferred_to_team", "agent": None,
             "team": {"id": team.id, "name": team.name}, "transferred_from": agent.id},
            words={"position": position}, team_id=team.id)

    async def label_case(self, case_id: int, priority: str | None, tags: list[str] | None) -> Case:
        """Set a case's priority and/or tags; every console's queue shows the change."""
        if not await self.store.label_case(case_id, priority=priority, tags=tags):
            raise DeskError("not_found", f"case {case_id} not found")
        case = await self.store.get_case(case_id)
        assert case is not None
        await self.publish_case(case)
        return case

    async def _owned_case(self, conversation_id: str, agent: User) -> Case:
        conv = await self._conversation(conversation_id)
        case = await self.store.get_case(conv.current_case_id) if conv.current_case_id else None
        if conv.status != Owner.ASSIGNED.value or case is None or case.status != "assigned":
            raise DeskError("invalid_state", f"the conversation is {conv.status}; claim it first")
        if case.agent_id != agent.id:
            raise DeskError("not_owner", "another agent owns this conversation")
        return case

    async def agent_message(self, conversation_id: str, agent: User, text: str, client_msg_id: str | None) -> Event:
        async with self._lock(conversation_id):
            case = await self._owned_case(conversation_id, agent)
            event, created = await self.store.append_event(
                conversation_id, "message", "agent", text, client_msg_id=client_msg_id,
                data={"agent": {"name": agent.name, "id": agent.id}})
        if not created and (event.data.get("agent") or {}).get("id") != agent.id:
            # ids are the sender's own: another agent's message (before a transfer) is not this one's retry
            raise DeskError("duplicate_id", "that client_msg_id belongs to another agent's message; use a new one")
        if created:
            self.metrics.message()
            await self.store.mark_first_reply(case.id)
            await self.publish(event)
        return event

    async def note(self, conversation_id: str, agent: User, text: str) -> Event:
        await self._conversation(conversation_id)
        event, _ = await self.store.append_event(conversation_id, "note", "agent", text, visibility="internal",
                                                 data={"agent": {"name": agent.name, "id": agent.id}})
        await self.publish(event)
        return event

    async def transcript(self, conversation_id: str, after_seq: int = 0, include_internal: bool = False) -> list[Event]:
        events = await self.store.events_after(conversation_id, after_seq, include_internal=include_internal)
        return [e for e in events if include_internal or customer_may_see(e.visibility)]


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
