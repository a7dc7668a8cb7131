"""app.storage.checkpoint: a serving engine leaves WAL checkpoints to the job, and the job does them."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.checkpoint import WalCheckpointer, sqlite_path
from app.storage.sql import make_engine

ROW = "x" * 3000  # about one 4 KiB page a row


async def write_rows(engine: AsyncEngine, rows: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)"))
    for start in range(0, rows, 100):  # many commits, as a desk makes them
        async with engine.begin() as conn:
            await conn.execute(sa.text("INSERT INTO t (body) VALUES (:b)"), [{"b": ROW}] * min(100, rows - start))


def test_sqlite_path() -> None:
    assert sqlite_path("sqlite+aiosqlite:////data/parley.db") == Path("/data/parley.db")
    assert sqlite_path("sqlite+aiosqlite:///rel/p.db?mode=rwc") == Path("rel/p.db")
    assert sqlite_path("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_path("postgresql+asyncpg://u@h/db") is None


async def log_after_writing(path: Path, autocheckpoint: bool) -> tuple[int, int, int]:
    engine = make_engine(f"sqlite+aiosqlite:///{path}", autocheckpoint)
    try:
        await write_rows(engine, 1500)
        return WalCheckpointer(path).checkpoint()  # while the engine is open: closing it checkpoints
    finally:
        await engine.dispose()


async def test_the_serving_engine_never_checkpoints_in_a_commit(tmp_path: Path) -> None:
    busy, frames, copied = await log_after_writing(tmp_path / "a.db", autocheckpoint=False)
    # 1,500 pages in the log, none copied before: SQLite's own checkpoint would have run at 1,000
    assert busy == 0 and frames >= 1500 and copied == frames


async def test_sqlites_own_checkpoint_still_runs_for_commands(tmp_path: Path) -> None:
    _busy, frames, _copied = await log_after_writing(tmp_path / "b.db", autocheckpoint=True)
    assert frames < 1500  # the log was rewound after an automatic checkpoint


async def test_the_job_checkpoints_what_was_written_and_idles_when_nothing_was(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}", autocheckpoint=False)
    job = WalCheckpointer(path, interval=0.05)
    job.start()
    try:
        await write_rows(engine, 300)
        for _ in range(100):
            if job.checkpoints:
                break
            await asyncio.sleep(0.05)
        assert job.checkpoints >= 1
        await asyncio.sleep(0.3)  # the log is unchanged since: no more rounds do any work
        settled = job.checkpoints
        await asyncio.sleep(0.3)
        assert job.checkpoints == settled
        _busy, frames, copied = job.checkpoint()
        assert copied == frames  # everything written is in the database file
    finally:
        await job.stop()
        await engine.dispose()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM t").fetchone() == (300,)
