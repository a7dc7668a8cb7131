"""Unhappy customers and learning from the desk, over a real server, real sockets and the real model:
a customer rated 1 of 5 and came back, the managers' list shows why, when and who, the history filters
find it, a follow-up reopens it to an agent; the question an agent answered by citing an article is
suggested for that article, accepted through versioning or dismissed; votes show per article."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from tests.e2e.test_core_loop import agent, ask, customer, live_cases, mid
from tests.harness import LiveServer, is_type


def h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def get(server: LiveServer, token: str, path: str, **params: object) -> httpx.Response:
    return httpx.get(server.base_url + path, params=params, headers=h(token), timeout=30)


def post(server: LiveServer, token: str, path: str, body: object) -> httpx.Response:
    return httpx.post(server.base_url + path, json=body, headers=h(token), timeout=60)


async def unhappy_case(server: LiveServer, agent_token: str, question: str) -> tuple[dict, object, object]:
    """A customer asks, asks for a person, an agent answers with an article link and resolves; the
    customer rates 1 of 5 and writes again. Returns (session, customer client, agent client)."""
    client, session = await customer(server)
    await ask(client, question)
    handoff = await ask(client, "I want to talk to a person please")
    assert handoff["type"] == "handoff" and handoff["status"] == "queued"
    desk = await agent(server, agent_token)
    case = await live_cases(server, agent_token, session["conversation_id"])
    await desk.send({"type": "claim", "case_id": case["id"], "ref": "c"})
    await desk.wait_for(is_type("ack", ref="c"))
    await desk.send({"type": "message", "conversation_id": session["conversation_id"], "client_msg_id": mid(),
                     "text": f"Some shedding is normal at first. Caring for wool rugs: {server.base_url}/kb/care-for-wool-rugs"})
    await client.wait_for(lambda f: f["type"] == "message" and f["sender"] == "agent")
    await desk.send({"type": "resolve", "case_id": case["id"], "ref": "r"})
    await client.wait_for(is_type("handoff", status="resolved"))
    await client.send({"type": "rating", "score": 1, "comment": "still shedding"})
    await client.wait_for(is_type("rating"))
    await ask(client, "it is still shedding everywhere")  # back in the same conversation, minutes later
    return {**session, "case_id": case["id"]}, client, desk


async def test_a_low_rating_and_a_return_are_listed_filtered_and_followed_up(
        live_server: LiveServer, agent_token: str, editor_token: str, admin_token: str) -> None:
    tag = uuid.uuid4().hex[:6]
    session, client, desk = await unhappy_case(live_server, agent_token,
                                               f"my new rug {tag} sheds fibres all over the floor, is that normal")
    case_id = session["case_id"]

    page = get(live_server, agent_token, "/api/unhappy", days=1, limit=200).json()
    item = next(i for i in page["items"] if i["case_id"] == case_id)
    assert [r["kind"] for r in item["reasons"]] == ["low_rating", "recontact"]
    assert "rated 1 of 5" in item["reasons"][0]["detail"] and "still shedding" in item["reasons"][0]["detail"]
    assert item["came_back"]["text"] == "it is still shedding everywhere"
    assert item["agent_name"] and item["rating"] == 1 and item["console_url"] == f"/console#case={case_id}"
    assert item["can_follow_up"] is True
    only_low = get(live_server, agent_token, "/api/unhappy", days=1, kind="low_rating", limit=200).json()
    assert case_id in [i["case_id"] for i in only_low["items"]]
    frustrated = get(live_server, agent_token, "/api/unhappy", days=1, kind="frustration", limit=200).json()
    assert case_id not in [i["case_id"] for i in frustrated["items"]]
    one = get(live_server, agent_token, "/api/unhappy", days=1, limit=1).json()
    assert len(one["items"]) == 1 and one["total"] == page["total"] >= 1
    assert get(live_server, editor_token, "/api/unhappy").status_code == 403
    transcript = get(live_server, agent_token, f"/api/cases/{case_id}").json()["transcript"]
    assert any(e["kind"] == "rating" for e in transcript)

    history = lambda **p: [r["id"] for r in get(live_server, agent_token, "/api/console/history", **p).json()]  # noqa: E731
    assert case_id in history(rating=1) and case_id in history(rating_max=2) and case_id in history(recontact_days=7)
    assert case_id not in history(rating=2) and case_id not in history(frustrated="true")
    assert case_id not in history(repeated_failure="true")

    # follow up with a new agent of its own (capacity free): the customer is told, the agent gets the case
    new = post(live_server, admin_token, "/api/admin/users", {"email": f"follow{tag}@parley.local",
                                                              "name": f"Fran {tag}", "password": "long-enough-1",
                                                              "role": "agent"}).json()
    r = post(live_server, agent_token, f"/api/unhappy/{case_id}/follow-up", {"agent_id": new["id"]})
    assert r.status_code == 201, r.text
    follow = r.json()
    assert follow["status"] == "assigned" and follow["agent_id"] == new["id"] and follow["case_id"] != case_id
    told = await client.wait_for(lambda f: f["type"] == "handoff" and f.get("status") == "queued")
    assert "following up" in told["text"]
    joined = await client.wait_for(is_type("handoff", status="assigned"))
    assert joined["agent"]["name"] == f"Fran {tag}"
    again = post(live_server, agent_token, f"/api/unhappy/{case_id}/follow-up", {})
    assert again.status_code == 409
    after = next(i for i in get(live_server, agent_token, "/api/unhappy", days=1, limit=200).json()["items"]
                 if i["case_id"] == case_id)
    assert after["can_follow_up"] is False
    a = get(live_server, editor_token, "/api/analytics", days=1).json()
    assert "follow_up" not in a["escalations_by_reason"]  # a manager's follow-up is not an escalation
    await client.close()
    await desk.close()


@pytest.mark.parametrize("params", [{"kind": "angry"}, {"limit": 0}, {"limit": 201}, {"offset": -1},
                                    {"recontact_days": 0}, {"recontact_days": 91}, {"days": 0},
                                    {"since": "2026-02-02", "until": "2026-01-01"}, {"since": "yesterday"},
                                    {"until": "0001-01-01"}, {"until": "9999-12-31"}])
def test_bad_unhappy_parameters_are_refused(live_server: LiveServer, agent_token: str, params: dict) -> None:
    assert get(live_server, agent_token, "/api/unhappy", **params).status_code == 422


@pytest.mark.parametrize("params", [{"rating": 0}, {"rating": 6}, {"rating": "low"}, {"rating_max": 9},
                                    {"recontact_days": 0}, {"recontact_days": 1000}, {"frustrated": "maybe"}])
def test_bad_history_filters_are_refused(live_server: LiveServer, agent_token: str, params: dict) -> None:
    assert get(live_server, agent_token, "/api/console/history", **params).status_code == 422


@pytest.mark.parametrize("body,status", [({"agent_id": 0}, 422), ({"agent_id": "x"}, 422), ({"queue": True}, 422),
                                         ({"agent_id": 2_147_483_647}, 422)])
def test_bad_follow_ups_are_refused(live_server: LiveServer, agent_token: str, body: dict, status: int) -> None:
    assert post(live_server, agent_token, "/api/unhappy/1/follow-up", body).status_code in (status, 404)
    assert post(live_server, agent_token, "/api/unhappy/999999/follow-up", {}).status_code == 404


async def test_the_desk_suggests_questions_for_cited_articles_and_votes_show_per_article(
        live_server: LiveServer, agent_token: str, editor_token: str) -> None:
    tag = uuid.uuid4().hex[:6]
    question = f"my new rug {tag} sheds fibres all over the floor, is that normal"
    session, client, desk = await unhappy_case(live_server, agent_token, question)
    await client.close()
    await desk.close()
    voter, _ = await customer(live_server)
    answer = await ask(voter, "how do I reset my password")
    assert answer["action"] == "answer"
    await voter.send({"type": "feedback", "seq": answer["seq"], "helpful": False})
    await voter.wait_for(lambda f: f["type"] == "message" and f["sender"] in ("bot", "system") and f["seq"] > answer["seq"])
    await voter.close()
    # the vote reaches the calibration the bot decides by (every process re-reads votes on its poll)
    deadline = time.monotonic() + 20
    while not (fb := get(live_server, editor_token, "/api/bot/calibration").json()["calibration"]["feedback"]) \
            or fb["not_helpful"] < 1:
        assert time.monotonic() < deadline, fb
        await asyncio.sleep(0.5)
    assert fb["votes"] == fb["helpful"] + fb["not_helpful"] and fb["answer_from_content"] > 0

    learned = get(live_server, editor_token, "/api/gaps/learned", days=1).json()
    s = next(s for s in learned["suggestions"] if s["question"] == question)
    assert s["article_id"] == "care-for-wool-rugs" and session["case_id"] in s["cases"] and s["agents"]
    votes = next(v for v in learned["votes"] if v["article_id"] == answer["article"]["id"])
    assert votes["not_helpful"] >= 1 and "how do I reset my password" in votes["unhelpful_questions"]
    assert get(live_server, agent_token, "/api/gaps/learned").status_code == 403

    before = get(live_server, editor_token, "/api/articles/care-for-wool-rugs").json()
    r = post(live_server, editor_token, "/api/gaps/learned/accept", {"article_id": "care-for-wool-rugs",
                                                                     "question": question})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == before["version"] + 1 and question in r.json()["questions"]
    versions = get(live_server, editor_token, "/api/articles/care-for-wool-rugs/versions").json()
    assert question in max(versions, key=lambda v: v["version"])["questions"]
    assert post(live_server, editor_token, "/api/gaps/learned/accept",
                {"article_id": "care-for-wool-rugs", "question": question}).status_code == 409
    after = get(live_server, editor_token, "/api/gaps/learned", days=1).json()
    assert question not in [x["question"] for x in after["suggestions"]]

    # a second one, dismissed: it never comes back, and a second decision is refused
    other = f"rug {tag} shedding again after vacuuming, what should I do"
    session2, client2, desk2 = await unhappy_case(live_server, agent_token, other)
    await client2.close()
    await desk2.close()
    assert other in [x["question"] for x in get(live_server, editor_token, "/api/gaps/learned", days=1).json()["suggestions"]]
    d = post(live_server, editor_token, "/api/gaps/learned/dismiss", {"article_id": "care-for-wool-rugs", "question": other})
    assert d.status_code == 204
    assert other not in [x["question"] for x in get(live_server, editor_token, "/api/gaps/learned", days=1).json()["suggestions"]]
    assert post(live_server, editor_token, "/api/gaps/learned/dismiss",
                {"article_id": "care-for-wool-rugs", "question": other}).status_code == 409
    assert other not in get(live_server, editor_token, "/api/articles/care-for-wool-rugs").json()["questions"]


@pytest.mark.parametrize("body,status", [({"article_id": "no-such-article", "question": "q"}, 404),
                                         ({"article_id": "care-for-wool-rugs"}, 422),
                                         ({"article_id": "care-for-wool-rugs", "question": ""}, 422),
                                         ({"article_id": "care-for-wool-rugs", "question": "x" * 501}, 422),
                                         ({"article_id": "care-for-wool-rugs", "question": "q", "extra": 1}, 422),
                                         ({"article_id": "care-for-wool-rugs", "question": "a\u0000b"}, 422)])
@pytest.mark.parametrize("action", ["accept", "dismiss"])
def test_bad_suggestion_decisions_are_refused(live_server: LiveServer, editor_token: str, body: dict, status: int,
                                              action: str) -> None:
    assert post(live_server, editor_token, f"/api/gaps/learned/{action}", body).status_code == status
