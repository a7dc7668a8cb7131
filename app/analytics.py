"""What the desk teaches the knowledge base, and why a customer counts as unhappy: plain data in, plain data out.

Everything here reads the stored transcript (events and cases); nothing is written on the chat path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.storage.editor import Activity
from app.storage.quality import LOW_RATING, question_key
from app.storage.records import Event
from bot import intents

ARTICLE_LINK = re.compile(r"/kb/([A-Za-z0-9][A-Za-z0-9_-]{0,127})(?![A-Za-z0-9_-])")
MIN_TITLE_CHARS = 8  # a shorter title ("Returns") cited in prose is too likely a coincidence

# What the customer reads when a manager reopens their conversation for a follow-up.
FOLLOW_UP_TEXT = {
    "en": "Our team is following up on this conversation; a person will reply here.",
    "fr": "Notre équipe reprend cette conversation ; un conseiller vous répondra ici.",
    "es": "Nuestro equipo retoma esta conversación; una persona le responderá aquí.",
    "de": "Unser Team meldet sich zu diesem Gespräch; ein Mensch antwortet Ihnen hier.",
    "pt": "Nossa equipe está retomando esta conversa; uma pessoa responderá aqui.",
    "it": "Il nostro team sta riprendendo questa conversazione; una persona ti risponderà qui.",
    "nl": "Ons team komt terug op dit gesprek; een medewerker antwoordt u hier.",
}


def follow_up_text(lang: str) -> str:
    return FOLLOW_UP_TEXT.get(lang, FOLLOW_UP_TEXT["en"])


# ============================================================================= learning from the desk
def escalation_question(events: list[Event], before_seq: int) -> str | None:
    """The customer's question that led to an escalation: their last message before `before_seq` that is
    not a request for a person, a complaint about the last answer, or small talk."""
    for e in reversed(events):
        if e.seq >= before_seq or e.sender != "customer" or e.kind != "message":
            continue
        text = " ".join(e.text.split())
        if not text or len(text) > 500:
            continue
        if intents.is_human_request(text) or intents.is_not_helpful(text) or intents.smalltalk_kind(text):
            continue
        return text
    return None


def cited_articles(text: str, titles: dict[str, str]) -> list[str]:
    """Article ids an agent's message links (/kb/<id>, as the console's article picker inserts) or names by
    its full title."""
    found = [m.group(1) for m in ARTICLE_LINK.finditer(text) if m.group(1) in titles]
    lowered = text.lower()
    found += [aid for aid, title in titles.items()
              if len(title) >= MIN_TITLE_CHARS and title.lower() in lowered]
    return list(dict.fromkeys(found))


@dataclass
class Suggestion:
    article_id: str
    title: str
    question: str
    cases: list[int] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    last_resolved: datetime | None = None


def desk_suggestions(activity: Activity, articles: dict[str, tuple[str, list[str]]],
                     decided: set[tuple[str, str]], agent_names: dict[int, str]) -> list[Suggestion]:
    """Questions to add to articles: for every escalated case an agent resolved with an article linked or
    named in one of their replies, the customer's question that led to the escalation. Questions the
    article already has, and ones an editor accepted or dismissed, are left out. Most cases first."""
    titles = {aid: title for aid, (title, _) in articles.items()}
    known = {aid: {question_key(q) for q in questions} for aid, (_, questions) in articles.items()}
    out: dict[tuple[str, str], Suggestion] = {}
    for conv in activity.conversations:
        events = activity.events.get(conv.id, [])
        for case in activity.cases.get(conv.id, []):
            if case.status != "resolved" or case.agent_id is None or case.reason == "follow_up":
                continue
            queued = next((e.seq for e in events if e.kind == "handoff" and e.data.get("case_id") == case.id), None)
            resolved = next((e.seq for e in events if e.kind == "handoff" and e.data.get("case_id") == case.id
                             and e.data.get("status") == "resolved"), None)
            if queued is None or resolved is None:
                continue
            cited: list[str] = []
            for e in events:
                if queued < e.seq < resolved and e.sender == "agent" and e.kind == "message" and e.visibility == "public":
                    cited += cited_articles(e.text, titles)
            if not cited:
                continue
            question = escalation_question(events, queued)
            if question is None:
                continue
            key = question_key(question)
            for aid in dict.fromkeys(cited):
                if key in known.get(aid, set()) or (aid, key) in decided:
                    continue
                s = out.setdefault((aid, key), Suggestion(aid, titles[aid], question))
                s.cases.append(case.id)
                s.conversations.append(conv.id)
                name = agent_names.get(case.agent_id)
                if name and name not in s.agents:
                    s.agents.append(name)
                if case.resolved_at and (s.last_resolved is None or case.resolved_at > s.last_resolved):
                    s.last_resolved = case.resolved_at
    return sorted(out.values(), key=lambda s: (-len(s.cases), s.article_id, s.question))


@dataclass
class ArticleVotes:
    article_id: str
    title: str
    answers: int = 0
    helpful: int = 0
    not_helpful: int = 0
    unhelpful_questions: list[str] = field(default_factory=list)

    @property
    def helpfulness(self) -> float | None:
        votes = self.helpful + self.not_helpful
        return round(100.0 * self.helpful / votes, 1) if votes else None


def article_votes(activity: Activity, titles: dict[str, str]) -> list[ArticleVotes]:
    """Helpful / not helpful votes on the bot's answers, per article, with the questions voted down;
    articles with most "not helpful" first."""
    out: dict[str, ArticleVotes] = {}
    for conv in activity.conversations:
        events = activity.events.get(conv.id, [])
        by_seq = {e.seq: e for e in events}
        for e in events:
            if e.sender == "bot" and e.data.get("action") == "answer":
                aid = (e.data.get("article") or {}).get("id")
                if aid:
                    out.setdefault(aid, ArticleVotes(aid, titles.get(aid, aid))).answers += 1
            elif e.kind == "feedback" and e.data.get("article_id"):
                aid = str(e.data["article_id"])
                v = out.setdefault(aid, ArticleVotes(aid, titles.get(aid, aid)))
                if e.data.get("helpful"):
                    v.helpful += 1
                else:
                    v.not_helpful += 1
                    answered = by_seq.get(int(e.data.get("seq", 0) or 0))
                    q = escalation_question(events, answered.seq) if answered else None
                    if q and q not in v.unhelpful_questions and len(v.unhelpful_questions) < 5:
                        v.unhelpful_questions.append(q)
    voted = [v for v in out.values() if v.helpful or v.not_helpful]
    return sorted(voted, key=lambda v: (-v.not_helpful, -v.helpful, v.article_id))


# ============================================================================= unhappy customers
def unhappy_reasons(reason: str, rating: int | None, came_back: bool) -> list[str]:
    """Why a case is on the unhappy list, in a fixed order."""
    out = []
    if rating is not None and rating <= LOW_RATING:
        out.append("low_rating")
    if reason in ("frustration", "repeated_failure"):
        out.append(reason)
    if came_back:
        out.append("recontact")
    return out


def customer_label(contact: dict[str, Any]) -> str | None:
    return contact.get("name") or contact.get("email") or contact.get("user_id") or None
