"""The agent's side of a conversation: case actions and what an agent writes.

Claim, resolve, hand back, transfer (to an agent or a team) and label a case, each with its system
line; the owning agent's messages, notes and typing; and the transcript as a viewer may see it.
"""

from __future__ import annotations

from typing import Any

from app.desk_base import DeskCore, DeskError, store_errors
from app.storage.records import Case, Event, Transition, User
from bot.replies import say
from handoff.audience import customer_may_see
from handoff.state import Action, Owner


class AgentActions(DeskCore):
    """What an agent does to a case or writes in its conversation."""

    async def agent_typing(self, conversation_id: str, agent: User, active: bool) -> None:
        """Only the agent who owns the conversation shows "is typing" to its customer."""
        await self._owned_case(conversation_id, agent)
        await self.relay_typing(conversation_id, "agent", active)

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
