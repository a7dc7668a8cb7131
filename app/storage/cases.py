"""Store queries for cases: the handoff state machine (handoff/state.py), stored; the cases aggregate.

A mixin that `SqlStore` (app/storage/sql.py) inherits. Case actions are conditional updates on a
locked row, each in one transaction with its conversation's status and its handoff event, so two
agents claiming one case get exactly one winner on both engines and across processes; an agent's
capacity is checked in the write that assigns a case. Also the queue and its positions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.storage import tables as t
from app.storage.errors import Conflict, NotFound
from app.storage.mappers import _case, _conversation, utcnow
from app.storage.records import Case, Conversation, Event, QueueItem, Transition
from app.storage.teams import PRIORITIES, priority_rank
from handoff.state import Action, InvalidTransition, Owner, transition


class CaseQueries:
    engine: AsyncEngine
    # SqlStore's event append inside a caller's transaction (app/storage/conversations.py)
    _append: Callable[..., Awaitable[tuple[Event, Conversation]]]
    # the routing rules, read inside escalate's transaction (app/storage/teams.py)
    route_team: Callable[..., Awaitable[int | None]]

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
