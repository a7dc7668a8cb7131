"""The SQL store, one implementation for SQLite (aiosqlite) and PostgreSQL (asyncpg).

Every write that others may race on is a single transaction with a check inside it: sequence
numbers come from an UPDATE ... RETURNING on the conversation row, and case actions are
conditional updates on a locked row, so two agents claiming one case get exactly one winner on
both engines and across processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from app.storage import tables as t
from app.storage.attachments import AttachmentQueries
from app.storage.editor import EditorQueries
from app.storage.errors import Conflict, NotFound  # noqa: F401  (re-exported: callers import them from here)
from app.storage.console import ConsoleQueries
from app.storage.privacy import PrivacyQueries
from app.storage.quality import QualityQueries
from app.storage.sites import SiteQueries
from app.storage.teams import PRIORITIES, TeamQueries, priority_rank
from app.storage.mappers import _article, _case, _conversation, _event, _user, as_utc, utcnow  # noqa: F401
from app.storage.records import (
    Article, ArticleVersion, Case, Conversation, Event, QueueItem, Site, Transition, User,
)
from handoff.state import Action, InvalidTransition, Owner, transition

# The bot's memory of a conversation, saved with an event: as is, or built from that event's seq.
BotState = dict[str, Any] | Callable[[int], dict[str, Any]]




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


def session_ends_on(changes: dict[str, Any], old_role: str) -> bool:
    """A change of password, role or activity ends the user's sessions: whoever held one must log in again."""
    return ("password_hash" in changes or changes.get("active") is False
            or ("role" in changes and changes["role"] != old_role))


