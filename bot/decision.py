"""One decision per customer message: answer, clarify, small talk, or escalate with a reason.

`respond` is plain data in, plain data out. The knowledge base is passed in as anything with a
`search(text, k)` method, so the same code runs in the server, in `/api/bot/preview` and in
`parley eval`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Protocol

from bot import intents
from bot.language import detect as detect_language
from bot.replies import say
from bot.short_replies import short_kind, yes_or_no
from bot.smalltalk import smalltalk_by_meaning
from knowledge_base.calibration import Calibration
from knowledge_base.models import Candidate, SearchResult

ESCALATION_REASONS = ("customer_request", "low_confidence", "out_of_scope", "repeated_failure", "frustration")


class Searcher(Protocol):
    def search(self, text: str, k: int = 5) -> "SearchResult": ...


@dataclass(frozen=True)
class BotConfig:
    """`answer_threshold` and `out_of_scope_threshold` None: the knowledge base's own calibration
    (knowledge_base/calibration.py) decides; a number overrides it. `unanswered`: what a question no
    article covers gets: "offer" (say so and offer a person; the chat stays with the bot until
    `max_failures` such turns in a row) or "escalate" (hand over at once)."""

    answer_threshold: float | None = None
    clarify_margin: float = 0.04
    out_of_scope_threshold: float | None = None
    max_failures: int = 2
    max_clarify_options: int = 3
    unanswered: str = "offer"


@dataclass(frozen=True)
class ConversationContext:
    """What the bot needs to know about the conversation so far."""

    lang: str = "en"
    consecutive_failures: int = 0
    last_action: str | None = None
    last_article_id: str | None = None
    last_suggestions: tuple[tuple[str, str], ...] = ()  # (article_id, title) offered by the last clarify


@dataclass(frozen=True)
class Decision:
    action: str  # answer | clarify | no_answer | smalltalk | escalate
    text: str
    confidence: float
    reason: str | None = None
    article: Candidate | None = None
    suggestions: tuple[Candidate, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    lang: str | None = None  # the language `text` is in: the customer's, detected from the message, else the page's

    def record(self) -> dict[str, object]:
        """The decision as stored with the bot's message (why it did what it did)."""
        return {
            "action": self.action,
            "reason": self.reason,
            "confidence": round(self.confidence, 4),
            "article_id": self.article.article_id if self.article else None,
            "candidates": [
                {"article_id": c.article_id, "title": c.title, "score": round(c.score, 4)} for c in self.candidates
            ],
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
        }


def escalate(reason: str, confidence: float = 0.0, candidates: tuple[Candidate, ...] = (),
             timings: dict[str, float] | None = None) -> Decision:
    if reason not in ESCALATION_REASONS:
        raise ValueError(f"unknown escalation reason {reason!r}")
    return Decision("escalate", "", confidence, reason=reason, candidates=candidates, timings_ms=timings or {})


def thresholds(config: BotConfig, calibration: Calibration | None) -> tuple[float, float]:
    """(answer, offer): the configured values where set, else the knowledge base's calibration."""
    answer = config.answer_threshold if config.answer_threshold is not None else (
        calibration.answer if calibration is not None else 0.5)
    offer = config.out_of_scope_threshold if config.out_of_scope_threshold is not None else (
        calibration.offer if calibration is not None else 0.4)
    return answer, min(offer, answer)


def choose(candidates: list[Candidate], config: BotConfig,
           calibration: Calibration | None = None) -> tuple[str, str | None, tuple[Candidate, ...]]:
    """The graded policy on ranked candidates: (action, reason, chosen candidates).

    Confident: answer. Between the offer and the answer threshold: clarify with the candidates above
    the offer threshold ("I found these", reason low_confidence). Below it: no_answer (or escalate,
    when `config.unanswered` says so), reason out_of_scope."""
    answer_t, offer_t = thresholds(config, calibration)
    if not candidates or candidates[0].score < offer_t:
        return ("escalate" if config.unanswered == "escalate" else "no_answer"), "out_of_scope", ()
    top = candidates[0]
    if top.score < answer_t:
        options = tuple(c for c in candidates[: config.max_clarify_options] if c.score >= offer_t)
        return "clarify", "low_confidence", options
    # Candidates scoring within the margin of the top one are close. The top one may score below
    # another when the article classifier (knowledge_base/classifier.py) picked it: within the
    # margin, that disagreement is offered as a choice; beyond it, the classifier's pick stands.
    # A choice offered never leaves out an article that scores higher than one it offers (a pick the
    # classifier made far below the best-scored one, with a close runner-up, would otherwise offer
    # the runner-up and hide the best: "where is my order" offered click-and-collect and a late
    # parcel, not "Track your order").
    shown = candidates[: config.max_clarify_options]
    close = [c for c in shown if abs(top.score - c.score) <= config.clarify_margin]
    if len(close) > 1:
        floor = min(c.score for c in close)
        return "clarify", None, tuple(c for c in shown if c in close or c.score >= floor)
    return "answer", None, (top,)


