"""Store queries of the follow-ups: "Did that solve it?" after a resolution or a transfer (app/followup.py).

A follow-up is scheduled once per case and reason, sent once (a conditional update that stores its
check-in event in the same transaction), and its first answer counts; a "no" reopens the case with
its owner. Analytics reads the answers. Its table is on the schema's one `metadata` (migration
0006). MailStore (app/storage/mail.py) is composed of these queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage import tables as t
from app.storage.mappers import as_utc, utcnow
from app.storage.records import Event
from app.storage.tables import TS
from handoff.state import Action, Owner, transition

if TYPE_CHECKING:
    from app.storage.sql import SqlStore

followups = sa.Table(  # "Did that solve it?" after a resolution or a transfer, sent once
    "followups", t.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(40), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("reason", sa.String(16), nullable=False),  # resolved | transferred
    sa.Column("after_seq", sa.Integer, nullable=False),  # the event that scheduled it
    sa.Column("status", sa.String(16), nullable=False, index=True),  # scheduled | sent | answered | cancelled
    sa.Column("due_at", TS, nullable=False),
    sa.Column("channel", sa.String(16)),  # widget | email, once sent
    sa.Column("answer", sa.String(8)),  # yes | no
    sa.Column("created_at", TS, nullable=False),
    sa.Column("sent_at", TS),
    sa.Column("answered_at", TS),
    sa.UniqueConstraint("case_id", "reason", name="uq_followups_case_reason"),
    extend_existing=True,
)


@dataclass(frozen=True)
class Followup:
    id: int
    conversation_id: str
    case_id: int
    reason: str
    after_seq: int
    status: str
    channel: str | None
    answer: str | None
    due_at: datetime


def _followup(row: Any) -> Followup:
    return Followup(row.id, row.conversation_id, row.case_id, row.reason, row.after_seq, row.status, row.channel,
                    row.answer, as_utc(row.due_at))  # type: ignore[arg-type]


class FollowupQueries:
    """Follow-ups: due, sent, answered, cancelled, and what they tell about resolutions."""

    engine: AsyncEngine
    store: "SqlStore"

    async def due_followups(self, limit: int = 20) -> list[Followup]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(followups).where(
                followups.c.status == "scheduled", followups.c.due_at <= utcnow())
                .order_by(followups.c.due_at).limit(limit))).all()
        return [_followup(r) for r in rows]

    async def get_followup(self, followup_id: int) -> Followup | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(followups).where(followups.c.id == followup_id))).first()
        return _followup(row) if row else None

    async def cancel_followup(self, followup_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(followups.update().where(
                followups.c.id == followup_id, followups.c.status == "scheduled").values(status="cancelled"))

    async def send_followup(self, followup_id: int, channel: str, text: str, data: dict[str, Any]) -> Event | None:
        """Mark the follow-up sent and store its check-in event in one transaction: sent once,
        by one process, and never lost by a restart. None if another process sent it."""
        from app.storage.sql import _event

        async with self.engine.begin() as conn:
            done = await conn.execute(followups.update().where(
                followups.c.id == followup_id, followups.c.status == "scheduled").values(
                status="sent", channel=channel, sent_at=utcnow()))
            if done.rowcount != 1:
                return None
            row = (await conn.execute(sa.select(followups).where(followups.c.id == followup_id))).one()
            event, _ = await self.store._append(conn, row.conversation_id, "followup", "system", text, "public",
                                                data, None)
        return event

    async def answer_followup(self, followup_id: int, answer: str) -> Followup | None:
        """Record the first answer; None when it was already answered (or never sent)."""
        async with self.engine.begin() as conn:
            done = await conn.execute(followups.update().where(
                followups.c.id == followup_id, followups.c.status == "sent").values(
                status="answered", answer=answer, answered_at=utcnow()))
            if done.rowcount != 1:
                return None
            row = (await conn.execute(sa.select(followups).where(followups.c.id == followup_id))).one()
        return _followup(row)

    async def reopen_with_owner(self, case_id: int, text: str, data: dict[str, Any]) -> tuple[Event, Any] | None:
        """"No, it is not solved": a resolved case goes back to the agent who owned it (to the queue
        when that agent is gone), with its handoff event, in one transaction. None when the
        conversation moved on (a newer case, or it is not resolved any more)."""
        from app.storage.sql import _case, _event

        async with self.engine.begin() as conn:
            case = (await conn.execute(sa.select(t.cases).where(t.cases.c.id == case_id).with_for_update())).first()
            if case is None or case.status != "resolved":
                return None
            conv = (await conn.execute(sa.select(t.conversations).where(
                t.conversations.c.id == case.conversation_id).with_for_update())).first()
            if conv is None or conv.current_case_id != case_id or conv.status != "resolved":
                return None
            owner = None
            if case.agent_id is not None:
                owner = (await conn.execute(sa.select(t.users).where(
                    t.users.c.id == case.agent_id, t.users.c.active.is_(True)))).first()
            # back to its owner, or (the owner gone) to the queue: both moves of handoff/state.py
            status = transition(Owner.RESOLVED, Action.RETURN if owner is not None else Action.ESCALATE).value
            values: dict[str, Any] = {"status": status, "resolved_at": None}
            if owner is None:
                values.update(agent_id=None, assigned_at=None, queued_at=utcnow())
            await conn.execute(t.cases.update().where(t.cases.c.id == case_id).values(**values))
            await conn.execute(t.conversations.update().where(t.conversations.c.id == conv.id).values(
                status=status, updated_at=utcnow()))
            extra = {"status": status, "case_id": case_id, "reason": "followup_no",
                     "agent": {"name": owner.name, "id": owner.id} if owner is not None else None}
            event, _ = await self.store._append(conn, conv.id, "handoff", "system", text, "public",
                                                {**data, **extra}, None)
            row = (await conn.execute(sa.select(t.cases).where(t.cases.c.id == case_id))).one()
        return event, _case(row)

    async def followup_counts(self, since: datetime | None = None, until: datetime | None = None) -> dict[str, int]:
        query = sa.select(followups.c.reason, followups.c.status, followups.c.answer, sa.func.count()).group_by(
            followups.c.reason, followups.c.status, followups.c.answer)
        if since is not None:
            query = query.where(followups.c.created_at >= since)
        if until is not None:
            query = query.where(followups.c.created_at < until)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        out = {"scheduled": 0, "sent": 0, "answered_yes": 0, "answered_no": 0, "cancelled": 0,
               "resolutions_confirmed": 0, "resolutions_reopened": 0}
        for reason, status, answer, n in rows:
            if status == "scheduled":
                out["scheduled"] += n
            elif status == "cancelled":
                out["cancelled"] += n
            else:
                out["sent"] += n
            if answer in ("yes", "no"):
                out[f"answered_{answer}"] += n
                if reason == "resolved":
                    out["resolutions_confirmed" if answer == "yes" else "resolutions_reopened"] += n
        return out

    async def resolution_figures(self, since: datetime, until: datetime) -> dict[str, int]:
        """Resolutions in a period, confirmed by a follow-up's "yes", reopened by its "no", or
        assumed (nobody answered, or no follow-up was sent)."""
        counts = await self.followup_counts(since, until)
        async with self.engine.connect() as conn:
            still_resolved = int((await conn.execute(sa.select(sa.func.count()).select_from(t.cases).where(
                t.cases.c.status == "resolved", t.cases.c.resolved_at >= since, t.cases.c.resolved_at < until)
            )).scalar_one())
        resolved = still_resolved + counts["resolutions_reopened"]  # a "no" took its case out of "resolved"
        return {"resolved": resolved, "confirmed": counts["resolutions_confirmed"],
                "reopened": counts["resolutions_reopened"],
                "assumed": max(0, resolved - counts["resolutions_confirmed"] - counts["resolutions_reopened"]),
                "followups_sent": counts["sent"], "followups_answered_yes": counts["answered_yes"],
                "followups_answered_no": counts["answered_no"], "followups_scheduled": counts["scheduled"],
                "followups_cancelled": counts["cancelled"]}
