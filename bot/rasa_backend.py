"""Rasa as the bot: the same Decision as Parley's own bot, from a running Rasa assistant.

Parley's conversation rules run first (a request for a person, frustration, "that didn't help").
Then Rasa's NLU decides: a configured handoff intent escalates as `customer_request`; Rasa's
fallback intent or a confidence under the threshold escalates as `low_confidence`; otherwise the
message goes to Rasa's REST channel with the conversation id as sender id, and Rasa's replies are
the answer. While a human owns the chat, Parley never calls this, so Rasa hears nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bot.decision import BotConfig, ConversationContext, Decision, conversation_rules, escalate
from bot.rasa_client import RasaClient
from knowledge_base.models import Candidate


@dataclass(frozen=True)
class RasaConfig:
    handoff_intents: tuple[str, ...] = ("human_handoff",)
    fallback_intent: str = "nlu_fallback"
    confidence_threshold: float = 0.5


def _intent(parsed: dict[str, Any]) -> tuple[str, float, str]:
    intent = parsed.get("intent") or {}
    name = str(intent.get("name") or "")
    full = str(intent.get("full_retrieval_intent_name") or "")
    for selector in (parsed.get("response_selector") or {}).values():
        if isinstance(selector, dict):
            key = (selector.get("response") or {}).get("intent_response_key")
            if key and name and str(key).startswith(name + "/"):
                full = full or str(key)
    return name, float(intent.get("confidence") or 0.0), full or name


def _ranking(parsed: dict[str, Any]) -> tuple[Candidate, ...]:
    return tuple(Candidate(str(r.get("name")), str(r.get("name")), float(r.get("confidence") or 0.0))
                 for r in (parsed.get("intent_ranking") or [])[:5] if r.get("name"))


async def rasa_respond(text: str, context: ConversationContext, client: RasaClient, rasa: RasaConfig,
                       config: BotConfig, sender_id: str) -> Decision:
    early = conversation_rules(text, context, config, smalltalk=False)  # Rasa handles its own small talk
    if early is not None:
        return early
    started = time.perf_counter()
    parsed = await client.parse(text)
    parsed_at = time.perf_counter()
    name, confidence, full = _intent(parsed)
    ranking = _ranking(parsed)
    timings = {"rasa_parse": (parsed_at - started) * 1000}
    if name in rasa.handoff_intents:
        return escalate("customer_request", confidence, ranking, timings)
    if name == rasa.fallback_intent or confidence < rasa.confidence_threshold:
        return escalate("low_confidence", confidence, ranking, timings)
    replies = await client.send(sender_id, text)
    timings["rasa_webhook"] = (time.perf_counter() - parsed_at) * 1000
    texts = [str(r["text"]) for r in replies if isinstance(r, dict) and r.get("text")]
    if not texts:
        return escalate("low_confidence", confidence, ranking, timings)
    intent = Candidate(full, full.split("/")[-1].replace("_", " ").capitalize(), confidence)
    return Decision("answer", "\n\n".join(texts), confidence, candidates=(intent, *ranking), timings_ms=timings)
