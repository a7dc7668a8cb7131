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
