"""Recall and precision of the conversation rules on Parley's own labelled development set
(tests/fixtures/intents_dev.json: requests for a person, ordinary questions that mention people or
support, small talk, frustration and its look-alikes, in en, de, fr, es, it, pt and nl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import BotConfig, ConversationContext, respond
from bot.frustration import is_frustrated
from bot.language import detect
from bot.person_request import is_human_request
from bot.smalltalk_rules import smalltalk_kind

DEV = json.loads((Path(__file__).parent / "fixtures" / "intents_dev.json").read_text(encoding="utf-8"))
LANGS = [lang for lang in DEV if not lang.startswith("_")]


def test_the_set_covers_seven_languages_with_enough_examples() -> None:
    assert sorted(LANGS) == ["de", "en", "es", "fr", "it", "nl", "pt"]
    for lang in LANGS:
        sizes = {k: len(v) for k, v in DEV[lang].items()}
        assert sizes["person"] >= 40 and sizes["ordinary"] >= 40 and sizes["smalltalk"] >= 20, (lang, sizes)
        assert sizes["frustrated"] >= 10 and sizes["calm"] >= 10, (lang, sizes)


@pytest.mark.parametrize("lang", LANGS)
def test_requests_for_a_person_are_recognised_and_no_ordinary_question_is_taken_for_one(lang: str) -> None:
    person, ordinary = DEV[lang]["person"], DEV[lang]["ordinary"]
    missed = [t for t in person if not is_human_request(t)]
    assert len(missed) <= 0.05 * len(person), missed
    assert [t for t in ordinary if is_human_request(t)] == []
    assert [t for t in DEV[lang]["smalltalk"] if is_human_request(t)] == []  # "are you a real person?" asks nobody


@pytest.mark.parametrize("lang", LANGS)
def test_frustration_is_recognised_and_capitals_question_marks_or_nul_are_not(lang: str) -> None:
    frustrated = DEV[lang]["frustrated"]
    missed = [t for t in frustrated if not is_frustrated(t)]
    assert len(missed) <= 0.05 * len(frustrated), missed
    calm = DEV[lang]["calm"] + DEV[lang]["ordinary"] + DEV[lang]["person"] + DEV[lang]["smalltalk"]
    assert [t for t in calm if is_frustrated(t)] == []


@pytest.mark.parametrize("lang", LANGS)
def test_small_talk_is_recognised_and_no_question_is_taken_for_it(lang: str) -> None:
    small = DEV[lang]["smalltalk"]
    missed = [t for t in small if smalltalk_kind(t) is None]
    assert len(missed) <= 0.05 * len(small), missed
    questions = DEV[lang]["ordinary"] + DEV[lang]["person"] + DEV[lang]["calm"]
    assert [t for t in questions if smalltalk_kind(t)] == []


@pytest.mark.parametrize("lang", LANGS)
def test_the_language_is_detected_from_one_message_and_rarely_wrong(lang: str) -> None:
    texts = [t for kind in ("person", "ordinary", "smalltalk", "frustrated", "calm") for t in DEV[lang][kind]]
    found = [detect(t) for t in texts]
    wrong = [(t, f) for t, f in zip(texts, found) if f not in (lang, None)]
    assert sum(f == lang for f in found) >= 0.7 * len(texts)  # the rest keep the page's language
    assert len(wrong) <= 0.04 * len(texts), wrong


class _NothingCovered:
    """A knowledge base that answers nothing: what the rules alone decide."""

    def search(self, text: str, k: int = 5):  # type: ignore[no-untyped-def]
        from knowledge_base.models import SearchResult

        return SearchResult([])


@pytest.mark.parametrize("lang", LANGS)
def test_the_bot_escalates_person_requests_and_answers_small_talk_in_the_customers_language(lang: str) -> None:
    config = BotConfig(answer_threshold=0.5, out_of_scope_threshold=0.3)
    page = "en" if lang != "en" else "de"
    for text in DEV[lang]["person"][:20]:
        d = respond(text, ConversationContext(lang=page), _NothingCovered(), config)
        assert d.action == "escalate" and d.reason == "customer_request", text
    replied_in = []
    for text in DEV[lang]["smalltalk"]:
        d = respond(text, ConversationContext(lang=page), _NothingCovered(), config)
        assert d.action == "smalltalk", text
        replied_in.append(d.lang)
    # emoji and "ok"-like words name no language: those keep the page's
    assert sum(r == lang for r in replied_in) >= 0.6 * len(replied_in), replied_in


@pytest.mark.parametrize("text,lang", [
    ("vielen Dank!", "de"), ("Mitarbeiter bitte", "de"), ("dank je wel", "nl"), ("bedankt", "nl"), ("medewerker aub", "nl"),
    ("merci", "fr"), ("un conseiller svp", "fr"), ("gracias", "es"), ("muchas gracias", "es"), ("grazie mille", "it"),
    ("operatore", "it"), ("obrigado", "pt"), ("atendente", "pt"), ("thanks!", "en")])
def test_two_words_are_enough_when_only_one_language_writes_them(text: str, lang: str) -> None:
    assert detect(text) == lang