def conversation_rules(text: str, context: ConversationContext, config: BotConfig,
                       smalltalk: bool = True) -> Decision | None:
    """Parley's own rules, before any retrieval (shared by every bot backend): a request for a
    person, frustration, "that didn't help" after an answer, and small talk."""
    started = time.perf_counter()
    if intents.is_human_request(text):
        return escalate("customer_request", timings={"policy": _ms(started)})
    if intents.is_frustrated(text):
        return escalate("frustration", timings={"policy": _ms(started)})
    if context.last_action == "answer" and intents.is_not_helpful(text):
        if context.consecutive_failures + 1 >= config.max_failures or len(text.split()) <= 6:
            return escalate("repeated_failure", timings={"policy": _ms(started)})
    if context.last_action == "no_answer":  # the bot just asked "Would you like to talk to a person?"
        reply = yes_or_no(text)
        if reply == "yes":
            return escalate("customer_request", timings={"policy": _ms(started)})
        if reply == "no":
            return Decision("smalltalk", say("declined", context.lang), 1.0, reason="declined",
                            timings_ms={"policy": _ms(started)}, lang=context.lang)
    kind = intents.smalltalk_kind(text) if smalltalk else None
    if kind is None and smalltalk and short_kind(text) == "presence":
        kind = "presence"
    if kind in EARLY_SMALLTALK:  # the rest ("nice one", "sorry, wrong window") only where no article answers
        return Decision("smalltalk", say(kind, context.lang), 1.0, timings_ms={"policy": _ms(started)},
                        lang=context.lang)
    return None


# Small talk answered before searching: greetings, thanks and goodbyes name no topic an article could cover.
EARLY_SMALLTALK = ("greeting", "thanks", "goodbye", "presence")


def respond(
    text: str, context: ConversationContext, kb: Searcher, config: BotConfig, article_id: str | None = None
) -> Decision:
    """Decide what to do with one customer message while the bot owns the conversation.

    `article_id` is set when the customer clicked one of the last clarify's options.
    """
    detected = detect_language(text)  # the customer's own language wins over the page's
    if detected and detected != context.lang:
        context = replace(context, lang=detected)
    decision = _respond(text, context, kb, config, article_id)
    return decision if decision.lang else replace(decision, lang=context.lang)


def _respond(text: str, context: ConversationContext, kb: Searcher, config: BotConfig,
             article_id: str | None) -> Decision:
    lang = context.lang
    early = conversation_rules(text, context, config)
    if early is not None:
        return early

    picked = _picked_suggestion(text, context, article_id)
    query = intents.strip_greeting(text)
    written_in = detect_language(text)
    # a question in another language than the articles' is matched by meaning alone (its words cannot
    # match theirs); other searchers (previews, benchmarks' memos) keep their two-argument search
    kb_lang = getattr(kb, "lang", None)
    if written_in is not None and kb_lang is not None and written_in != kb_lang:
        result = kb.search(query, k=max(5, config.max_clarify_options), lang=written_in)  # type: ignore[call-arg]
    else:
        result = kb.search(query, k=max(5, config.max_clarify_options))
    timings = dict(result.timings_ms)
    policy_started = time.perf_counter()
    candidates = result.candidates
    if picked is not None:
        chosen = next((c for c in candidates if c.article_id == picked), None)
        if chosen is None:
            chosen = _lookup(kb, picked) or Candidate(picked, dict(context.last_suggestions).get(picked, picked), 1.0)
        timings["policy"] = _ms(policy_started)
        return Decision("answer", chosen.snippet, 1.0, article=chosen, candidates=tuple(candidates), timings_ms=timings)

    action, reason, chosen_list = choose(candidates, config, result.calibration)
    confidence = candidates[0].score if candidates else 0.0
    if action != "answer":  # no article answers confidently: is it small talk, by rule or by meaning?
        kind = intents.smalltalk_kind(text) or short_kind(text, context.last_action) or smalltalk_by_meaning(
            text, result.vector, getattr(kb, "embedder", None))
        if kind:
            timings["policy"] = _ms(policy_started)
            return Decision("smalltalk", say(kind, lang), confidence, candidates=tuple(candidates), timings_ms=timings)
    timings["policy"] = _ms(policy_started)
    if action == "no_answer" and context.consecutive_failures + 1 >= config.max_failures:
        action, reason = "escalate", "repeated_failure"  # twice in a row: a person takes over
    if action == "escalate":
        return escalate(reason or "low_confidence", confidence, tuple(candidates), timings)
    if action == "no_answer":
        return Decision("no_answer", say("no_answer", lang), confidence, reason=reason,
                        candidates=tuple(candidates), timings_ms=timings)
    if action == "clarify":
        text = say("clarify_unsure" if reason == "low_confidence" else "clarify", lang)
        return Decision("clarify", text, confidence, reason=reason, suggestions=chosen_list,
                        candidates=tuple(candidates), timings_ms=timings)
    top = chosen_list[0]
    return Decision("answer", top.snippet, confidence, article=top, candidates=tuple(candidates), timings_ms=timings)


def _picked_suggestion(text: str, context: ConversationContext, article_id: str | None) -> str | None:
    if article_id and article_id in dict(context.last_suggestions):
        return article_id
    wanted = text.strip().lower()
    for article_id, title in context.last_suggestions:
        if wanted in (title.strip().lower(), article_id.lower()):
            return article_id
    return None


def _lookup(kb: Searcher, article_id: str) -> Candidate | None:
    getter = getattr(kb, "candidate", None)
    return getter(article_id) if getter else None


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
