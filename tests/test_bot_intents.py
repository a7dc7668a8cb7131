"""Recognisers for requests for a person, small talk, frustration and 'that didn't help'."""

from __future__ import annotations

import pytest

from bot.frustration import is_frustrated, is_not_helpful
from bot.person_request import is_human_request
from bot.smalltalk_rules import smalltalk_kind, strip_greeting

PERSON = [
    "agent", "AGENT!!", "human please", "real person please", "can I talk to a person", "let me speak to your manager",
    "I want to speak with someone", "connect me to customer service", "live chat with a rep", "get me a representative",
    "i need a humna", "talk to an agnet", "representitive", "you're not a bot are you? i want a human",
    "je veux parler à un conseiller", "puis-je parler à une vraie personne", "quiero hablar con una persona",
    "necesito un agente humano", "ich möchte mit einem Mitarbeiter sprechen", "bitte einen echten Menschen",
    "quero falar com um atendente", "posso falar com uma pessoa real?", "vorrei parlare con un operatore",
    "voglio parlare con una persona", "operador por favor", "a person please", "someone pls",
    # the Rasa helpdesk's human_handoff wording
    "I don't wanna talk to a bot", "i'm tired of talking to a bot", "gimme a proper human", "do you have human support ?",
    "can you forward me to your team", "handoff", "i need to talk to someone about a charge on my card",
    "I want a person about order 123", "i need someone to help me with a refund",
]
NOT_PERSON = [
    "how do I reset my password", "where is my order", "the delivery person left my parcel outside",
    "can I change the name on my account", "how do I become a Loom Rewards member", "what are your opening hours",
    "my package was damaged", "do you ship to Canada",
    # a person, but not one to talk to (CLINC150 train wording)
    "will you reserve a table at olive garden for 3 people at 7", "get me an uber for 3 people uptown",
    "can someone look at my check engine light", "how do i get that tax form from my employer", "text someone",
    "what stuff did i put on my shopping list", "advise sam of my current location please", "am I talking to a bot?",
]


@pytest.mark.parametrize("text", PERSON)
def test_requests_for_a_person_are_recognised(text: str) -> None:
    assert is_human_request(text)


@pytest.mark.parametrize("text", NOT_PERSON)
def test_ordinary_questions_are_not_requests_for_a_person(text: str) -> None:
    assert not is_human_request(text)


@pytest.mark.parametrize("text,kind", [("hi", "greeting"), ("Hello there!", "greeting"), ("bonjour", "greeting"),
                                       ("thanks a lot", "thanks"), ("merci beaucoup", "thanks"), ("gracias", "thanks"),
                                       ("bye!", "goodbye"), ("au revoir", "goodbye"), ("tschüss", "goodbye")])
def test_small_talk_is_recognised(text: str, kind: str) -> None:
    assert smalltalk_kind(text) == kind


@pytest.mark.parametrize("text", ["hi, how do I reset my password", "thanks but where is my order", "ok"])
def test_questions_with_a_greeting_are_not_small_talk(text: str) -> None:
    assert smalltalk_kind(text) is None


def test_greeting_is_stripped_before_searching() -> None:
    assert strip_greeting("Hi there, how do I reset my password?") == "how do I reset my password?"
    assert strip_greeting("hello") == "hello"


@pytest.mark.parametrize("text", ["THIS IS THE THIRD TIME I ASK", "this is fucking useless", "are you kidding me???",
                                  "what a joke of a service", "this is a joke", "that's garbage"])
def test_frustration_is_recognised(text: str) -> None:
    assert is_frustrated(text)


@pytest.mark.parametrize("text", ["where is my order?", "I need help with a refund", "OK", "UK shipping costs",
                                  "tell me a joke", "can you see if paying the garbage bill is on my todo list",
                                  "make me a reminder that tomorrow is trash day"])
def test_calm_messages_are_not_frustration(text: str) -> None:
    assert not is_frustrated(text)


@pytest.mark.parametrize("text", ["that didn't help", "this does not answer my question", "not what I asked",
                                  "wrong answer", "ça ne m'a pas aidé"])
def test_not_helpful_is_recognised(text: str) -> None:
    assert is_not_helpful(text)


@pytest.mark.parametrize("text", ["HOW DO I RESET MY PASSWORD", "where is my order???", "WHAT ARE YOUR OPENING HOURS?",
                                  "mijn saldo staat op nul", "is shipping free over 60 pounds??"])
def test_capitals_question_marks_and_the_dutch_zero_are_not_anger(text: str) -> None:
    assert not is_frustrated(text)



@pytest.mark.parametrize("text,rest", [("Hallo, wie lange dauert der Versand?", "wie lange dauert der Versand?"),
                                       ("Buenos días, ¿cuánto tarda el envío?", "¿cuánto tarda el envío?"),
                                       ("Goedemorgen! Waar is mijn pakket?", "Waar is mijn pakket?"),
                                       ("Bom dia, cadê meu pedido?", "cadê meu pedido?"), ("Hoi", "Hoi")])
def test_greetings_in_every_language_are_stripped_before_searching(text: str, rest: str) -> None:
    assert strip_greeting(text) == rest


@pytest.mark.parametrize("text", ["dat hielp niet", "heeft me niet geholpen", "das hilft mir nicht", "bringt nichts",
                                  "ça ne m'aide pas", "no me sirve", "non mi aiuta", "não ajudou", "resposta errada",
                                  "verkeerd antwoord", "falsche Antwort"])
def test_not_helpful_is_recognised_in_every_language(text: str) -> None:
    assert is_not_helpful(text)


@pytest.mark.parametrize("text", ["hoe helpt de klantenservice mij", "wie hilft mir die App beim Sparen",
                                  "comment l'appli aide les familles", "que tal", "dat klopt, dank je"])
def test_questions_about_help_are_not_complaints_that_it_did_not_help(text: str) -> None:
    assert not is_not_helpful(text)
