"""An agent takes over a conversation the bot is handling.

`join` opens a case already assigned to the agent, in one store transaction that checks the bot
still owns the conversation and the agent is under capacity; the customer's `handoff` frame says
who joined. The bot stands aside at once: this process's bot turn for the conversation holds the
same per-conversation lock, and a bot reply decided on any other process is stored only while the
conversation is still the bot's (`only_if_status`), so none follows the join.
"""

from __future__ import annotations

from app.conversation import Desk, DeskError, store_errors
from app.packet import build_packet, last_decision
from app.storage.records import Transition, User
from bot.replies import say

REASON = "agent_takeover"


async def join(desk: Desk, conversation_id: str, agent: User) -> Transition:
    async with desk._lock(conversation_id):
        conv = await desk.store.get_conversation(conversation_id)
        if conv is None:
            raise DeskError("not_found", f"conversation {conversation_id} not found")
        if conv.status != "bot":
            raise DeskError("invalid_state", f"the conversation is {conv.status}, not with the bot"
                            + ("; claim its case instead" if conv.status == "queued" else ""))
        events = await desk.store.events_after(conversation_id, 0)
        decision = last_decision(events)
        candidates = []
        for event in reversed(events):
            record = event.data.get("decision") if event.sender == "bot" else None
            if isinstance(record, dict):
                candidates = list(record.get("candidates") or [])
                break
        packet = build_packet(events, conv.bot_state, REASON, triggered_by_message=False,
                              confidence=decision["confidence"] if decision and decision["confidence"] is not None
                              else None, candidates=candidates)
        packet["joined_by"] = {"id": agent.id, "name": agent.name}
        with store_errors():
            transition = await desk.store.take_over(
                conversation_id, agent.id, packet, say("assigned", conv.lang, agent=agent.name),
                {"agent": {"name": agent.name, "id": agent.id}, "joined": True})
    await desk.publish(transition.event)
    await desk.publish_case(transition.case)
    return transition

