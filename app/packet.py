"""The handoff packet: what an agent reads first when a conversation reaches them.

Plain values in, plain values out: the events of the conversation and the bot's memory give the
question the customer came with, the articles offered and how sure the bot was.
"""

from __future__ import annotations

from typing import Any

from app.storage.records import Event

# Bot replies that tried to answer the message before them: that message was a question.
_ANSWERING = {"answer", "clarify", "no_answer", "queued_suggestion"}
# Reasons whose triggering message is usually not the question ("a person please", "this is useless").
_NOT_THE_QUESTION = {"customer_request", "frustration"}


def asked_question(events: list[Event], reason: str, triggered_by_message: bool) -> str:
    """The customer question that led to the escalation.

    For a request for a person or an outburst typed as a message, that message is not the question:
    the latest earlier customer message the bot tried to answer is (or, failing that, the latest
    earlier one that was not small talk). Otherwise the latest customer message is the question.
    """
    turns: list[tuple[str, str | None]] = []  # (customer text, action of the bot's reply to it)
    for event in events:
        if event.kind != "message" or "attachment" in event.data:  # a file is not a question
            continue
        if event.sender == "customer":
            turns.append((event.text, None))
        elif event.sender == "bot" and turns and turns[-1][1] is None:
            turns[-1] = (turns[-1][0], str(event.data.get("action") or ""))
    if not turns:
        return ""
    if reason == "agent_takeover":  # the agent joins now: what the customer is asking now
        return next((text for text, action in reversed(turns) if action != "smalltalk"), turns[-1][0])
    if reason not in _NOT_THE_QUESTION:
        return turns[-1][0]
    earlier = turns[:-1] if triggered_by_message else turns
    for text, action in reversed(earlier):
        if action in _ANSWERING:
            return text
    for text, action in reversed(earlier):
        if action != "smalltalk":
            return text
    return ""


def last_decision(events: list[Event]) -> dict[str, Any] | None:
    """The bot's latest decision on a customer message (a reply carrying its decision record, else
    any reply with an action): action, confidence and article, or None."""
    replies = [e for e in events if e.kind == "message" and e.sender == "bot" and e.data.get("action")]
    decided = [e for e in replies if "decision" in e.data] or replies
    if not decided:
        return None
    event = decided[-1]
    article = event.data.get("article") or None
    return {"action": event.data.get("action"), "confidence": event.data.get("confidence"),
            "article": {"id": article.get("id"), "title": article.get("title")} if article else None,
            "seq": event.seq}


def build_packet(events: list[Event], bot_state: dict[str, Any], reason: str, *, triggered_by_message: bool,
                 confidence: float | None, candidates: list[Any]) -> dict[str, Any]:
    customer_texts = [e.text for e in events if e.sender == "customer" and e.kind == "message"
                      and "attachment" not in e.data]
    return {
        "reason": reason,
        "question": asked_question(events, reason, triggered_by_message),
        "request": customer_texts[-1] if triggered_by_message and customer_texts else "",
        "customer_messages": customer_texts[-10:],
        "offered": bot_state.get("offered", []),
        "confidence": round(confidence, 4) if confidence is not None else None,
        "candidates": candidates,
        # files the customer sent before the handoff, by name (app/attachments.py)
        "attachments": [e.data["attachment"].get("name") for e in events
                        if e.sender == "customer" and isinstance(e.data.get("attachment"), dict)],
    }
