"""Short messages that ask nothing (bot/short_replies.py) and what the bot does with them: a yes to
"Would you like to talk to a person?" hands over as the customer's request, a no keeps the bot, a
filler gets "take your time" without counting as a failure, "anyone there?" is answered at once; in
every language Parley ships."""

from __future__ import annotations

import pytest

from bot import BotConfig, ConversationContext, respond
from bot.short_replies import short_kind, yes_or_no
from knowledge_base.models import Candidate, SearchResult

CONFIG = BotConfig(answer_threshold=0.5, clarify_margin=0.05, out_of_scope_threshold=0.2, max_failures=2)
YES = ["yes", "Yes please!", "sure", "ok", "ja bitte", "oui", "sí, por favor", "sì grazie", "sim", "ja graag"]
NO = ["no", "No thanks.", "nope", "nein danke", "non merci", "no gracias", "no grazie", "não, obrigado", "nee bedankt"]
FILLERS = ["hmm", "Hmmm...", "?", "...", "uh", "one sec", "hold on", "brb", "test", "ähm", "euh", "pues", "boh", "wacht"]
PRESENCE = ["anyone there?", "Are you there?", "hello? is anybody there", "ist da jemand?", "il y a quelqu'un ?",
            "¿hay alguien?", "c'è qualcuno?", "tem alguém aí?", "is daar iemand?"]
QUESTIONS = ["how do I reset my password", "yes I want to return my order", "no delivery yet, where is it",
             "is anyone able to help with a refund", "ok so how do I cancel my order", "test results not arriving"]


class Scores:
    """A knowledge base whose best article scores `score` for every question."""

    def __init__(self, score: float) -> None:
        self.score = score

    def search(self, text: str, k: int = 5) -> SearchResult:
        return SearchResult([Candidate("a", "Reset your password", self.score), Candidate("b", "Orders", self.score - 0.2)])


@pytest.mark.parametrize("text", YES)
def test_a_yes_to_the_offer_of_a_person_is_the_customers_request(text: str) -> None:
    assert yes_or_no(text) == "yes"
    d = respond(text, ConversationContext(last_action="no_answer", consecutive_failures=1), Scores(0.1), CONFIG)
    assert d.action == "escalate" and d.reason == "customer_request"


@pytest.mark.parametrize("text", NO)
def test_a_no_to_the_offer_of_a_person_keeps_the_bot_without_a_failure(text: str) -> None:
    assert yes_or_no(text) == "no"
    d = respond(text, ConversationContext(last_action="no_answer", consecutive_failures=1), Scores(0.1), CONFIG)
    assert d.action == "smalltalk" and d.reason == "declined" and d.text != ""  # failures start again (app/bot_turns.py)


@pytest.mark.parametrize("text", FILLERS)
def test_a_filler_is_answered_as_small_talk_not_as_a_question_without_an_article(text: str) -> None:
    assert short_kind(text) == "filler"
    d = respond(text, ConversationContext(consecutive_failures=1), Scores(0.1), CONFIG)
    assert d.action == "smalltalk"  # a no_answer here would be the second failure: the queue, for "hmm"


@pytest.mark.parametrize("text", PRESENCE)
def test_anyone_there_is_answered_at_once(text: str) -> None:
    assert short_kind(text) == "presence"
    assert respond(text, ConversationContext(), Scores(0.45), CONFIG).action == "smalltalk"  # not "I found these"


def test_the_reply_is_in_the_customers_language() -> None:
    d = respond("ist da jemand?", ConversationContext(lang="en"), Scores(0.1), CONFIG)
    assert d.lang == "de" and "ich bin da" in d.text


def test_a_yes_after_an_answer_is_thanks_and_out_of_context_asks_what_they_need() -> None:
    assert short_kind("yes", "answer") == "acknowledge" and short_kind("yes") == "filler"
    assert respond("yes", ConversationContext(last_action="answer"), Scores(0.1), CONFIG).text.startswith("Glad")


@pytest.mark.parametrize("text", QUESTIONS)
def test_questions_are_none_of_these(text: str) -> None:
    assert short_kind(text) is None and yes_or_no(text) is None
    d = respond(text, ConversationContext(last_action="no_answer"), Scores(0.7), CONFIG)
    assert d.action == "answer"


def test_a_filler_never_hides_an_article_that_answers() -> None:
    assert respond("test", ConversationContext(), Scores(0.7), CONFIG).action == "answer"
