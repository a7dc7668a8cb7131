"""The SQL store, one implementation for SQLite (aiosqlite) and PostgreSQL (asyncpg).

Every write that others may race on is a single transaction with a check inside it: sequence
numbers come from an UPDATE ... RETURNING on the conversation row, and case actions are
conditional updates on a locked row, so two agents claiming one case get exactly one winner on
both engines and across processes.

`SqlStore` is the composition: the engine, its connections and the schema here, and one mixin
module per aggregate: users and sessions (users.py), articles and their index entries
(articles.py), conversations and events (conversations.py), cases (cases.py), then attachments,
console, editor, privacy, quality, sites (with the audit log) and teams.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.storage import tables as t
from app.storage.articles import ArticleQueries
from app.storage.attachments import AttachmentQueries
from app.storage.cases import CaseQueries
from app.storage.console import ConsoleQueries
from app.storage.conversations import BotState, ConversationQueries  # noqa: F401  (BotState re-exported)
from app.storage.editor import EditorQueries
from app.storage.errors import Conflict, NotFound  # noqa: F401  (re-exported: callers import them from here)
from app.storage.mappers import _article, _case, _conversation, _event, _user, as_utc, utcnow  # noqa: F401
from app.storage.privacy import PrivacyQueries
from app.storage.quality import QualityQueries
from app.storage.sites import SiteQueries
from app.storage.teams import TeamQueries
from app.storage.users import UserQueries, session_ends_on  # noqa: F401  (session_ends_on re-exported)


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection: SQLite has one writer, and serialising here avoids "database is locked".
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)

        @sa_event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_recycle=1800)


# A mixin that only declares a method of another (CaseQueries: `_append`, `route_team`) comes after it.
class SqlStore(UserQueries, ArticleQueries, ConversationQueries, AttachmentQueries, ConsoleQueries, EditorQueries,
               PrivacyQueries, QualityQueries, SiteQueries, TeamQueries, CaseQueries):
    """The Store protocol (app.storage.base.Store) over SQLAlchemy Core."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @classmethod
    def from_url(cls, url: str) -> "SqlStore":
        return cls(make_engine(url))

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
        return True

    async def create_schema(self) -> None:
        """For tests only: create tables directly. Servers use Alembic (`parley db upgrade`)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(t.metadata.create_all)
