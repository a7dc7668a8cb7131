"""Follow-up after a resolution or a transfer: "Did that solve it?", asked once, answered yes or no.

The mail worker (app/email_channel.py) reads every stored handoff: a resolution (`status:
resolved`) or a transfer between agents (`transferred_from`) schedules a follow-up
PARLEY_FOLLOWUP_DELAY seconds later, in the database, so a restart loses nothing. When it is due,
one process stores it as a public `followup` event (the widget shows it with Yes/No buttons, live or
when the customer comes back: it is in the transcript) and, when the customer is not connected and
the conversation has a proven address, emails it with signed Yes/No links. It is cancelled when the
customer wrote again since, or the case moved on.

"Yes" confirms the resolution. "No" reopens a resolved case with the agent who owned it (the queue
when that agent is gone); after a transfer the case is still open, and the owner sees the answer.
The first answer counts; analytics reads the answers (`followups` in GET /api/analytics).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from app.storage.followups import Followup
from app.storage.mail import MailStore, utcnow
from app.storage.records import Event

MailChannel = Any  # app.email_channel.MailChannel, which calls this module (no import back)

log = logging.getLogger("parley.followup")

QUESTION = {
    "en": "Did that solve it?", "fr": "Cela a-t-il résolu votre problème ?", "es": "¿Se ha resuelto su problema?",
    "de": "Hat das Ihr Problem gelöst?", "pt": "Isso resolveu o seu problema?", "it": "Il problema è stato risolto?",
    "nl": "Is uw probleem hiermee opgelost?",
}
THANKS = {("yes", "resolved"): "Thanks for letting us know: glad it is solved.",
          ("yes", "transferred"): "Thanks for letting us know: glad it is solved.",
          ("no", "resolved"): "Sorry it is not solved yet. We have reopened your case; an agent will reply here.",
          ("no", "transferred"): "Sorry it is not solved yet. Your agent has been told and will reply here."}
ANSWERS = ("yes", "no")


class FollowupError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def plan(event: Event, delay: float) -> tuple[int, str, Any] | None:
    """(case_id, reason, due_at) when this stored event calls for a follow-up."""
    if delay <= 0 or event.kind != "handoff" or not isinstance(event.data.get("case_id"), int):
        return None
    if event.data.get("status") == "resolved":
        reason = "resolved"
    elif event.data.get("transferred_from") is not None and event.data.get("status") == "assigned":
        reason = "transferred"
    else:
        return None
    return int(event.data["case_id"]), reason, event.created_at + timedelta(seconds=delay)


async def _still_relevant(channel: MailChannel, item: Followup) -> bool:
    conv = await channel.store.get_conversation(item.conversation_id)
    case = await channel.store.get_case(item.case_id)
    if conv is None or case is None or conv.current_case_id != case.id:
        return False
    if item.reason == "resolved" and (case.status != "resolved" or conv.status != "resolved"):
        return False
    if item.reason == "transferred" and case.status != "assigned":
        return False  # resolved since: the resolution's own follow-up asks instead
    later = await channel.store.events_after(item.conversation_id, item.after_seq)
    return not any(e.sender == "customer" and e.kind == "message" for e in later)  # they wrote again: no need


async def send_due(channel: MailChannel) -> int:
    """Send every due follow-up once: in the chat, and by email when the customer is away."""
    sent = 0
    for item in await channel.mail.due_followups():
        if not await _still_relevant(channel, item):
            await channel.mail.cancel_followup(item.id)
            continue
        conv = await channel.store.get_conversation(item.conversation_id)
        assert conv is not None
        thread = await channel.mail.get_thread(conv.id)
        by_email = (channel.sends and not channel.is_connected(conv.id)
                    and channel.proven_address(conv, thread) is not None)
        text = QUESTION.get(conv.lang, QUESTION["en"])
        event = await channel.mail.send_followup(item.id, "email" if by_email else "widget", text, {
            "followup_id": item.id, "case_id": item.case_id, "reason": item.reason, "answers": list(ANSWERS)})
        if event is None:
            continue  # another process sent it
        await channel.desk.publish(event)
        if by_email:  # due after a few ticks: a process holding the customer's socket marks it seen first
            await channel.mail.enqueue(conv.id, [event.seq], utcnow() + timedelta(
                seconds=3 * channel.settings.mail_interval_seconds))
        sent += 1
        log.info("follow-up sent", extra={"conversation_id": conv.id, "followup_id": item.id,
                                          "channel": "email" if by_email else "widget"})
    return sent


async def answer(desk: Any, followup_id: int, reply: str, conversation_id: str | None = None) -> dict[str, Any]:
    """Record the customer's answer (the widget's buttons or a signed email link). With
    `conversation_id` (the widget), the follow-up must be that conversation's."""
    if reply not in ANSWERS:
        raise FollowupError("invalid_frame", "answer must be yes or no")
    mail = MailStore(desk.store)
    item = await mail.get_followup(followup_id)
    if item is None or (conversation_id is not None and item.conversation_id != conversation_id):
        raise FollowupError("not_found", "no such follow-up in this conversation")
    if item.status == "answered":
        return {"followup_id": item.id, "answer": item.answer, "recorded": False}
    if item.status != "sent":
        raise FollowupError("invalid_state", f"the follow-up is {item.status}")
    done = await mail.answer_followup(item.id, reply)
    if done is None:  # answered meanwhile (a second tab, the email link)
        latest = await mail.get_followup(item.id)
        return {"followup_id": item.id, "answer": latest.answer if latest else None, "recorded": False}
    data = {"action": "followup_answer", "followup_id": item.id, "case_id": item.case_id, "answer": reply,
            "reason": item.reason}
    event, _ = await desk.store.append_event(item.conversation_id, "message", "system", THANKS[(reply, item.reason)],
                                             data=data)
    await desk.publish(event)
    if reply == "no" and item.reason == "resolved":
        conv = await desk.store.get_conversation(item.conversation_id)
        reopened = await mail.reopen_with_owner(item.case_id, "The customer says it is not solved: the case is open "
                                                "again.", {"followup_id": item.id})
        if reopened is not None:
            handoff, case = reopened
            await desk.publish(handoff)
            await desk.publish_case(case)
        elif conv is not None:
            log.info("follow-up 'no' on a case that moved on", extra={"conversation_id": conv.id})
    log.info("follow-up answered", extra={"conversation_id": item.conversation_id, "answer": reply})
    return {"followup_id": item.id, "answer": reply, "recorded": True}


__all__ = ["FollowupError", "answer", "plan", "send_due", "utcnow"]
