"""WAL checkpoints off the serving connection (SQLite only).

SQLite's automatic checkpoint runs inside whichever commit grows the write-ahead log past 1,000
pages: that commit copies the log into the database file and fsyncs it. The server keeps one pooled
connection (SQLite has one writer), so every query of every conversation waits behind that commit:
under 200 chatting customers on this 2-core box it happened every 8 s and held replies 100–200 ms
(`bench/load.py chat`, p95 132 → 71 ms with it moved). The serving engine therefore turns the
automatic checkpoint off (`make_engine(..., autocheckpoint=False)`) and this job checkpoints from a
connection of its own in a worker thread. A PASSIVE checkpoint never waits for, nor blocks, the
writer; the log is rewound by the next commit once it has all been copied.

Other commands (import, migrations, the CLI) keep SQLite's automatic checkpoint: they have no
checkpointer and nobody waiting on them.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

from app.tasks import cancel

log = logging.getLogger("parley")

# Each round that finds the log written since the last one checkpoints it (one fsync of the database
# file); a quiet desk costs nothing.
INTERVAL_SECONDS = 1.0


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory ones."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


class WalCheckpointer:
    def __init__(self, path: Path, interval: float = INTERVAL_SECONDS) -> None:
        self.path = path
        self.wal = path.with_name(path.name + "-wal")
        self.interval = interval
        self.checkpoints = 0
        self._task: asyncio.Task[None] | None = None
        self._conn: sqlite3.Connection | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="sqlite-checkpoint")

    async def stop(self) -> None:
        await cancel(self._task)
        try:  # the last word: whatever is in the log goes into the database file
            await asyncio.to_thread(self.checkpoint)
        except Exception:
            log.exception("final SQLite checkpoint failed")
        finally:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()

    def wal_written(self) -> tuple[int, int] | None:
        """When the log was last written and its size; None when there is none. A checkpoint does not
        shrink the log (the next commit rewinds it), so its modification time says whether there is news."""
        try:
            st = self.wal.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def checkpoint(self) -> tuple[int, int, int]:
        """(busy, log frames, frames copied), as `PRAGMA wal_checkpoint` reports them. Runs in a thread."""
        if self._conn is None:
            # check_same_thread off: each call runs in some worker thread, one call at a time
            self._conn = sqlite3.connect(self.path, timeout=1, check_same_thread=False, isolation_level=None)
        busy, frames, copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        return int(busy), int(frames), int(copied)

    async def _loop(self) -> None:
        seen: tuple[int, int] | None = None
        while True:
            await asyncio.sleep(self.interval)
            written = self.wal_written()
            if written is None or written == seen:
                continue
            try:
                await asyncio.to_thread(self.checkpoint)
                seen = written
            except sqlite3.Error:
                log.warning("SQLite checkpoint failed; retrying in %.0f s", self.interval, exc_info=True)
