"""Two real uvicorn processes sharing one PostgreSQL database and one Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL
from tests.contract.conftest import drop_postgres, fresh_postgres_url
from tests.harness import Client, LiveServer, is_type, run_cli, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[LiveServer, LiveServer, dict[str, str]]]:
    url, name = await fresh_postgres_url()
    env = {"PARLEY_DATABASE_URL": url, "PARLEY_REDIS_URL": REDIS_URL,
           "PARLEY_REDIS_PREFIX": f"parley-test-{uuid.uuid4().hex[:8]}:"}
    seed_dir = tmp_path_factory.mktemp("pg-seed")
    seeded = run_cli(["demo"], server_env(seed_dir, **env))
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    a = LiveServer(tmp_path_factory.mktemp("proc-a"), **env)
    b = LiveServer(tmp_path_factory.mktemp("proc-b"), **env)
    await asyncio.gather(asyncio.to_thread(a.start), asyncio.to_thread(b.start))
    yield a, b, env
    a.stop()
    b.stop()
    await drop_postgres(name)


async def test_customer_on_one_process_and_agent_on_the_other_talk_live(cluster) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = cluster
    token = b.login("agent@parley.local")
    desk = await Client.connect(f"{b.ws_url}/ws/agent?token={token}")
    await desk.wait_for(is_type("queue"))
    customer = await Client.connect(f"{a.ws_url}/ws/chat")
    session = await customer.recv()
    await customer.send({"type": "message", "text": "I want to talk to a human", "client_msg_id": "x1"})
    queued = await customer.wait_for(is_type("handoff", status="queued"))
    assert queued["availability"] == "online"  # the agent online on process B counts on process A
    snapshot = await desk.wait_for(lambda f: f["type"] == "queue" and any(
        c["conversation_id"] == session["conversation_id"] for c in f["cases"]))
    case = next(c for c in snapshot["cases"] if c["conversation_id"] == session["conversation_id"])
    await desk.send({"type": "claim", "case_id": case["id"], "ref": "c"})
    await desk.wait_for(is_type("ack", ref="c"))
    await customer.wait_for(is_type("handoff", status="assigned"))
    await desk.send({"type": "message", "conversation_id": session["conversation_id"], "text": "hello from B"})
    assert (await customer.wait_for(lambda f: f.get("sender") == "agent"))["text"] == "hello from B"
    await customer.send({"type": "message", "text": "hello from A", "client_msg_id": "x2"})
    got = await desk.wait_for(lambda f: f["type"] == "event" and f["event"]["text"] == "hello from A")
    assert got["event"]["sender"] == "customer"
    await customer.close()
    await desk.close()


async def test_claims_race_across_processes_with_exactly_one_winner(cluster) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = cluster
    customer = await Client.connect(f"{a.ws_url}/ws/chat")
    session = await customer.recv()
    await customer.send({"type": "request_human"})
    await customer.wait_for(is_type("handoff", status="queued"))
    first = await Client.connect(f"{a.ws_url}/ws/agent?token={a.login('agent@parley.local')}")
    second = await Client.connect(f"{b.ws_url}/ws/agent?token={b.login('admin@parley.local')}")
    snapshot = await first.wait_for(lambda f: f["type"] == "queue" and any(
        c["conversation_id"] == session["conversation_id"] for c in f["cases"]))
    case_id = next(c["id"] for c in snapshot["cases"] if c["conversation_id"] == session["conversation_id"])
    await asyncio.gather(first.send({"type": "claim", "case_id": case_id, "ref": "1"}),
                         second.send({"type": "claim", "case_id": case_id, "ref": "2"}))
    results = await asyncio.gather(first.wait_for(lambda f: f.get("ref") == "1" and f["type"] in ("ack", "error")),
                                   second.wait_for(lambda f: f.get("ref") == "2" and f["type"] in ("ack", "error")))
    assert sorted(r["type"] for r in results) == ["ack", "error"]
    for c in (customer, first, second):
        await c.close()


async def test_a_publish_on_one_process_is_answerable_on_the_other_within_a_second(cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b, env = cluster
    article = tmp_path / "kb"
    article.mkdir()
    (article / "llama-grooming.md").write_text(
        "---\ntitle: Brushing our llama-wool throws\nquestions:\n  - how do I brush a llama wool throw\n"
        "  - can I comb my llama blanket\n---\nUse a soft brush along the grain once a month.\n")
    ask = {"text": "how should I brush my llama wool throw"}
    headers = {"Authorization": f"Bearer {b.login('editor@parley.local')}"}
    before = httpx.post(b.base_url + "/api/bot/preview", json=ask, headers=headers).json()
    assert before["article_id"] != "llama-grooming"
    imported = run_cli(["kb", "import", str(article)], server_env(a.data_dir, **env))  # writes through the database
    assert imported.returncode == 0, imported.stderr[-2000:]
    loop = asyncio.get_running_loop()
    started = loop.time()
    while loop.time() - started < 5:
        after = httpx.post(b.base_url + "/api/bot/preview", json=ask, headers=headers).json()
        if after["article_id"] == "llama-grooming":
            break
        await asyncio.sleep(0.05)
    assert after["article_id"] == "llama-grooming" and after["action"] == "answer"
    assert loop.time() - started < 1.0


HUGE = [2**31, 2**63, 10**30]  # past PostgreSQL's integer columns: must be a 4xx, never a 500


async def test_ids_past_the_database_integer_range_get_a_clear_error_on_postgres(cluster) -> None:  # type: ignore[no-untyped-def]
    a, _, _ = cluster
    admin = {"Authorization": f"Bearer {a.login('admin@parley.local')}"}
    async with httpx.AsyncClient(base_url=a.base_url, headers=admin, timeout=10) as http:
        for big in HUGE:
            for method, path in [("GET", f"/api/cases/{big}"), ("GET", f"/api/console/cases/{big}/export"),
                                 ("DELETE", f"/api/console/canned/{big}"),
                                 ("GET", f"/api/console/history?agent_id={big}"),
                                 ("GET", f"/api/articles/reset-password/diff?from={big}"),
                                 ("POST", f"/api/articles/reset-password/versions/{big}/restore")]:
                response = await http.request(method, path, headers={"X-Requested-With": "test"})
                assert 400 <= response.status_code < 500, (method, path, response.status_code, response.text[:200])
            response = await http.patch(f"/api/admin/users/{big}", json={"name": "x"})
            assert 400 <= response.status_code < 500, (big, response.status_code, response.text[:200])
    token = a.login("agent@parley.local")
    desk = await Client.connect(f"{a.ws_url}/ws/agent?token={token}")
    customer = await Client.connect(f"{a.ws_url}/ws/chat")
    await customer.recv()
    for big in HUGE:
        for frame in ({"type": "claim", "case_id": big}, {"type": "resolve", "case_id": big},
                      {"type": "transfer", "case_id": 1, "agent_id": big}):
            await desk.send({**frame, "ref": "r"})
            error = await desk.wait_for(is_type("error"))
            assert error["code"] in ("invalid_frame", "not_found"), error
        for frame in ({"type": "feedback", "seq": big, "helpful": True}, {"type": "resume", "last_seq": big}):
            await customer.send(frame)
            error = await customer.wait_for(is_type("error"))
            assert error["code"] in ("invalid_frame", "unknown_seq"), error
    assert httpx.get(a.base_url + "/readyz").status_code == 200
    assert "Traceback" not in a.log_path.read_text(errors="replace")
    await desk.close()
    await customer.close()
