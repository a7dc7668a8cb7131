"""Round-robin assignment by two real server processes sharing PostgreSQL and Redis never gives an
agent more chats than their capacity (before: both processes assigned from their own read, 2 of 1)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import REDIS_URL
from tests.contract.conftest import drop_postgres, fresh_postgres_url
from tests.harness import Client, LiveServer, copy_data, is_type, run_cli, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
async def round_robin_pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    url, name = await fresh_postgres_url()
    env = {"PARLEY_DATABASE_URL": url, "PARLEY_REDIS_URL": REDIS_URL,
           "PARLEY_REDIS_PREFIX": f"parley-test-{uuid.uuid4().hex[:8]}:", "PARLEY_ASSIGN_MODE": "round_robin",
           "PARLEY_ASSIGN_INTERVAL_SECONDS": "0.2", "PARLEY_REPLY_TIMEOUT_SECONDS": "0"}
    seed = tmp_path_factory.mktemp("rr-seed")
    seeded = run_cli(["demo"], server_env(seed, **env), timeout=900)
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    # Each process starts from the seed's index and fitted classifier (as hosts sharing a built image
    # would), instead of fitting its own while the other does: ready in seconds on a busy machine.
    a = LiveServer(copy_data(seed, tmp_path_factory.mktemp("rr-a")), **env)
    b = LiveServer(copy_data(seed, tmp_path_factory.mktemp("rr-b")), **env)
    await asyncio.to_thread(a.start, 600)  # one after the other: a busy machine starts two at once slowly
    await asyncio.to_thread(b.start, 600)
    yield a, b
    a.stop()
    b.stop()
    await drop_postgres(name)


async def test_two_assigning_processes_never_exceed_any_agents_capacity(round_robin_pair) -> None:  # type: ignore[no-untyped-def]
    a, b = round_robin_pair
    admin = {"Authorization": f"Bearer {a.login('admin@parley.local')}"}
    users = {u["email"]: u for u in httpx.get(f"{a.base_url}/api/admin/users", headers=admin).json()}
    capacity = {"agent@parley.local": 1, "admin@parley.local": 2}
    for email, cap in capacity.items():
        r = httpx.patch(f"{a.base_url}/api/admin/users/{users[email]['id']}", json={"capacity": cap}, headers=admin)
        assert r.status_code == 200
    limits = {users[e]["id"]: cap for e, cap in capacity.items()}

    # One agent on each process.
    alex = await Client.connect(f"{a.ws_url}/ws/agent?token={a.login('agent@parley.local')}")
    ada = await Client.connect(f"{b.ws_url}/ws/agent?token={b.login('admin@parley.local')}")
    for desk in (alex, ada):
        await desk.wait_for(is_type("queue"))

    worst: dict[int, int] = {}
    watching = True

    async def watch() -> None:  # the load of every agent, as the database has it, all along
        async with httpx.AsyncClient(headers=admin, timeout=10) as http:
            while watching:
                for server in (a, b):
                    for row in (await http.get(f"{server.base_url}/api/console/agents")).json():
                        worst[row["id"]] = max(worst.get(row["id"], 0), row["active_cases"])
                await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    customers = []

    async def escalate(server: LiveServer) -> None:
        client = await Client.connect(f"{server.ws_url}/ws/chat")
        await client.recv()
        await client.send({"type": "request_human"})
        await client.wait_for(is_type("handoff", status="queued"))
        customers.append(client)

    # Eight customers at once, half on each process: both assigners wake on every one.
    await asyncio.gather(*[escalate(a if i % 2 else b) for i in range(8)])
    cases_url = f"{a.base_url}/api/cases"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while loop.time() < deadline:
        assigned = httpx.get(cases_url, params={"status": "assigned"}, headers=admin).json()
        if len(assigned) >= 3:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # give both processes time to over-assign, if they would
    assigned = httpx.get(cases_url, params={"status": "assigned"}, headers=admin).json()
    per_agent = {aid: sum(1 for c in assigned if c["agent_id"] == aid) for aid in limits}
    assert per_agent == limits, per_agent  # each agent exactly full: 1 and 2
    assert len(httpx.get(cases_url, params={"status": "queued"}, headers=admin).json()) == 5

    # Ada resolves one: the next waiting case goes to her, and nobody goes over.
    mine = next(c for c in assigned if c["agent_id"] == users["admin@parley.local"]["id"])
    await ada.send({"type": "resolve", "case_id": mine["id"], "ref": "r"})
    await ada.wait_for(is_type("ack", ref="r"))
    deadline = loop.time() + 10
    while loop.time() < deadline:
        queued = httpx.get(cases_url, params={"status": "queued"}, headers=admin).json()
        if len(queued) == 4:
            break
        await asyncio.sleep(0.2)
    assert len(queued) == 4
    await asyncio.sleep(1)
    watching = False
    await watcher
    assert all(worst.get(aid, 0) <= cap for aid, cap in limits.items()), (worst, limits)
    assert worst[users["admin@parley.local"]["id"]] == 2 and worst[users["agent@parley.local"]["id"]] == 1
    for client in (*customers, alex, ada):
        await client.close()
