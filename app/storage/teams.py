"""Store queries for teams, their members, routing rules, and a case's team, priority and tags.

A mixin that `SqlStore` inherits. Admin changes and their audit entry are written in one
transaction (as for sites). `route_team` is also called inside `SqlStore.escalate`'s transaction,
so a new case gets its team in the same write that queues it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.storage import tables as t
from app.storage.errors import Conflict, NotFound
from app.storage.mappers import as_utc
from app.storage.records import RoutingRule, Team
from app.storage.sites import Audit, write_audit

PRIORITIES = ("urgent", "high", "normal", "low")  # queue order: first to last


def priority_rank() -> Any:
    """0 for urgent .. 3 for low: the queue sorts on it before age."""
    return sa.case({p: i for i, p in enumerate(PRIORITIES)}, value=t.cases.c.priority, else_=len(PRIORITIES))


def _rule(row: Any) -> RoutingRule:
    return RoutingRule(row.id, row.position, row.team_id, row.site_key, row.language, row.reason)


class TeamQueries:
    engine: AsyncEngine

    async def list_teams(self) -> list[Team]:
        async with self.engine.connect() as conn:
            teams = (await conn.execute(sa.select(t.teams).order_by(t.teams.c.name))).all()
            members = (await conn.execute(sa.select(t.team_members).order_by(t.team_members.c.user_id))).all()
        by_team: dict[int, list[int]] = {}
        for m in members:
            by_team.setdefault(m.team_id, []).append(m.user_id)
        return [Team(r.id, r.name, as_utc(r.created_at), by_team.get(r.id, [])) for r in teams]  # type: ignore[arg-type]

    async def get_team(self, team_id: int) -> Team | None:
        return next((team for team in await self.list_teams() if team.id == team_id), None)

    async def create_team(self, name: str, who: Audit) -> Team | None:
        """None when the name is taken."""
        async with self.engine.begin() as conn:
            try:
                async with conn.begin_nested():
                    team_id = (await conn.execute(t.teams.insert().values(
                        name=name, created_at=datetime.now(timezone.utc)).returning(t.teams.c.id))).scalar_one()
            except IntegrityError:
                return None
            await write_audit(conn, who, "team.created", f"team:{team_id}", {"name": name})
        return await self.get_team(int(team_id))

    async def update_team(self, team_id: int, who: Audit, name: str | None = None,
                          member_ids: list[int] | None = None) -> Team | None:
        """Rename and/or replace the members. None when there is no such team; a taken name
        raises Conflict, an unknown user id NotFound."""
        async with self.engine.begin() as conn:
            if (await conn.execute(sa.select(t.teams.c.id).where(t.teams.c.id == team_id))).first() is None:
                return None
            detail: dict[str, Any] = {}
            if name is not None:
                try:
                    async with conn.begin_nested():
                        await conn.execute(t.teams.update().where(t.teams.c.id == team_id).values(name=name))
                except IntegrityError:
                    raise Conflict("conflict", f"a team named {name!r} already exists") from None
                detail["name"] = name
            if member_ids is not None:
                ids = sorted(set(member_ids))
                known = set((await conn.execute(sa.select(t.users.c.id).where(t.users.c.id.in_(ids)))).scalars())
                if missing := [i for i in ids if i not in known]:
                    raise NotFound(f"no user {missing[0]}")
                await conn.execute(t.team_members.delete().where(t.team_members.c.team_id == team_id))
                if ids:
                    await conn.execute(t.team_members.insert(), [dict(team_id=team_id, user_id=i) for i in ids])
                detail["member_ids"] = ids
            await write_audit(conn, who, "team.updated", f"team:{team_id}", detail)
        return await self.get_team(team_id)

    async def delete_team(self, team_id: int, who: Audit) -> bool:
        """Its cases keep no team (SET NULL); its rules go with it."""
        async with self.engine.begin() as conn:
            await conn.execute(t.routing_rules.delete().where(t.routing_rules.c.team_id == team_id))
            await conn.execute(t.team_members.delete().where(t.team_members.c.team_id == team_id))
            await conn.execute(t.cases.update().where(t.cases.c.team_id == team_id).values(team_id=None))
            gone = (await conn.execute(t.teams.delete().where(t.teams.c.id == team_id))).rowcount
            if gone:
                await write_audit(conn, who, "team.deleted", f"team:{team_id}", {})
        return bool(gone)

    # ------------------------------------------------------------------ routing rules
    async def list_routing_rules(self) -> list[RoutingRule]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.routing_rules).order_by(
                t.routing_rules.c.position, t.routing_rules.c.id))).all()
        return [_rule(r) for r in rows]

    async def create_routing_rule(self, team_id: int, who: Audit, position: int | None = None,
                                  site_key: str | None = None, language: str | None = None,
                                  reason: str | None = None) -> RoutingRule | None:
        """None when there is no such team. Without a position the rule goes last."""
        async with self.engine.begin() as conn:
            if (await conn.execute(sa.select(t.teams.c.id).where(t.teams.c.id == team_id))).first() is None:
                return None
            if position is None:
                position = int((await conn.execute(sa.select(sa.func.coalesce(
                    sa.func.max(t.routing_rules.c.position), 0)))).scalar_one()) + 1
            row = (await conn.execute(t.routing_rules.insert().values(
                position=position, team_id=team_id, site_key=site_key, language=language, reason=reason,
                created_at=datetime.now(timezone.utc)).returning(t.routing_rules))).one()
            await write_audit(conn, who, "routing_rule.created", f"routing_rule:{row.id}",
                              dict(team_id=team_id, position=position, site_key=site_key, language=language,
                                   reason=reason))
        return _rule(row)

    async def delete_routing_rule(self, rule_id: int, who: Audit) -> bool:
        async with self.engine.begin() as conn:
            gone = (await conn.execute(t.routing_rules.delete().where(t.routing_rules.c.id == rule_id))).rowcount
            if gone:
                await write_audit(conn, who, "routing_rule.deleted", f"routing_rule:{rule_id}", {})
        return bool(gone)

    async def route_team(self, site_key: str | None, language: str | None, reason: str,
                         conn: AsyncConnection | None = None) -> int | None:
        """The team of the first rule by position whose set fields all match, or None."""
        r = t.routing_rules
        query = sa.select(r.c.team_id).where(
            sa.or_(r.c.site_key.is_(None), r.c.site_key == site_key),
            sa.or_(r.c.language.is_(None), r.c.language == (language or "").split("-")[0].lower()),
            sa.or_(r.c.reason.is_(None), r.c.reason == reason)).order_by(r.c.position, r.c.id).limit(1)
        if conn is not None:
            return (await conn.execute(query)).scalar_one_or_none()
        async with self.engine.connect() as own:
            return (await own.execute(query)).scalar_one_or_none()

    # ------------------------------------------------------------------ a case's labels
    async def label_case(self, case_id: int, priority: str | None = None, tags: list[str] | None = None) -> bool:
        """Set a case's priority and/or tags (already validated). False when there is no such case."""
        values: dict[str, Any] = {}
        if priority is not None:
            values["priority"] = priority
        if tags is not None:
            values["tags"] = tags
        async with self.engine.begin() as conn:
            if not values:
                return (await conn.execute(sa.select(t.cases.c.id).where(t.cases.c.id == case_id))).first() is not None
            return bool((await conn.execute(t.cases.update().where(t.cases.c.id == case_id).values(**values))).rowcount)
