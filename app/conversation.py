"""The one place that composes the bot and the human side of a conversation.

Every path here is: check -> store (in one transaction) -> publish after commit. Sockets call
these methods and only move frames; they never decide anything.

The Desk is composed of parts, one module each: app/desk_base.py (shared names, the store, broker,
locks and publishing), app/bot_turns.py (the bot's turn and its decision threads),
app/escalation.py (escalation, queue status, feedback, rating, contact) and app/agent_actions.py
(case actions, agents' messages and notes). This module adds the customer's side: starting a
conversation and a customer's message, stored, published, then handed to the bot's turn. The
shared names are re-exported here for the modules that import them from app.conversation.
"""

from __future__ import annotations

import secrets

from app.agent_actions import AgentActions
from app.bot_turns import DECISION_THREADS, BotTurns
from app.desk_base import (
    AGENTS_CHANNEL,
    CONTINUATION,
    QUEUE_CHANNEL,
    DeskError,
    answer_markup,
    bot_config,
    case_summary,
    conversation_channel,
    event_from_wire,
    event_to_wire,
    hash_token,
    store_errors,
    transcript_entry,
)
from app.escalation import Escalation
from app.storage.records import Conversation, Event
from bot.replies import say
from handoff.state import Owner

__all__ = ["AGENTS_CHANNEL", "CONTINUATION", "DECISION_THREADS", "QUEUE_CHANNEL", "Desk", "DeskError",
           "answer_markup", "bot_config", "case_summary", "conversation_channel", "event_from_wire",
           "event_to_wire", "hash_token", "store_errors", "transcript_entry"]


class Desk(BotTurns, Escalation, AgentActions):
    """A conversation's every action, the customer's, the bot's and the agents'."""

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
