"""Languages over a real uvicorn server, real websockets, SQLite and the packaged MiniLM model: a
customer on an English page who writes Dutch, German or Spanish is understood and answered in their
language, and asks for a person in their own words."""

from __future__ import annotations

import pytest

from bot.replies import say
from tests.e2e.test_core_loop import ask, customer
from tests.harness import LiveServer


@pytest.mark.parametrize("text,lang,kind", [
    ("vielen Dank!", "de", "thanks"), ("oeps, verkeerde chat", "nl", "apology"),
    ("¿eres un bot?", "es", "bot_question"), ("ciao, a presto", "it", "goodbye")])
async def test_small_talk_is_answered_in_the_language_it_was_written_in(
        live_server: LiveServer, text: str, lang: str, kind: str) -> None:
    client, _ = await customer(live_server, lang="en")
    reply = await ask(client, text)
    assert reply["type"] == "message" and reply["action"] == "smalltalk", reply
    assert reply["text"] == say(kind, lang) and reply["article"] is None
    await client.close()


@pytest.mark.parametrize("text,lang", [("ik wil een medewerker spreken", "nl"), ("quero falar com um atendente", "pt"),
                                       ("je voudrais parler à une vraie personne", "fr"),
                                       ("posso parlare con un operatore?", "it")])
async def test_a_request_for_a_person_in_any_language_escalates_as_a_customer_request(
        live_server: LiveServer, text: str, lang: str) -> None:
    client, _ = await customer(live_server, lang="en")
    reply = await ask(client, text)
    assert reply["type"] == "handoff" and reply["status"] == "queued", reply
    assert reply["reason"] == "customer_request", reply
    # the desk's own line is in the language the customer wrote, not the page's English
    assert reply["text"] in (say("queued", lang, position=reply["position"]), say("queued_offline", lang)), reply
    # and so are its later lines: the conversation keeps the language the customer wrote in
    await client.send({"type": "contact", "email": "ana@example.com"})
    saved = await client.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system"
                                  and f.get("action") == "contact")
    assert saved["text"] == say("contact_saved", lang, email="ana@example.com"), saved
    await client.close()


async def test_an_ordinary_question_that_mentions_people_is_not_a_request_for_a_person(live_server: LiveServer) -> None:
    client, _ = await customer(live_server, lang="en")
    reply = await ask(client, "persoonlijke gegevens wijzigen")
    assert reply["type"] == "message" and reply["sender"] == "bot", reply  # answered or told plainly, not queued
    await client.close()
