"""Store queries of the email channel and the follow-ups (app/email_channel.py, app/followup.py).

Their tables live here, on the schema's one `metadata` (migration 0006): a conversation's email
thread, the outbox of replies waiting to be emailed, the scheduled follow-ups and a few shared
values (the event cursor, the generated signing secret). Every step that several server processes
may race on is a conditional update, so a reply is emailed by one process and a follow-up sent once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.storage import tables as t
from app.storage.mappers import as_utc, utcnow
from app.storage.records import Event
from handoff.state import Action, Owner, transition

if TYPE_CHECKING:
    from app.storage.sql import SqlStore

TS = sa.DateTime(timezone=True)

mail_threads = sa.Table(  # a conversation's email thread: where replies go and how they thread
    "mail_threads", t.metadata,
    sa.Column("conversation_id", sa.String(40), sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),  # email (started by an email) | widget
    sa.Column("address", sa.String(254)),  # the proven address replies go to
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("last_message_id", sa.String(300)),
    sa.Column("references", sa.JSON, nullable=False),
    sa.Column("confirm_sent_to", sa.String(254)),  # an unproven address that was asked to confirm itself
    sa.Column("created_at", TS, nullable=False),
    extend_existing=True,
)

mail_outbox = sa.Table(  # events waiting to be emailed, batched per conversation
    "mail_outbox", t.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(40), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("seqs", sa.JSON, nullable=False),
    # pending | sending (leased) | sent | seen (the customer was connected) | held (address unconfirmed)
    # | no_address | failed
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("due_at", TS, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.String(300)),
    sa.Column("message_id", sa.String(300)),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("sent_at", TS),
    extend_existing=True,
)

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

mail_state = sa.Table(  # small shared values: the event cursor, the generated signing secret
    "mail_state", t.metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    extend_existing=True,
)

LEASE = timedelta(minutes=5)
SETTLE = timedelta(seconds=1)  # a row claimed by a process that then died is claimed again after this


@dataclass(frozen=True)
class Thread:
    conversation_id: str
    channel: str
    address: str | None
    subject: str
    last_message_id: str | None
    references: list[str]
    confirm_sent_to: str | None


@dataclass(frozen=True)
class OutboxItem:
    id: int
    conversation_id: str
    seqs: list[int]
    status: str
    attempts: int
    last_error: str | None


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


def _thread(row: Any) -> Thread:
    return Thread(row.conversation_id, row.channel, row.address, row.subject, row.last_message_id,
                  list(row.references or []), row.confirm_sent_to)


def _followup(row: Any) -> Followup:
    return Followup(row.id, row.conversation_id, row.case_id, row.reason, row.after_seq, row.status, row.channel,
                    row.answer, as_utc(row.due_at))  # type: ignore[arg-type]


# The events the channel acts on: replies to email, and the handoffs that schedule follow-ups.
WATCHED_KINDS = ("message", "handoff")


class MailStore:
    """The email channel's queries over the desk's SqlStore (its engine, and its event append)."""

    def __init__(self, store: "SqlStore") -> None:
        self.store = store
        self.engine = store.engine

    # ------------------------------------------------------------------ shared values
    async def secret(self) -> str:
        """The signing secret of reply addresses and links, generated once and kept in the database
        so every process and every restart signs alike."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(sa.select(mail_state.c.value).where(mail_state.c.key == "secret"))).first()
            if row:
                return str(row.value)
        try:
            async with self.engine.begin() as conn:
                await conn.execute(mail_state.insert().values(key="secret", value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another process made it first
        async with self.engine.connect() as conn:
            return str((await conn.execute(sa.select(mail_state.c.value).where(mail_state.c.key == "secret"))).scalar_one())

    # ------------------------------------------------------------------ threads
    async def get_thread(self, conversation_id: str) -> Thread | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(mail_threads).where(
                mail_threads.c.conversation_id == conversation_id))).first()
        return _thread(row) if row else None

    async def ensure_thread(self, conversation_id: str, channel: str, subject: str,
                            address: str | None = None) -> Thread:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(mail_threads.insert().values(
                    conversation_id=conversation_id, channel=channel, address=address, subject=subject[:300],
                    references=[], created_at=utcnow()))
        except IntegrityError:
            pass
        thread = await self.get_thread(conversation_id)
        assert thread is not None
        return thread

    async def update_thread(self, conversation_id: str, **fields: Any) -> None:
        allowed = {k: v for k, v in fields.items()
                   if k in {"address", "subject", "last_message_id", "references", "confirm_sent_to"}}
        async with self.engine.begin() as conn:
            await conn.execute(mail_threads.update().where(
                mail_threads.c.conversation_id == conversation_id).values(**allowed))

    async def threads(self, conversation_ids: list[str]) -> dict[str, Thread]:
        if not conversation_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(mail_threads).where(
                mail_threads.c.conversation_id.in_(conversation_ids)))).all()
        return {r.conversation_id: _thread(r) for r in rows}

    async def new_threads_since(self, since: datetime, address: str | None = None) -> int:
        """Conversations started by email since then (from one address, or from anyone)."""
        query = sa.select(sa.func.count()).select_from(mail_threads).where(
            mail_threads.c.channel == "email", mail_threads.c.created_at >= since)
        if address is not None:
            query = query.where(mail_threads.c.address == address)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    # ------------------------------------------------------------------ the event cursor
    async def collect(self, email_kinds: Any, schedule: Any, batch_seconds: float, limit: int = 500) -> int:
        """Read the events stored since the last call (by any process), in one transaction that
        holds the cursor: `email_kinds(event, thread)` says whether an event goes out by email (it
        joins the conversation's pending batch, or starts one due in `batch_seconds`), and
        `schedule(event)` returns (case_id, reason, due_at) for a follow-up, or None. Returns how
        many events were read. The first call starts at the newest event: history is not emailed."""
        now = utcnow()
        async with self.engine.begin() as conn:
            row = (await conn.execute(sa.select(mail_state.c.value).where(
                mail_state.c.key == "cursor").with_for_update())).first()
            if row is None:
                newest = int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.events.c.id), 0)))).scalar_one())
                try:
                    async with conn.begin_nested():
                        await conn.execute(mail_state.insert().values(key="cursor", value=str(newest)))
                except IntegrityError:
                    pass
                return 0
            cursor = last = int(row.value)
            # In id order up to the first event younger than SETTLE: on PostgreSQL a transaction that
            # took an id earlier may commit a moment after a later one, and the cursor must not pass it.
            settled = now - SETTLE
            rows = []
            for r in (await conn.execute(sa.select(t.events).where(t.events.c.id > cursor)
                                         .order_by(t.events.c.id).limit(limit))).all():
                if as_utc(r.created_at) > settled:  # type: ignore[operator]
                    break
                last = r.id
                if r.kind in WATCHED_KINDS and r.visibility == "public":
                    rows.append(r)
            if last == cursor:
                return 0
            conv_ids = sorted({r.conversation_id for r in rows})
            threads = {}
            if conv_ids:
                threads = {r.conversation_id: _thread(r) for r in (await conn.execute(sa.select(mail_threads).where(
                    mail_threads.c.conversation_id.in_(conv_ids)))).all()}
            for r in rows:
                from app.storage.sql import _event

                event = _event(r)
                if email_kinds(event, threads.get(event.conversation_id)):
                    await self._add_to_batch(conn, event.conversation_id, event.seq, now, batch_seconds)
                plan = schedule(event)
                if plan is not None:
                    case_id, reason, due = plan
                    exists = (await conn.execute(sa.select(followups.c.id).where(
                        followups.c.case_id == case_id, followups.c.reason == reason))).first()
                    case_ok = (await conn.execute(sa.select(t.cases.c.id).where(t.cases.c.id == case_id))).first()
                    if exists is None and case_ok is not None:
                        await conn.execute(followups.insert().values(
                            conversation_id=event.conversation_id, case_id=case_id, reason=reason,
                            after_seq=event.seq, status="scheduled", due_at=due, created_at=now))
            await conn.execute(mail_state.update().where(mail_state.c.key == "cursor").values(value=str(last)))
        return len(rows)

    async def _add_to_batch(self, conn: Any, conversation_id: str, seq: int, now: datetime, batch_seconds: float) -> None:
        """Several replies within the batch window go out as one email: the first one starts it."""
        row = (await conn.execute(sa.select(mail_outbox).where(
            mail_outbox.c.conversation_id == conversation_id,
            mail_outbox.c.status.in_(("pending", "held")), mail_outbox.c.attempts == 0)
            .order_by(mail_outbox.c.id.desc()).limit(1))).first()
        if row is not None:
            await conn.execute(mail_outbox.update().where(mail_outbox.c.id == row.id).values(
                seqs=[*list(row.seqs), seq]))
            return
        await conn.execute(mail_outbox.insert().values(
            conversation_id=conversation_id, seqs=[seq], status="pending", attempts=0,
            due_at=now + timedelta(seconds=batch_seconds), created_at=now))

    async def enqueue(self, conversation_id: str, seqs: list[int], due_at: datetime | None = None) -> int:
        """A batch of its own (a follow-up's email), due now unless said otherwise."""
        now = utcnow()
        async with self.engine.begin() as conn:
            return int((await conn.execute(mail_outbox.insert().values(
                conversation_id=conversation_id, seqs=seqs, status="pending", attempts=0, due_at=due_at or now,
                created_at=now).returning(mail_outbox.c.id))).scalar_one())

    # ------------------------------------------------------------------ the outbox
    async def pending_conversations(self) -> list[str]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(mail_outbox.c.conversation_id).where(
                mail_outbox.c.status == "pending", mail_outbox.c.attempts == 0).distinct())).all()
        return [r.conversation_id for r in rows]

    async def mark_seen(self, conversation_ids: list[str]) -> int:
        """The customer has a live socket: they get the replies in the chat, so no email."""
        if not conversation_ids:
            return 0
        async with self.engine.begin() as conn:
            result = await conn.execute(mail_outbox.update().where(
                mail_outbox.c.conversation_id.in_(conversation_ids), mail_outbox.c.status == "pending",
                mail_outbox.c.attempts == 0).values(status="seen"))
        return int(result.rowcount or 0)

    async def claim_due(self, limit: int = 20) -> list[OutboxItem]:
        now = utcnow()
        claimed: list[OutboxItem] = []
        async with self.engine.begin() as conn:
            rows = (await conn.execute(sa.select(mail_outbox).where(
                mail_outbox.c.status.in_(("pending", "sending")), mail_outbox.c.due_at <= now)
                .order_by(mail_outbox.c.due_at).limit(limit))).all()
            for r in rows:
                done = await conn.execute(mail_outbox.update().where(
                    mail_outbox.c.id == r.id, mail_outbox.c.status == r.status, mail_outbox.c.attempts == r.attempts)
                    .values(status="sending", attempts=r.attempts + 1, due_at=now + LEASE))
                if done.rowcount == 1:
                    claimed.append(OutboxItem(r.id, r.conversation_id, list(r.seqs), "sending", r.attempts + 1,
                                              r.last_error))
        return claimed

    async def finish(self, item_id: int, status: str, *, error: str | None = None, retry_at: datetime | None = None,
                     message_id: str | None = None) -> None:
        values: dict[str, Any] = {"status": status, "last_error": (error or None) and error[:300]}
        if retry_at is not None:
            values["due_at"] = retry_at
        if status == "sent":
            values.update(sent_at=utcnow(), message_id=message_id)
        async with self.engine.begin() as conn:
            await conn.execute(mail_outbox.update().where(mail_outbox.c.id == item_id).values(**values))

    async def release_held(self, conversation_id: str) -> int:
        """The address was confirmed: what waited for it is due now."""
        async with self.engine.begin() as conn:
            result = await conn.execute(mail_outbox.update().where(
                mail_outbox.c.conversation_id == conversation_id, mail_outbox.c.status == "held")
                .values(status="pending", due_at=utcnow()))
        return int(result.rowcount or 0)

    async def outbox(self, conversation_id: str) -> list[OutboxItem]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(mail_outbox).where(
                mail_outbox.c.conversation_id == conversation_id).order_by(mail_outbox.c.id))).all()
        return [OutboxItem(r.id, r.conversation_id, list(r.seqs), r.status, r.attempts, r.last_error) for r in rows]

    # ------------------------------------------------------------------ follow-ups
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
