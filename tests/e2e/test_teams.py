"""Teams, routing rules, priority and tags over a real server and real websockets: an admin's rule
sends a customer's request for a person to a team, agents label the case, a transfer to a team
re-queues it for that team."""

from __future__ import annotations

import httpx

from tests.e2e.test_core_loop import agent, ask, customer
from tests.harness import LiveServer, is_type


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _queued(frame: dict, conversation_id: str) -> dict | None:
    return next((c for c in frame.get("cases", []) if c["conversation_id"] == conversation_id), None)


async def test_a_routing_rule_sends_the_case_to_a_team_labels_filter_and_transfer_requeues(
        fresh_server: LiveServer) -> None:
    server = fresh_server.start()
    admin, agent_token = server.login("admin@parley.local"), server.login("agent@parley.local")
    api = httpx.Client(base_url=server.base_url, headers=_h(admin))
    users = {u["email"]: u["id"] for u in api.get("/api/admin/users").json()}

    billing = api.post("/api/admin/teams", json={"name": "Billing", "member_ids": [users["agent@parley.local"]]})
    assert billing.status_code == 201, billing.text
    assert billing.json()["member_ids"] == [users["agent@parley.local"]]
    returns = api.post("/api/admin/teams", json={"name": "Returns"}).json()
    assert api.post("/api/admin/teams", json={"name": "Billing"}).status_code == 409
    rule = api.post("/api/admin/routing-rules", json={"team_id": billing.json()["id"], "reason": "customer_request"})
    assert rule.status_code == 201, rule.text
    assert [r["id"] for r in api.get("/api/admin/routing-rules").json()] == [rule.json()["id"]]
    assert any(a["action"] == "team.created" for a in api.get("/api/admin/audit").json())

    desk = await agent(server, agent_token)
    client, session = await customer(server)
    conv_id = session["conversation_id"]
    reply = await ask(client, "can I talk to a person")
    assert reply["type"] == "handoff" and reply["reason"] == "customer_request"
    frame = await desk.wait_for(lambda f: f["type"] == "queue" and _queued(f, conv_id) is not None)
    case = _queued(frame, conv_id)
    assert case is not None
    assert (case["team_id"], case["team_name"], case["priority"], case["tags"]) == \
        (billing.json()["id"], "Billing", "normal", [])

    # an agent labels it: urgent goes first in the queue, tags are normalised
    agent_api = httpx.Client(base_url=server.base_url, headers=_h(agent_token))
    labelled = agent_api.patch(f"/api/cases/{case['id']}", json={"priority": "urgent",
                                                                  "tags": ["Refund ", "refund", "VIP customer"]})
    assert labelled.status_code == 200, labelled.text
    assert labelled.json()["tags"] == ["refund", "vip customer"] and labelled.json()["priority"] == "urgent"
    other, other_session = await customer(server)
    await ask(other, "real person please")  # newer and normal: behind the urgent one
    frame = await desk.wait_for(lambda f: f["type"] == "queue" and _queued(f, other_session["conversation_id"])
                                and _queued(f, conv_id)["priority"] == "urgent")
    assert [c["conversation_id"] for c in frame["cases"]][:1] == [conv_id]
    assert _queued(frame, conv_id)["tags"] == ["refund", "vip customer"]
    history = agent_api.get("/api/console/history", params={"tag": "Refund"}).json()
    assert [r["id"] for r in history] == [case["id"]] and history[0]["team_id"] == billing.json()["id"]
    assert agent_api.get("/api/console/history", params={"tag": "nothing"}).json() == []
    assert [r["id"] for r in agent_api.get("/api/console/history",
                                           params={"team_id": billing.json()["id"], "priority": "urgent"}).json()] \
        == [case["id"]]

    # analytics count escalations per team and per tag
    stats = api.get("/api/analytics").json()
    assert stats["escalations_by_team"] == {"Billing": 2} and stats["escalations_by_tag"]["refund"] == 1
    assert "escalations.team.Billing,2" in api.get("/api/analytics.csv").text

    # transfer to a team: back in the queue, for that team, and the customer is told
    await desk.send({"type": "claim", "case_id": case["id"], "ref": "c"})
    await desk.wait_for(is_type("ack", ref="c"))
    await desk.send({"type": "transfer", "case_id": case["id"], "team_id": returns["id"], "ref": "t"})
    ack = await desk.wait_for(lambda f: f.get("ref") == "t")
    assert ack["type"] == "ack" and ack["case"]["status"] == "queued" and ack["case"]["team_id"] == returns["id"]
    await client.wait_for(is_type("handoff", status="queued"))
    frame = await desk.wait_for(lambda f: f["type"] == "queue" and (_queued(f, conv_id) or {}).get("team_name")
                                == "Returns")
    assert _queued(frame, conv_id)["agent_id"] is None

    # invalid input is refused, never a 500
    for bad in ({"tags": ["x" * 41]}, {"tags": [f"t{i}" for i in range(21)]}, {"priority": "asap"},
                {"tags": ["<b>"]}, {"tags": [""]}, {"colour": "red"}):
        assert agent_api.patch(f"/api/cases/{case['id']}", json=bad).status_code == 422, bad
    assert api.post("/api/admin/teams", json={"name": "x" * 81}).status_code == 422
    assert api.post("/api/admin/teams", json={"name": " padded"}).status_code == 422
    assert api.post("/api/admin/routing-rules", json={"team_id": returns["id"], "reason": "nope"}).status_code == 422
    assert api.post("/api/admin/routing-rules", json={"team_id": 999999}).status_code == 404
    assert agent_api.post("/api/admin/teams", json={"name": "Sneaky"}).status_code == 403
    assert agent_api.patch("/api/cases/999999", json={"priority": "low"}).status_code == 404
    await desk.send({"type": "transfer", "case_id": case["id"], "ref": "none"})
    assert (await desk.wait_for(lambda f: f.get("ref") == "none"))["type"] == "error"
    await desk.send({"type": "transfer", "case_id": case["id"], "team_id": 999999, "ref": "gone"})
    assert (await desk.wait_for(lambda f: f.get("ref") == "gone"))["code"] == "not_found"

    # deleting a team leaves its cases without a team, and its rules go with it
    assert api.delete(f"/api/admin/teams/{returns['id']}").status_code == 204
    assert agent_api.get(f"/api/cases/{case['id']}").json()["team_id"] is None
    assert api.delete(f"/api/admin/teams/{billing.json()['id']}").status_code == 204
    assert api.get("/api/admin/routing-rules").json() == []
    for c in (client, other, desk):
        await c.close()
