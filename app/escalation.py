"""The human side a customer reaches: escalation to a person and what they see while they wait.

Escalating (with its handoff packet and the queue line: position, wait, or when the desk is back),
the customer's request for a person, feedback on a bot answer (unhelpful votes count towards
escalation), the rating of a resolved case, the customer's contact details and identity, and the
queue status a waiting customer is shown.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from app.desk_base import DeskCore, DeskError
from app.hours import hours_from_json
from app.packet import build_packet
from app.storage.errors import Conflict
from app.storage.records import Case, Conversation, Event, Transition
from bot import Decision
from bot.replies import say, when_back
from handoff.queue import estimated_wait_seconds
from handoff.state import Owner


class Escalation(DeskCore):
    """Handing a conversation to a person, and the customer's side of that handoff."""

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
