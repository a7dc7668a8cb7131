"""The handoff packet's "Asked": the customer's question, not the request for a person. Plain data in and out."""

from __future__ import annotations

from datetime import datetime, timezone

from app.packet import asked_question, build_packet, last_decision
from app.storage.records import Event

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def conversation(*turns: tuple[str, str | None]) -> list[Event]:
    """(customer text, the bot's action in reply or None) -> events with seqs."""
    events: list[Event] = []
    for text, action in turns:
        events.append(Event("c_1", len(events) + 1, "message", "customer", "public", text, {}, None, NOW))
        if action:
            data = {"action": action, "confidence": 0.42}
            if action == "answer":
                data["article"] = {"id": "a", "title": "Returns"}
                data["decision"] = {"candidates": []}
            events.append(Event("c_1", len(events) + 1, "message", "bot", "public", "...", data, None, NOW))
    return events


def test_a_typed_request_for_a_person_is_not_the_question() -> None:
    events = conversation(("hello", "smalltalk"), ("my parcel arrived broken", "no_answer"),
                          ("can I talk to a human", None))
    assert asked_question(events, "customer_request", triggered_by_message=True) == "my parcel arrived broken"
    packet = build_packet(events, {}, "customer_request", triggered_by_message=True, confidence=None, candidates=[])
    assert packet["question"] == "my parcel arrived broken" and packet["request"] == "can I talk to a human"


def test_the_button_keeps_the_last_question_and_frustration_skips_the_outburst() -> None:
    events = conversation(("how do returns work", "answer"), ("thanks", "smalltalk"))
    assert asked_question(events, "customer_request", triggered_by_message=False) == "how do returns work"
    angry = conversation(("where is my refund", "no_answer"), ("this is useless!!", None))
    assert asked_question(angry, "frustration", triggered_by_message=True) == "where is my refund"


def test_other_reasons_and_edge_cases() -> None:
    events = conversation(("what is the boiling point of tungsten", None))
    assert asked_question(events, "out_of_scope", triggered_by_message=True) == "what is the boiling point of tungsten"
    assert asked_question(conversation(("a person please", None)), "customer_request", True) == ""
    assert asked_question([], "low_confidence", True) == ""
    takeover = conversation(("how do returns work", "answer"), ("and exchanges?", None), ("ok", "smalltalk"))
    assert asked_question(takeover, "agent_takeover", triggered_by_message=False) == "and exchanges?"
    decision = last_decision(takeover)
    assert decision is not None and decision["action"] == "answer"  # the last decided reply, not the small talk
    assert decision["article"] == {"id": "a", "title": "Returns"}
    assert last_decision(conversation(("hi", None))) is None
