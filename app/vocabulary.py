"""The desk's shared words, defined once: escalation reasons and what the bot did, each with the
plain label the pages show. The pages read them from `GET /api/vocabulary` instead of keeping
copies in JavaScript; the routes validate against the same tuples.

The bot's own reasons (bot/decision.py) all have a label here (tests/test_vocabulary.py); the desk adds
the ones only a person causes."""

from __future__ import annotations

# reason -> label; every reason a case can carry
REASON_LABELS: dict[str, str] = {
    "customer_request": "Asked for a person",
    "low_confidence": "Bot unsure",
    "out_of_scope": "Not covered",
    "repeated_failure": "Failed twice",
    "frustration": "Frustrated",
    "agent_takeover": "Agent took over",
    "follow_up": "Follow-up",
}
ESCALATION_REASONS: tuple[str, ...] = tuple(REASON_LABELS)
# reasons a history or analytics filter offers (a follow-up is not an escalation)
FILTER_REASONS: tuple[str, ...] = tuple(r for r in ESCALATION_REASONS if r != "follow_up")

# what the bot did (a reply's `action`), in words for system lines
ACTION_LABELS: dict[str, str] = {
    "answer": "answered",
    "clarify": "asked which article was meant",
    "no_answer": "had no article",
    "smalltalk": "small talk",
    "not_helpful": "replied to \u201cnot helpful\u201d",
    "queued_suggestion": "suggested an article while the customer waits",
    "escalate": "handed over",
}



def vocabulary() -> dict[str, dict[str, str]]:
    return {"reasons": dict(REASON_LABELS), "actions": dict(ACTION_LABELS)}
