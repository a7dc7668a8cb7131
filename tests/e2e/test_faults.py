"""Durability under faults: two server processes, 50 customers and 5 agents chatting at a steady rate.

Each scenario injects one fault mid-run (kill -9 of a server process, a Redis restart, a
PostgreSQL restart) against a PostgreSQL cluster and a Redis server of the test's own, then
checks every client's log against the events table: no acknowledged message lost, none stored
twice, every conversation delivered in seq order exactly once, and every client back (connected
and its messages acknowledged) within 5 s of the fault ending.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.auth import hash_password
from app.storage.sql import SqlStore
from tests.harness import LiveServer, run_cli, server_env
from tests.loadsim import SimAgent, SimCustomer
from tests.own_services import OwnPostgres, OwnRedis

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.serial]  # timed: make test runs it alone

CUSTOMERS = 50
AGENTS = 5
RECOVERY_SECONDS = 5.0  # every client has a live session again within this after the fault ends
ACK_SECONDS = float(os.environ.get("PARLEY_FAULT_ACK_SECONDS", "5"))  # ...and its messages acknowledged
PASSWORD = "fault-test-password"


@dataclass
class Cluster:
    a: LiveServer
    b: LiveServer
    pg: OwnPostgres
    redis: OwnRedis

    @property
    def urls(self) -> list[str]:
        return [self.a.base_url, self.b.base_url]


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    pg, redis = OwnPostgres().init(), OwnRedis()
    await asyncio.to_thread(pg.start)
    redis.start()
    env = {"PARLEY_DATABASE_URL": pg.url, "PARLEY_REDIS_URL": redis.url,
           "PARLEY_REDIS_PREFIX": f"parley-faults-{uuid.uuid4().hex[:8]}:", "PARLEY_MESSAGES_PER_MINUTE": "600",
           # Durability is the subject here, not answer quality: the tiny hashing embedder keeps
           # seeding and (re)starts fast on a busy 2-core box. tests/e2e/test_core_loop.py runs MiniLM.
           "PARLEY_EMBEDDING_MODEL": "hashing"}
    a = b = None
    try:
        seeded = await asyncio.to_thread(run_cli, ["demo"], server_env(tmp_path_factory.mktemp("seed"), **env))
        assert seeded.returncode == 0, seeded.stderr[-2000:]
        store = SqlStore.from_url(pg.url)
        secret = hash_password(PASSWORD)
        for i in range(AGENTS):
            await store.create_user(f"agent{i}@faults.local", f"Agent {i}", secret, "agent", capacity=5)
        await store.close()
        a = LiveServer(tmp_path_factory.mktemp("proc-a"), **env)
        b = LiveServer(tmp_path_factory.mktemp("proc-b"), **env)
        await asyncio.gather(asyncio.to_thread(a.start), asyncio.to_thread(b.start))
        yield Cluster(a, b, pg, redis)
    finally:
        for server in (a, b):
            if server is not None:
                server.stop()
        redis.destroy()
        pg.destroy()


async def run_scenario(cluster: Cluster, fault: Callable[[], Awaitable[None]], before: float = 4.0,
                       after: float = 7.0) -> tuple[list[SimCustomer], list[SimAgent], float]:
    """Chat at a steady rate, inject `fault`, keep chatting, drain; returns the clients and when the fault ended."""
    urls = cluster.urls
    customers = [SimCustomer(f"c{i}-{uuid.uuid4().hex[:4]}", urls if i % 2 == 0 else urls[::-1], interval=2.0,
                             wants_human=i % 5 == 0) for i in range(CUSTOMERS)]
    agents = [SimAgent(f"a{i}", urls if i % 2 == 0 else urls[::-1], f"agent{i}@faults.local", PASSWORD,
                       interval=1.0) for i in range(AGENTS)]
    await asyncio.gather(*(agent.login(agent.urls[0]) for agent in agents))  # slow on purpose (password hash)
    stop, sending = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(c.run(stop, sending)) for c in [*customers, *agents]]
    sending.set()
    await asyncio.sleep(before)
    await fault()
    fault_ended = time.monotonic()
    await asyncio.sleep(after)
    sending.clear()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(c.unacknowledged for c in [*customers, *agents]):
        await asyncio.sleep(0.2)
    await asyncio.sleep(2.0)  # the bot's answers to the last messages, and agents' last events
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    return customers, agents, fault_ended


async def check_against_database(cluster: Cluster, customers: list[SimCustomer], agents: list[SimAgent],
                                 fault_ended: float) -> None:
    store = SqlStore.from_url(cluster.pg.url)
    problems: list[str] = []
    try:
        for c in customers:
            assert c.conversation_id, f"{c.name} never got a session"
            events = await store.events_after(c.conversation_id, 0, include_internal=True)
            by_seq = {e.seq: e for e in events}
            assert sorted(by_seq) == list(range(1, len(events) + 1)), f"{c.name}: seq gaps in the store"
            if c.pending:
                problems.append(f"{c.name}: never acknowledged {sorted(c.pending)} ({c.log.connects} connects, "
                                f"errors {c.log.errors[-2:]})")
            for cmid, seq in c.acked.items():
                stored = by_seq.get(seq)
                if stored is None or stored.client_msg_id != cmid or stored.text != c.texts[cmid]:
                    problems.append(f"{c.name}: acknowledged {cmid} as seq {seq} but the store has {stored}")
            customer_texts = [e.text for e in events if e.sender == "customer" and e.kind == "message"]
            if len(customer_texts) != len(set(customer_texts)):
                problems.append(f"{c.name}: a customer message is stored twice")
            seqs = [s for s, _, _ in c.received]
            if seqs != sorted(set(seqs)):
                problems.append(f"{c.name}: delivered out of order or twice: {seqs}")
            public = [e.seq for e in events if e.visibility == "public"]
            if sorted(set(seqs)) != public:
                problems.append(f"{c.name}: received {sorted(set(seqs))} but the store has public {public}")
            for seq, sender, text in c.received:
                if by_seq.get(seq) is None or by_seq[seq].text != text:
                    problems.append(f"{c.name}: seq {seq} arrived as {text!r}, stored as {by_seq.get(seq)}")
        for agent in agents:
            if agent.pending:
                problems.append(f"{agent.name}: never acknowledged {sorted(agent.pending)}")
            for cmid, (conv_id, seq) in agent.acked.items():
                stored = await store.get_event(conv_id, seq)
                if stored is None or stored.client_msg_id != cmid:
                    problems.append(f"{agent.name}: acknowledged {cmid} as {conv_id}#{seq}, store has {stored}")
            for conv_id, seqs in agent.received.items():
                stored_seqs = [e.seq for e in await store.events_after(conv_id, 0, include_internal=True)]
                if seqs != sorted(set(seqs)) or seqs != stored_seqs:
                    problems.append(f"{agent.name}: {conv_id} received {seqs}, stored {stored_seqs}")
        for client in [*customers, *agents]:
            for outage in client.log.outages:
                if outage.ended is None:
                    problems.append(f"{client.name}: never came back after losing its socket")
                elif outage.ended - max(outage.started, fault_ended) > RECOVERY_SECONDS:
                    problems.append(f"{client.name}: back {outage.ended - outage.started:.1f}s after losing its socket")
            for cmid, acked_at in client.acked_at.items():
                waited = acked_at - max(client.first_sent[cmid], fault_ended)
                if waited > ACK_SECONDS:
                    problems.append(f"{client.name}: {cmid} acknowledged {waited:.1f}s after the fault ended")
    finally:
        await store.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:30])
    claimed = sum(len(a.cases) for a in agents)
    assert claimed >= AGENTS, f"only {claimed} cases were claimed: the agents had nothing to do"
    assert sum(len(a.acked) for a in agents) >= AGENTS, "the agents never talked"
    assert sum(len(c.acked) for c in customers) >= CUSTOMERS * 4, "the customers barely talked"


async def test_kill_9_of_one_process_loses_and_duplicates_nothing(cluster: Cluster) -> None:
    restarted: list[asyncio.Task[LiveServer]] = []

    async def kill_a() -> None:
        cluster.a.stop(kill=True)
        restarted.append(asyncio.create_task(asyncio.to_thread(cluster.a.start)))

    customers, agents, ended = await run_scenario(cluster, kill_a)
    await restarted[0]
    moved = [c for c in [*customers, *agents] if c.log.outages]
    assert len(moved) >= CUSTOMERS // 2, "the customers of the killed process should have moved over"
    await check_against_database(cluster, customers, agents, ended)


async def test_redis_restart_mid_run_loses_and_duplicates_nothing(cluster: Cluster) -> None:
    async def restart_redis() -> None:
        await asyncio.to_thread(cluster.redis.stop)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(cluster.redis.start)

    customers, agents, ended = await run_scenario(cluster, restart_redis)
    await check_against_database(cluster, customers, agents, ended)


async def test_postgres_restart_mid_run_loses_and_duplicates_nothing(cluster: Cluster) -> None:
    async def restart_postgres() -> None:
        await asyncio.to_thread(cluster.pg.stop)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(cluster.pg.start)

    customers, agents, ended = await run_scenario(cluster, restart_postgres)
    for server in (cluster.a, cluster.b):
        assert server.proc is not None and server.proc.poll() is None, "a server died with its database"
    await check_against_database(cluster, customers, agents, ended)
