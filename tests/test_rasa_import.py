"""Importing a Rasa 3.x project (NLU data + responses) as knowledge-base articles.

These tests read YAML only; no Rasa installation or server is needed. The last test is opt-in
(PARLEY_RASA_LIVE=1): it trains tests/rasa_project with a real Rasa 3.6 (see tests/rasa_env.py)
and checks that Rasa accepts the project and answers like the importer expects.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sys
from pathlib import Path

import httpx
import pytest

from knowledge_base.formats.rasa import (
    article_id_for_intent,
    clean_entity_markup,
    load_rasa_project,
    title_from_intent,
)
from knowledge_base.models import ArticleDraft

TESTS = Path(__file__).resolve().parent
TEST_PROJECT = TESTS / "rasa_project"


def _shared_dir() -> Path | None:
    """shared/ sits beside the work tree (for sessions: /work/shared; for CI: a copy beside the clone)."""
    for candidate in (TESTS.parent.parent / "shared", Path("/work/shared")):
        if candidate.is_dir():
            return candidate
    return None


_shared = _shared_dir()
HELPDESK = _shared / "datasets" / "rasa-helpdesk-assistant" if _shared else None
needs_helpdesk = pytest.mark.skipif(
    HELPDESK is None or not (HELPDESK / "domain.yml").exists(),
    reason="shared/datasets/rasa-helpdesk-assistant is not available",
)

FAQ_IDS = [
    "faq-ask-opening-hours",
    "faq-ask-return-policy",
    "faq-ask-shipping-cost",
    "faq-ask-reset-password",
    "faq-ask-delivery-time",
    "faq-ask-payment-methods",
]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- the test project ------------------------------------------------------------------------


def test_test_project_retrieval_intents_become_articles() -> None:
    result = load_rasa_project(TEST_PROJECT)
    assert result.problems == []
    assert [d.id for d in result.drafts] == FAQ_IDS
    by_id = {d.id: d for d in result.drafts}

    shipping = by_id["faq-ask-shipping-cost"]
    assert shipping.title == "Ask shipping cost"
    assert shipping.category == "faq"
    assert shipping.status == "published"
    assert shipping.body.startswith("Standard shipping costs 4.90 EUR")
    assert shipping.source == "data/nlu.yml:64"
    # entity markup is gone, in both the (entity) and the {"entity": ...} forms
    assert "shipping fees to Paris" in shipping.questions
    assert "do I pay for delivery to Madrid" in shipping.questions
    assert len(shipping.questions) == 8
    for draft in result.drafts:
        assert len(draft.questions) >= 8
        assert all("[" not in q and "](" not in q and "{" not in q for q in draft.questions)

    hours = by_id["faq-ask-opening-hours"]
    assert "opening times of the Paris store" in hours.questions
    assert "until when is the Lyon store open" in hours.questions


def test_source_line_points_at_the_intent_entry() -> None:
    lines = (TEST_PROJECT / "data" / "nlu.yml").read_text().splitlines()
    for draft in load_rasa_project(TEST_PROJECT).drafts:
        file, line = draft.source.rsplit(":", 1)
        assert file == "data/nlu.yml"
        assert lines[int(line) - 1].strip() == f"- intent: {draft.id.replace('faq-', 'faq/', 1).replace('-', '_')}"


def test_first_response_variation_is_the_body_and_metadata_title_wins() -> None:
    by_id = {d.id: d for d in load_rasa_project(TEST_PROJECT).drafts}
    # utter_faq/ask_return_policy has two variations: the first is the body
    assert by_id["faq-ask-return-policy"].body.startswith("You can return any item within 30 days")
    # utter_faq/ask_payment_methods has `metadata: {title: ...}` (valid Rasa; Rasa passes it through)
    assert by_id["faq-ask-payment-methods"].title == "Which payment methods do you accept?"


def test_plain_intents_of_the_test_project() -> None:
    result = load_rasa_project(TEST_PROJECT, include_plain_intents=True)
    ids = [d.id for d in result.drafts]
    assert ids == ["greet", "goodbye", "human-handoff", *FAQ_IDS]
    handoff = result.drafts[2]
    assert handoff.title == "Human handoff"
    assert handoff.category is None
    assert handoff.body == "I'll connect you with a person from our support team."
    assert result.problems == []


# --- the real helpdesk assistant ----------------------------------------------------------------


@needs_helpdesk
def test_helpdesk_has_no_retrieval_intents_and_says_so() -> None:
    assert HELPDESK is not None
    result = load_rasa_project(HELPDESK)
    assert result.drafts == []
    assert len(result.problems) == 1
    message = result.problems[0].message
    assert "no retrieval intents" in message
    assert "14 plain intents" in message
    assert "include_plain_intents" in message


@needs_helpdesk
def test_helpdesk_plain_intents_with_utter_responses() -> None:
    assert HELPDESK is not None
    result = load_rasa_project(HELPDESK, include_plain_intents=True)
    by_id = {d.id: d for d in result.drafts}
    # only these intents have a response named utter_<intent>
    assert list(by_id) == ["greet", "goodbye", "help", "out-of-scope"]
    assert by_id["greet"].body == "Hallo! I'm your IT Helpdesk Assistant."
    assert by_id["greet"].source == "data/nlu.yml:3"
    assert by_id["out-of-scope"].title == "Out of scope"
    assert by_id["help"].body.startswith("I can help you open a service request ticket")
    assert "hello" in by_id["greet"].questions
    assert "I said, helllllloooooO!!!!" in by_id["greet"].questions

    skipped = {p.message for p in result.problems}
    assert "skipped intent human_handoff: no utter_human_handoff response" in skipped
    assert "skipped intent thank: no utter_thank response" in skipped
    # open_incident (entity-annotated examples) is skipped: it is answered by a form, not a response
    assert "skipped intent open_incident: no utter_open_incident response" in skipped
    assert len(result.problems) == 10
    assert all(p.source == "data/nlu.yml" and p.line for p in result.problems)


@needs_helpdesk
def test_helpdesk_entity_markup_is_cleaned(tmp_path: Path) -> None:
    assert HELPDESK is not None
    # give open_incident an answer so that its entity-annotated examples are imported
    project = tmp_path / "helpdesk"
    shutil.copytree(HELPDESK, project)
    _write(project / "data" / "responses.yml", (
        "version: '3.1'\n"
        "responses:\n"
        "  utter_open_incident:\n"
        "  - text: Tell me your email and I'll open an incident.\n"
    ))
    result = load_rasa_project(project, include_plain_intents=True)
    incident = next(d for d in result.drafts if d.id == "open-incident")
    assert "open an urgent issue" in incident.questions
    assert "I want to open an incident, but it's low priority" in incident.questions
    assert "I need to open a helpdesk ticket. it's really important" in incident.questions
    assert all("[" not in q and "{" not in q for q in incident.questions)


# --- entity cleaning -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("example", "cleaned"),
    [
        ("fly to [Paris](city)", "fly to Paris"),
        ("fly to [New York](city) on [monday](day)", "fly to New York on monday"),
        ("from [NYC](city:New York City) please", "from NYC please"),
        ('open an [urgent]{"entity": "priority", "value": "high"} issue', "open an urgent issue"),
        ('[Paris]{"entity": "city", "role": "destination"} trip', "Paris trip"),
        ('a [red sweater][{"entity": "item"}, {"entity": "color", "value": "red"}]', "a red sweater"),
        ("no markup [here] (really)", "no markup [here] (really)"),
        ("plain question?", "plain question?"),
    ],
)
def test_clean_entity_markup(example: str, cleaned: str) -> None:
    assert clean_entity_markup(example) == cleaned


def test_ids_and_titles_from_intent_names() -> None:
    assert article_id_for_intent("faq/ask_price") == "faq-ask-price"
    assert article_id_for_intent("chitchat/ask_name") == "chitchat-ask-name"
    assert article_id_for_intent("out_of_scope") == "out-of-scope"
    assert title_from_intent("faq/ask_price") == "Ask price"
    assert title_from_intent("faq/ask_return-policy") == "Ask return policy"
    assert title_from_intent("out_of_scope") == "Out of scope"


# --- layouts and malformed input -------------------------------------------------------------------


def test_split_files_responses_yml_and_duplicate_questions(tmp_path: Path) -> None:
    _write(tmp_path / "domain.yml", "version: '3.1'\nintents:\n  - faq\n")
    _write(tmp_path / "config.yml", "recipe: default.v1\nlanguage: en\npipeline: []\n")
    _write(tmp_path / "data" / "nlu" / "faq.yml", (
        "version: '3.1'\n"
        "nlu:\n"
        "- intent: faq/ask_price\n"
        "  examples: |\n"
        "    - how much is it?\n"
        "    - how much is [it](thing)?\n"
        "    - price of the [gold plan](plan)\n"
        "- synonym: gold\n"
        "  examples: |\n"
        "    - golden\n"
        "- intent: chitchat/ask_name\n"
        "  examples:\n"
        "  - text: what is your name\n"
        "    metadata: {sentiment: neutral}\n"
        "  - who are you\n"
    ))
    _write(tmp_path / "data" / "nlu" / "more.yaml", (
        "nlu:\n"
        "- intent: faq/ask_price\n"
        "  examples: |\n"
        "    - what does it cost\n"
    ))
    _write(tmp_path / "data" / "responses.yml", (
        "version: '3.1'\n"
        "responses:\n"
        "  utter_faq/ask_price:\n"
        "  - text: |\n"
        "      The gold plan costs 10 EUR a month.\n"
        "      The free plan costs nothing.\n"
        "  utter_chitchat/ask_name:\n"
        "  - image: https://example.invalid/bot.png\n"
        "  - text: I am Parley's bot.\n"
    ))
    result = load_rasa_project(tmp_path)
    assert result.problems == []
    price, name = result.drafts
    assert price.id == "faq-ask-price"
    assert price.body == "The gold plan costs 10 EUR a month.\nThe free plan costs nothing."
    assert price.questions == ("how much is it?", "price of the gold plan", "what does it cost")
    assert price.source == "data/nlu/faq.yml:3"
    assert name.category == "chitchat"
    assert name.body == "I am Parley's bot."  # the first variation *with text*
    assert name.questions == ("what is your name", "who are you")


def test_missing_response_is_a_clearly_worded_skip(tmp_path: Path) -> None:
    _write(tmp_path / "nlu.yml", (
        "nlu:\n"
        "- intent: faq/ask_price\n"
        "  examples: |\n"
        "    - how much?\n"
        "- intent: faq/ask_refund\n"
        "  examples: |\n"
        "    - can I get my money back\n"
    ))
    _write(tmp_path / "domain.yml", "responses:\n  utter_faq/ask_price:\n  - text: 10 EUR.\n")
    result = load_rasa_project(tmp_path)
    assert [d.id for d in result.drafts] == ["faq-ask-price"]
    assert [str(p) for p in result.problems] == [
        "nlu.yml:5: skipped intent faq/ask_refund: no utter_faq/ask_refund response"
    ]


def test_malformed_yaml_gives_a_line_specific_problem(tmp_path: Path) -> None:
    _write(tmp_path / "domain.yml", "responses:\n  utter_faq/ask_price:\n  - text: 10 EUR.\n")
    _write(tmp_path / "data" / "nlu.yml", (
        "version: '3.1'\n"
        "nlu:\n"
        "- intent: faq/ask_price\n"
        "  examples: |\n"
        "    - how much?\n"
        "- intent: [faq/ask_refund\n"
        "  examples: |\n"
        "    - refund please\n"
    ))
    _write(tmp_path / "data" / "rules.yml", "rules:\n  - rule: x\n    steps: [\n")
    result = load_rasa_project(tmp_path)
    assert result.drafts == []  # the NLU file could not be read, so there is nothing to import
    problems = {p.source: p for p in result.problems}
    assert set(problems) == {"data/nlu.yml", "data/rules.yml"}
    nlu = problems["data/nlu.yml"]
    assert nlu.line == 7
    assert nlu.message.startswith("invalid YAML:")
    assert str(nlu).startswith("data/nlu.yml:7: invalid YAML")
    assert problems["data/rules.yml"].line == 4


def test_wrongly_shaped_entries_are_problems_not_crashes(tmp_path: Path) -> None:
    _write(tmp_path / "data" / "nlu.yml", (
        "nlu:\n"
        "- just a string\n"
        "- intent: faq/ask_a\n"
        "- intent: faq/ask_b\n"
        "  examples: 42\n"
    ))
    _write(tmp_path / "data" / "bad_responses.yml", "responses:\n  utter_faq/ask_a: just text\n")
    _write(tmp_path / "data" / "list.yml", "- a\n- b\n")
    (tmp_path / "data" / "latin1.yml").write_bytes("nlu: café\n".encode("latin-1"))
    result = load_rasa_project(tmp_path)
    assert result.drafts == []
    rendered = [str(p) for p in result.problems]
    assert "data/bad_responses.yml:2: response utter_faq/ask_a must be a list of variations ('- text: ...')" in rendered
    assert "data/latin1.yml: not UTF-8 text" in rendered
    assert any(r.startswith("data/list.yml:1: a Rasa file must be a mapping") for r in rendered)
    assert "data/nlu.yml:2: an 'nlu' entry must be a mapping like '- intent: name'" in rendered
    assert "data/nlu.yml:3: intent faq/ask_a has no 'examples'" in rendered
    assert any(r.startswith("data/nlu.yml:5: 'examples' must be") for r in rendered)


def test_missing_path_and_single_file(tmp_path: Path) -> None:
    result = load_rasa_project(tmp_path / "nope")
    assert result.drafts == [] and "no such file" in result.problems[0].message
    single = _write(tmp_path / "all.yml", (
        "nlu:\n- intent: faq/ask_x\n  examples: |\n    - x?\n"
        "responses:\n  utter_faq/ask_x:\n  - text: X.\n"
    ))
    result = load_rasa_project(single)
    assert result.problems == []
    assert result.drafts == [
        ArticleDraft(id="faq-ask-x", title="Ask x", body="X.", category="faq", questions=("x?",), source="all.yml:2")
    ]


def test_importing_twice_gives_identical_drafts() -> None:
    first = load_rasa_project(TEST_PROJECT, include_plain_intents=True)
    second = load_rasa_project(TEST_PROJECT, include_plain_intents=True)
    assert first.drafts == second.drafts
    assert first.problems == second.problems
    if HELPDESK is not None and HELPDESK.is_dir():
        assert load_rasa_project(HELPDESK, include_plain_intents=True) == load_rasa_project(
            HELPDESK, include_plain_intents=True
        )


def test_ids_do_not_depend_on_where_the_project_lives(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere"
    shutil.copytree(TEST_PROJECT, copy)
    assert load_rasa_project(copy).drafts == load_rasa_project(TEST_PROJECT).drafts


# --- opt-in: the same project in a real Rasa 3.6 ----------------------------------------------------


async def test_live_rasa_answers_with_the_imported_articles(rasa_server: str) -> None:
    from bot.rasa_client import RasaClient

    drafts = {d.id: d for d in load_rasa_project(TEST_PROJECT).drafts}
    if True:
        async with RasaClient(rasa_server, timeout=30) as client:
            parsed = await client.parse("shipping fees to Paris")
            assert parsed["intent"]["name"] == "faq"
            assert parsed["intent"]["full_retrieval_intent_name"] == "faq/ask_shipping_cost"
            selected = parsed["response_selector"]["faq"]["response"]
            assert selected["intent_response_key"] == "faq/ask_shipping_cost"
            assert selected["responses"][0]["text"] == drafts["faq-ask-shipping-cost"].body
            assert parsed["entities"][0]["entity"] == "city" and parsed["entities"][0]["value"] == "Paris"
            replies = await client.send("parley-test", "how much is shipping?")
            assert replies == [{"recipient_id": "parley-test", "text": drafts["faq-ask-shipping-cost"].body}]
            handoff = await client.parse("I want to talk to a human")
            assert handoff["intent"]["name"] == "human_handoff"
            assert "full_retrieval_intent_name" not in handoff["intent"]


async def test_an_unreachable_rasa_raises_rasa_unavailable() -> None:
    sys.path.insert(0, str(TESTS))
    import rasa_env

    from bot.rasa_client import RasaClient, RasaUnavailable

    async with RasaClient(f"http://127.0.0.1:{rasa_env.free_port()}", timeout=2) as client:
        with pytest.raises(RasaUnavailable):
            await client.parse("hello")


# --- bot.rasa_client against a fake Rasa (no server) -----------------------------------------------

PARSE_FAQ = {
    "text": "shipping fees to Paris",
    "intent": {"name": "faq", "confidence": 0.99, "full_retrieval_intent_name": "faq/ask_shipping_cost"},
    "entities": [{"entity": "city", "start": 17, "end": 22, "value": "Paris", "extractor": "DIETClassifier"}],
    "intent_ranking": [{"name": "faq", "confidence": 0.99}],
    "response_selector": {
        "all_retrieval_intents": ["faq"],
        "faq": {"response": {"intent_response_key": "faq/ask_shipping_cost", "responses": [{"text": "4.90 EUR"}]}},
    },
}


def _fake_rasa(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content or b"{}")
    if request.url.path == "/model/parse":
        return httpx.Response(200, json={**PARSE_FAQ, "text": body["text"]})
    if request.url.path == "/webhooks/rest/webhook":
        if body["message"] == "boom":
            return httpx.Response(500, text="Internal Server Error")
        if body["message"] == "busy":
            return httpx.Response(503, text="Service Unavailable")
        if body["message"] == "html":
            return httpx.Response(200, text="<html>")
        return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": "4.90 EUR"}])
    return httpx.Response(404, text="not found")


async def test_rasa_client_parse_and_send() -> None:
    from bot.rasa_client import RasaClient, RasaError, RasaUnavailable

    async with RasaClient("http://rasa.test/", timeout=1, transport=httpx.MockTransport(_fake_rasa)) as client:
        parsed = await client.parse("shipping fees to Paris")
        assert parsed["intent"]["full_retrieval_intent_name"] == "faq/ask_shipping_cost"
        assert await client.send("abc", "how much is shipping?") == [{"recipient_id": "abc", "text": "4.90 EUR"}]
        with pytest.raises(RasaError) as err:
            await client.send("abc", "boom")
        assert err.value.status_code == 500 and not isinstance(err.value, RasaUnavailable)
        with pytest.raises(RasaUnavailable):
            await client.send("abc", "busy")
        with pytest.raises(RasaError, match="not JSON"):
            await client.send("abc", "html")


async def test_rasa_client_unreachable_and_slow_servers_raise_rasa_unavailable() -> None:
    from bot.rasa_client import RasaClient, RasaUnavailable

    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    def too_slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with RasaClient(f"http://127.0.0.1:{port}", timeout=2) as client:
        with pytest.raises(RasaUnavailable, match="unreachable"):
            await client.parse("hello")
    async with RasaClient("http://rasa.test", timeout=0.5, transport=httpx.MockTransport(too_slow)) as client:
        with pytest.raises(RasaUnavailable, match="within 0.5 s"):
            await client.send("abc", "hello")
