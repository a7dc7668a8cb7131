"""Backends for the contract suites: every Store and Broker implementation runs the same tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.realtime.memory import MemoryBroker
from app.realtime.redis import RedisBroker
from app.storage.migrations import upgrade_database
from app.storage.sql import SqlStore
from tests.conftest import POSTGRES_URL, REDIS_URL


async def fresh_postgres_url() -> tuple[str, str]:
    """A new, empty database on the test PostgreSQL server, so parallel runs never collide."""
    name = "parley_t_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name, name


async def drop_postgres(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[SqlStore]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/contract.db"
        await upgrade_database(url)
        s = SqlStore.from_url(url)
        yield s
        await s.close()
    else:
        url, name = await fresh_postgres_url()
        await upgrade_database(url)
        s = SqlStore.from_url(url)
        yield s
        await s.close()
        await drop_postgres(name)


@pytest.fixture(params=["memory", "redis"])
async def broker_pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[object, object]]:
    """Two brokers that stand for two server processes (the same object for in-process)."""
    if request.param == "memory":
        b = MemoryBroker()
        yield b, b
        return
    a, b = RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()