class SqlStore(AttachmentQueries, ConsoleQueries, EditorQueries, PrivacyQueries, QualityQueries, SiteQueries,
               TeamQueries):
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

    # ------------------------------------------------------------------ users and sessions
    async def create_user(self, email: str, name: str, password_hash: str, role: str, capacity: int = 3) -> User:
        async with self.engine.begin() as conn:
            try:
                row = (await conn.execute(
                    t.users.insert().values(email=email.lower(), name=name, password_hash=password_hash, role=role,
                                            active=True, capacity=capacity, created_at=utcnow()).returning(t.users)
                )).one()
            except IntegrityError:
                raise Conflict("exists", f"a user with email {email} already exists") from None
        return _user(row)

    async def update_user(self, user_id: int, **fields: Any) -> User:
        """Change a user. A new password, a new role or deactivation ends every session of the user
        (`session_ends_on` says which changes do)."""
        allowed = {k: v for k, v in fields.items() if k in {"name", "role", "active", "capacity", "password_hash"}}
        async with self.engine.begin() as conn:
            before = (await conn.execute(sa.select(t.users.c.role).where(t.users.c.id == user_id))).first()
            row = (await conn.execute(
                t.users.update().where(t.users.c.id == user_id).values(**allowed).returning(t.users))).first()
            if row is None or before is None:
                raise NotFound(f"user {user_id} not found")
            if session_ends_on(allowed, before.role):
                await conn.execute(t.auth_sessions.delete().where(t.auth_sessions.c.user_id == user_id))
        return _user(row)

    async def delete_user_sessions(self, user_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(t.auth_sessions.delete().where(t.auth_sessions.c.user_id == user_id))

    async def get_user(self, user_id: int) -> User | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.users).where(t.users.c.id == user_id))).first()
        return _user(row) if row else None

    async def get_user_credentials(self, email: str) -> tuple[User, str] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.users).where(t.users.c.email == email.lower()))).first()
        return (_user(row), row.password_hash) if row else None

    async def list_users(self) -> list[User]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.users).order_by(t.users.c.id))).all()
        return [_user(r) for r in rows]

    async def create_session(self, token_hash: str, user_id: int, expires_at: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(t.auth_sessions.insert().values(
                token_hash=token_hash, user_id=user_id, created_at=utcnow(), expires_at=expires_at))

    async def session_user(self, token_hash: str) -> User | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(
                sa.select(t.users).join(t.auth_sessions, t.auth_sessions.c.user_id == t.users.c.id).where(
                    t.auth_sessions.c.token_hash == token_hash, t.auth_sessions.c.expires_at > utcnow(),
                    t.users.c.active.is_(True))
            )).first()
        return _user(row) if row else None

    async def delete_session(self, token_hash: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(t.auth_sessions.delete().where(t.auth_sessions.c.token_hash == token_hash))

    async def count_login_attempts(self, key: str, since: datetime, record: bool = True) -> int:
        """Record a login attempt for `key` and return how many there were since `since`."""
        async with self.engine.begin() as conn:
            await conn.execute(t.login_attempts.delete().where(t.login_attempts.c.created_at < since - timedelta(hours=1)))
            if record:
                await conn.execute(t.login_attempts.insert().values(key=key, created_at=utcnow()))
            return int((await conn.execute(sa.select(sa.func.count()).select_from(t.login_attempts).where(
                t.login_attempts.c.key == key, t.login_attempts.c.created_at >= since))).scalar_one())

    # ------------------------------------------------------------------ presence
    async def set_presence(self, user_id: int, status: str) -> None:
        now = utcnow()
        async with self.engine.begin() as conn:
            updated = await conn.execute(t.presence.update().where(t.presence.c.user_id == user_id).values(
                status=status, last_seen=now))
            if updated.rowcount == 0:
                try:
                    async with conn.begin_nested():
                        await conn.execute(t.presence.insert().values(user_id=user_id, status=status, last_seen=now))
                except IntegrityError:
                    await conn.execute(t.presence.update().where(t.presence.c.user_id == user_id).values(
                        status=status, last_seen=now))

    async def online_agents(self, stale_after: timedelta = timedelta(seconds=60)) -> list[User]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                sa.select(t.users).join(t.presence, t.presence.c.user_id == t.users.c.id).where(
                    t.presence.c.status == "online", t.presence.c.last_seen > utcnow() - stale_after,
                    t.users.c.active.is_(True), t.users.c.role.in_(("agent", "admin")))
            )).all()
        return [_user(r) for r in rows]

    # sites (widget keys) and the audit log: app/storage/sites.py

    # ------------------------------------------------------------------ articles
    async def upsert_article(self, article_id: str, title: str, body: str, category: str | None,
                             questions: list[str], tags: list[str], status: str,
                             author_id: int | None = None) -> tuple[Article, str]:
        """Create or update; returns the article and 'created', 'updated' or 'unchanged'.

        Every change is a new version in `article_versions`.
        """
        now = utcnow()
        fields = dict(title=title, body=body, category=category, questions=questions, tags=tags, status=status)
        async with self.engine.begin() as conn:
            row = (await conn.execute(
                sa.select(t.articles).where(t.articles.c.id == article_id).with_for_update())).first()
            if row is not None and all(getattr(row, k) == v for k, v in fields.items()):
                return _article(row), "unchanged"
            version = (row.version + 1) if row is not None else 1
            if row is None:
                stmt = t.articles.insert().values(id=article_id, version=version, created_at=now, updated_at=now,
                                                  updated_by=author_id, **fields)
            else:
                stmt = t.articles.update().where(t.articles.c.id == article_id).values(
                    version=version, updated_at=now, updated_by=author_id, **fields)
            new = (await conn.execute(stmt.returning(t.articles))).one()
            await conn.execute(t.article_versions.insert().values(
                article_id=article_id, version=version, author_id=author_id, created_at=now, **fields))
        return _article(new), ("created" if row is None else "updated")

    async def get_article(self, article_id: str) -> Article | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.articles).where(t.articles.c.id == article_id))).first()
        return _article(row) if row else None

    async def list_articles(self, status: str | None = None) -> list[Article]:
        query = sa.select(t.articles).order_by(t.articles.c.category, t.articles.c.title)
        if status:
            query = query.where(t.articles.c.status == status)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_article(r) for r in rows]

    async def article_versions(self, article_id: str) -> list[ArticleVersion]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.article_versions).where(
                t.article_versions.c.article_id == article_id).order_by(t.article_versions.c.version))).all()
        return [ArticleVersion(r.article_id, r.version, r.title, r.category, r.body, list(r.questions), list(r.tags),
                               r.status, r.author_id, as_utc(r.created_at)) for r in rows]  # type: ignore[arg-type]

    # ------------------------------------------------------------------ index entries (vectors)
    async def replace_entries(self, article_id: str, model: str, entries: Iterable[tuple[str, int, str]],
                              vectors: np.ndarray) -> int:
        """Store an article's embedded entries (kind, position, text) and log the change."""
        rows = [dict(article_id=article_id, kind=k, position=p, text=txt, model=model,
                     vector=np.asarray(v, dtype=np.float32).tobytes()) for (k, p, txt), v in zip(entries, vectors)]
        async with self.engine.begin() as conn:
            await conn.execute(t.kb_entries.delete().where(t.kb_entries.c.article_id == article_id))
            if rows:
                await conn.execute(t.kb_entries.insert(), rows)
            change = (await conn.execute(t.kb_changes.insert().values(
                article_id=article_id, created_at=utcnow()).returning(t.kb_changes.c.id))).scalar_one()
        return int(change)

    async def delete_entries(self, article_id: str) -> int:
        async with self.engine.begin() as conn:
            await conn.execute(t.kb_entries.delete().where(t.kb_entries.c.article_id == article_id))
            change = (await conn.execute(t.kb_changes.insert().values(
                article_id=article_id, created_at=utcnow()).returning(t.kb_changes.c.id))).scalar_one()
        return int(change)

    async def load_entries(self, model: str, article_ids: list[str] | None = None
                           ) -> dict[str, list[tuple[str, int, str, np.ndarray]]]:
        query = sa.select(t.kb_entries).where(t.kb_entries.c.model == model).order_by(t.kb_entries.c.id)
        if article_ids is not None:
            query = query.where(t.kb_entries.c.article_id.in_(article_ids))
        out: dict[str, list[tuple[str, int, str, np.ndarray]]] = {}
        async with self.engine.connect() as conn:
            for r in (await conn.execute(query)).all():
                out.setdefault(r.article_id, []).append(
                    (r.kind, r.position, r.text, np.frombuffer(r.vector, dtype=np.float32)))
        return out

    async def kb_stamp(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.kb_changes.c.id), 0)))).scalar_one())

    async def kb_changes_since(self, change_id: int) -> list[tuple[int, str]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.kb_changes.c.id, t.kb_changes.c.article_id).where(
                t.kb_changes.c.id > change_id).order_by(t.kb_changes.c.id))).all()
        return [(int(r.id), r.article_id) for r in rows]

    # ------------------------------------------------------------------ conversations and events
    async def create_conversation(self, conversation_id: str, token_hash: str, lang: str, site_key: str | None,
                                  contact: dict[str, Any] | None = None) -> Conversation:
        now = utcnow()
        async with self.engine.begin() as conn:
            row = (await conn.execute(t.conversations.insert().values(
                id=conversation_id, token_hash=token_hash, status=Owner.BOT.value, lang=lang, site_key=site_key,
                contact=contact or {}, last_seq=0, bot_state={}, current_case_id=None, created_at=now, updated_at=now,
            ).returning(t.conversations))).one()
        return _conversation(row)

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.conversations).where(t.conversations.c.id == conversation_id))).first()
        return _conversation(row) if row else None

    async def conversation_by_token(self, token_hash: str) -> Conversation | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.conversations).where(t.conversations.c.token_hash == token_hash))).first()
        return _conversation(row) if row else None

    async def update_conversation(self, conversation_id: str, **fields: Any) -> None:
        allowed = {k: v for k, v in fields.items() if k in {"bot_state", "contact", "lang"}}
        async with self.engine.begin() as conn:
            await conn.execute(t.conversations.update().where(t.conversations.c.id == conversation_id).values(
                updated_at=utcnow(), **allowed))

    async def append_event(self, conversation_id: str, kind: str, sender: str, text: str = "",
                           visibility: str = "public", data: dict[str, Any] | None = None,
                           client_msg_id: str | None = None, bot_state: BotState | None = None,
                           only_if_status: str | None = None) -> tuple[Event, bool]:
        """Store one event with the next seq. Returns (event, created); a repeated client_msg_id
        returns the stored event and False. `bot_state`, when given, is saved in the same transaction: a
        dict, or a function of the new event's seq for state that refers to the event itself.
        `only_if_status`: store it only while the conversation has this owner, else Conflict
        `invalid_state` (a bot reply after an agent joined, on any process, is dropped)."""
        event, created, _ = await self.append_event_returning(
            conversation_id, kind, sender, text, visibility, data, client_msg_id, bot_state, only_if_status)
        return event, created

    async def append_event_returning(self, conversation_id: str, kind: str, sender: str, text: str = "",
                                     visibility: str = "public", data: dict[str, Any] | None = None,
                                     client_msg_id: str | None = None, bot_state: BotState | None = None,
                                     only_if_status: str | None = None) -> tuple[Event, bool, Conversation | None]:
        """`append_event`, also returning the conversation as the append left it (None for a retry).

        One transaction of two statements: the seq UPDATE returns the conversation row, so the hot
        path (a customer message, then the bot's reply) needs no extra reads. A retried client_msg_id
        is caught by the unique index rather than looked up first: retries are rare, messages are not.
        """
        try:
            async with self.engine.begin() as conn:
                event, conv = await self._append(conn, conversation_id, kind, sender, text, visibility, data or {},
                                                 client_msg_id, bot_state, only_if_status)
        except IntegrityError:
            if client_msg_id:  # a retry (or a concurrent one) of a message already stored
                existing = await self._event_by_client_id(conversation_id, client_msg_id, sender)
                if existing:
                    return existing, False, None
            raise
        return event, True, conv

    async def _event_by_client_id(self, conversation_id: str, client_msg_id: str, sender: str) -> Event | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.events).where(
                t.events.c.conversation_id == conversation_id, t.events.c.sender == sender,
                t.events.c.client_msg_id == client_msg_id))).first()
        return _event(row) if row else None

    async def _append(self, conn: AsyncConnection, conversation_id: str, kind: str, sender: str, text: str,
                      visibility: str, data: dict[str, Any], client_msg_id: str | None,
                      bot_state: BotState | None = None, only_if_status: str | None = None
                      ) -> tuple[Event, Conversation]:
        now = utcnow()
        values: dict[str, Any] = {"last_seq": t.conversations.c.last_seq + 1, "updated_at": now}
        if isinstance(bot_state, dict):
            values["bot_state"] = bot_state
        where = t.conversations.c.id == conversation_id
        condition = where if only_if_status is None else sa.and_(where, t.conversations.c.status == only_if_status)
        conv_row = (await conn.execute(t.conversations.update().where(condition).values(**values)
                                       .returning(t.conversations))).first()
        if conv_row is None and only_if_status is not None and (await conn.execute(
                sa.select(t.conversations.c.id).where(where))).first() is not None:
            raise Conflict("invalid_state", f"the conversation is no longer {only_if_status}")
        if conv_row is None:
            raise NotFound(f"conversation {conversation_id} not found")
        if callable(bot_state):  # the state names the event's own seq, known only now
            conv_row = (await conn.execute(t.conversations.update().where(where).values(
                bot_state=bot_state(conv_row.last_seq)).returning(t.conversations))).one()
        row = (await conn.execute(t.events.insert().values(
            conversation_id=conversation_id, seq=conv_row.last_seq, kind=kind, sender=sender, visibility=visibility,
            text=text, data=data, client_msg_id=client_msg_id, created_at=now).returning(t.events))).one()
        return _event(row), _conversation(conv_row)

    async def get_event(self, conversation_id: str, seq: int) -> Event | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.events).where(
                t.events.c.conversation_id == conversation_id, t.events.c.seq == seq))).first()
        return _event(row) if row else None

    async def last_public_seq(self, conversation_id: str) -> int:
        """The seq of the last event a customer can see (internal events also take seqs)."""
        async with self.engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.events.c.seq), 0)).where(
                t.events.c.conversation_id == conversation_id, t.events.c.visibility == "public"))).scalar_one())

    async def events_after(self, conversation_id: str, after_seq: int = 0, include_internal: bool = False,
                           limit: int = 10_000) -> list[Event]:
        query = sa.select(t.events).where(t.events.c.conversation_id == conversation_id, t.events.c.seq > after_seq)
        if not include_internal:
            query = query.where(t.events.c.visibility == "public")
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(t.events.c.seq).limit(limit))).all()
        return [_event(r) for r in rows]

    # ------------------------------------------------------------------ cases: the handoff state machine, stored
    async def _locked_conversation(self, conn: AsyncConnection, conversation_id: str) -> Any:
        row = (await conn.execute(sa.select(t.conversations).where(
            t.conversations.c.id == conversation_id).with_for_update())).first()
        if row is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return row

    async def _locked_case(self, conn: AsyncConnection, case_id: int) -> Any:
        row = (await conn.execute(sa.select(t.cases).where(t.cases.c.id == case_id).with_for_update())).first()
        if row is None:
            raise NotFound(f"case {case_id} not found")
        return row

    async def _set_status(self, conn: AsyncConnection, conversation_id: str, current: str, action: Action,
                          **extra: Any) -> Any:
        try:
            new = transition(current, action)
        except InvalidTransition as exc:
            raise Conflict("invalid_state", str(exc)) from None
        row = (await conn.execute(t.conversations.update().where(
            t.conversations.c.id == conversation_id, t.conversations.c.status == current).values(
            status=new.value, updated_at=utcnow(), **extra).returning(t.conversations))).first()
        if row is None:
            raise Conflict("invalid_state", "the conversation changed; try again")
        return row

    async def escalate(self, conversation_id: str, reason: str, packet: dict[str, Any],
                       render: Callable[[int], tuple[str, dict[str, Any]]]) -> Transition:
        """Open a case and queue the conversation. `render(position)` gives the event's text and data.
        The first matching routing rule (app/storage/teams.py) sets the case's team."""
        now = utcnow()
        async with self.engine.begin() as conn:
            conv = await self._locked_conversation(conn, conversation_id)
            team_id = await self.route_team(conv.site_key, conv.lang, reason, conn)
            case_id = (await conn.execute(t.cases.insert().values(
                conversation_id=conversation_id, status="queued", reason=reason, packet=packet, created_at=now,
                queued_at=now, team_id=team_id, priority="normal", tags=[]).returning(t.cases.c.id))).scalar_one()
            conv = await self._set_status(conn, conversation_id, conv.status, Action.ESCALATE, current_case_id=case_id)
            ahead = (await conn.execute(sa.select(sa.func.count()).select_from(t.cases).where(  # a new case is normal
                t.cases.c.status == "queued", t.cases.c.id < case_id, t.cases.c.priority != "low"))).scalar_one()
            text, data = render(int(ahead) + 1)
            event, after = await self._append(conn, conversation_id, "handoff", "system", text, "public",
                                              {**data, "status": "queued", "reason": reason, "case_id": case_id}, None)
            case = (await conn.execute(sa.select(t.cases).where(t.cases.c.id == case_id))).one()
        return Transition(_case(case), event, after)

    async def case_action(self, case_id: int, action: Action, *, actor_id: int | None, text: str,
                          data: dict[str, Any], target_agent_id: int | None = None,
                          require_owner: bool = True, target_team_id: int | None = None) -> Transition:
        """claim, release, transfer, resolve or hand_back one case, atomically with its event.
        A release with `target_team_id` is a transfer to a team: back in the queue, for that team."""
        now = utcnow()
        async with self.engine.begin() as conn:
            case = await self._locked_case(conn, case_id)
            conv = await self._locked_conversation(conn, case.conversation_id)
            if conv.current_case_id != case.id or case.status not in ("queued", "assigned"):
                raise Conflict("invalid_state", f"case {case_id} is {case.status}")
            if action is Action.CLAIM and case.status != "queued":
                raise Conflict("already_claimed", f"case {case_id} was already claimed")
            try:  # an open case's status is its conversation's owner: one machine (handoff/state.py)
                new = transition(case.status, action).value
            except InvalidTransition as exc:
                raise Conflict("invalid_state", f"case {case_id}: {exc}") from None
            if action is Action.CLAIM:
                assert actor_id is not None
                await self._check_capacity(conn, actor_id)
                values: dict[str, Any] = dict(status=new, agent_id=actor_id, assigned_at=now)
            else:
                if case.status == "assigned" and require_owner and case.agent_id != actor_id:
                    raise Conflict("not_owner", f"case {case_id} is assigned to another agent")
                values = {
                    Action.RELEASE: dict(status=new, agent_id=None, assigned_at=None),
                    Action.TRANSFER: dict(status=new, agent_id=target_agent_id, assigned_at=now),
                    Action.RESOLVE: dict(status=new, resolved_at=now),
                    Action.HAND_BACK: dict(status=new, resolved_at=now),
                }[action]
            if target_team_id is not None:
                if action is not Action.RELEASE:
                    raise Conflict("invalid_state", "only a release moves a case to a team")
                if (await conn.execute(sa.select(t.teams.c.id).where(t.teams.c.id == target_team_id))).first() is None:
                    raise NotFound(f"team {target_team_id} not found")
                values["team_id"] = target_team_id
            where = [t.cases.c.id == case_id, t.cases.c.status == case.status]
            if action is Action.CLAIM:  # the capacity check again, in the write itself
                where.append(self._under_capacity(actor_id))  # type: ignore[arg-type]
            updated = await conn.execute(t.cases.update().where(*where).values(**values))
            if updated.rowcount != 1:
                if action is Action.CLAIM:
                    await self._check_capacity(conn, actor_id)  # type: ignore[arg-type]
                raise Conflict("already_claimed" if action is Action.CLAIM else "invalid_state", "the case changed")
            conv = await self._set_status(conn, case.conversation_id, conv.status, action)
            event, after = await self._append(conn, case.conversation_id, "handoff", "system", text, "public",
                                              {**data, "case_id": case_id}, None)
            row = (await conn.execute(sa.select(t.cases).where(t.cases.c.id == case_id))).one()
        return Transition(_case(row), event, after)

    # ------------------------------------------------------------------ capacity: checked where the write happens
    @staticmethod
    def _under_capacity(agent_id: int) -> Any:
        """True while the agent has fewer assigned cases than their capacity: part of the very
        statement that assigns a case, so no read-then-write gap is left on SQLite."""
        assigned = sa.select(sa.func.count()).select_from(t.cases).where(
            t.cases.c.agent_id == agent_id, t.cases.c.status == "assigned").scalar_subquery()
        capacity = sa.select(t.users.c.capacity).where(t.users.c.id == agent_id).scalar_subquery()
        return assigned < capacity

    async def _check_capacity(self, conn: AsyncConnection, agent_id: int) -> None:
        """Lock the agent's row (PostgreSQL: concurrent assignments to one agent, from any process,
        queue here and each then counts the others' committed cases; SQLite has one writer) and
        refuse with `at_capacity` when the agent already has `capacity` assigned cases."""
        agent = (await conn.execute(sa.select(t.users.c.capacity).where(
            t.users.c.id == agent_id).with_for_update())).first()
        if agent is None:
            raise NotFound(f"user {agent_id} not found")
        assigned = int((await conn.execute(sa.select(sa.func.count()).select_from(t.cases).where(
            t.cases.c.agent_id == agent_id, t.cases.c.status == "assigned"))).scalar_one())
        if assigned >= agent.capacity:
            raise Conflict("at_capacity", f"you already have {assigned} open chat{'' if assigned == 1 else 's'} "
                                          f"(your capacity is {agent.capacity}); resolve one first")

    async def take_over(self, conversation_id: str, agent_id: int, packet: dict[str, Any], text: str,
                        data: dict[str, Any]) -> Transition:
        """An agent joins a conversation the bot is handling: a case is opened already assigned to
        the agent, in one transaction that also checks the bot still owns it and the agent's capacity."""
        now = utcnow()
        async with self.engine.begin() as conn:
            conv = await self._locked_conversation(conn, conversation_id)
            if conv.status != Owner.BOT.value:
                raise Conflict("invalid_state", f"the conversation is {conv.status}, not with the bot")
            await self._check_capacity(conn, agent_id)
            case_id = (await conn.execute(t.cases.insert().values(
                conversation_id=conversation_id, status="assigned", reason=packet["reason"], agent_id=agent_id,
                packet=packet, created_at=now, queued_at=now, assigned_at=now, priority="normal",
                tags=[]).returning(t.cases.c.id))).scalar_one()
            await self._set_status(conn, conversation_id, conv.status, Action.TAKE_OVER, current_case_id=case_id)
            event, after = await self._append(conn, conversation_id, "handoff", "system", text, "public",
                                              {**data, "status": "assigned", "reason": packet["reason"],
                                               "case_id": case_id}, None)
            case = (await conn.execute(sa.select(t.cases).where(t.cases.c.id == case_id))).one()
        return Transition(_case(case), event, after)

    async def reopen(self, conversation_id: str) -> Conversation | None:
        """A customer wrote after their case was resolved: the bot owns the conversation again."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(t.conversations.update().where(
                t.conversations.c.id == conversation_id, t.conversations.c.status == Owner.RESOLVED.value).values(
                status=transition(Owner.RESOLVED, Action.REOPEN).value, updated_at=utcnow())
                .returning(t.conversations))).first()
        return _conversation(row) if row else None

    async def mark_first_reply(self, case_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(t.cases.update().where(t.cases.c.id == case_id, t.cases.c.first_reply_at.is_(None)).values(
                first_reply_at=utcnow()))

    async def update_case(self, case_id: int, **fields: Any) -> None:
        allowed = {k: v for k, v in fields.items() if k in {"rating", "rating_comment", "contact_email", "packet"}}
        async with self.engine.begin() as conn:
            await conn.execute(t.cases.update().where(t.cases.c.id == case_id).values(**allowed))

    async def get_case(self, case_id: int) -> Case | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.cases).where(t.cases.c.id == case_id))).first()
        return _case(row) if row else None

    async def last_case(self, conversation_id: str) -> Case | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.cases).where(t.cases.c.conversation_id == conversation_id).order_by(
                t.cases.c.id.desc()).limit(1))).first()
        return _case(row) if row else None

    async def list_cases(self, status: str | None = None, agent_id: int | None = None, limit: int = 200) -> list[Case]:
        query = sa.select(t.cases).order_by(t.cases.c.id.desc()).limit(limit)
        if status:
            query = query.where(t.cases.c.status == status)
        if agent_id is not None:
            query = query.where(t.cases.c.agent_id == agent_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_case(r) for r in rows]

    async def queue(self) -> list[QueueItem]:
        """Waiting cases, most urgent first and then oldest first, with each one's 1-based position,
        last customer message and team name."""
        last_message = (sa.select(t.events.c.text).where(
            t.events.c.conversation_id == t.cases.c.conversation_id, t.events.c.sender == "customer",
            t.events.c.kind == "message").order_by(t.events.c.seq.desc()).limit(1)
            .correlate(t.cases).scalar_subquery().label("last_message"))
        async with self.engine.connect() as conn:  # one query however long the queue is
            rows = (await conn.execute(sa.select(t.cases, t.conversations.c.contact, last_message,
                                                 t.teams.c.name.label("team_name")).join(
                t.conversations, t.conversations.c.id == t.cases.c.conversation_id).outerjoin(
                t.teams, t.teams.c.id == t.cases.c.team_id).where(
                t.cases.c.status == "queued").order_by(priority_rank(), t.cases.c.queued_at, t.cases.c.id))).all()
        return [QueueItem(_case(row), position, row.last_message or "", dict(row.contact), row.team_name)
                for position, row in enumerate(rows, start=1)]

    async def queue_position(self, case_id: int) -> int | None:
        async with self.engine.connect() as conn:
            case = (await conn.execute(sa.select(t.cases).where(t.cases.c.id == case_id))).first()
            if case is None or case.status != "queued":
                return None
            rank, mine = priority_rank(), PRIORITIES.index(case.priority) if case.priority in PRIORITIES else 2
            ahead = (await conn.execute(sa.select(sa.func.count()).select_from(t.cases).where(
                t.cases.c.status == "queued",
                sa.or_(rank < mine, sa.and_(rank == mine, sa.or_(
                    t.cases.c.queued_at < case.queued_at,
                    sa.and_(t.cases.c.queued_at == case.queued_at, t.cases.c.id < case.id))))))).scalar_one()
        return int(ahead) + 1

    async def active_cases_by_agent(self) -> dict[int, int]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.cases.c.agent_id, sa.func.count()).where(
                t.cases.c.status == "assigned").group_by(t.cases.c.agent_id))).all()
        return {int(r[0]): int(r[1]) for r in rows if r[0] is not None}
