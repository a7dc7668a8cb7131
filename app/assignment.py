"""Who gets which case when nobody clicks: round-robin assignment and the time-outs that release cases.

One background task per process, started by the app's lifespan. Every change goes through the same
atomic store transitions as a click in the console (claim has exactly one winner), so two processes
running this loop at once cannot assign one case twice.

- round robin (PARLEY_ASSIGN_MODE=round_robin): the first queued case (most urgent, then oldest)
  goes to the online agent under their capacity who was assigned least recently, a member of the
  case's team when one is free. The loads read here only choose whom to try:
  the claim itself checks the capacity in the database (SqlStore.case_action), so two processes
  choosing from stale reads still never exceed it.
- release: an assigned case returns to the queue, keeping its place, when its agent has been
  offline for PARLEY_OFFLINE_RELEASE_SECONDS or has left the customer waiting for a reply for
  PARLEY_REPLY_TIMEOUT_SECONDS. A returning customer is therefore never left with an absent agent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from app.config import Settings
from app.conversation import AGENTS_CHANNEL, Desk, DeskError
from app.storage.console import AssignedCase
from app.storage.sql import Conflict, NotFound, SqlStore, utcnow
from app.tasks import cancel
from bot.replies import say
from handoff.state import Action

log = logging.getLogger("parley.assignment")
PRESENCE_STALE = timedelta(seconds=60)  # the agent socket refreshes presence every 20 s


def release_reason(case: AssignedCase, now: datetime, settings: Settings) -> str | None:
    """Why this assigned case should go back to the queue, or None. Plain values in, plain value out."""
    seen = case.last_seen or case.assigned_at
    grace = timedelta(seconds=settings.offline_release_seconds)
    if case.presence in (None, "offline") and now - seen >= grace:
        return "agent_offline"
    if case.presence == "online" and now - seen >= PRESENCE_STALE + grace:
        return "agent_offline"  # the agent's process died without saying goodbye
    if settings.reply_timeout_seconds:
        answered = case.last_agent_at is not None and (
            case.last_customer_at is None or case.last_agent_at >= case.last_customer_at)
        waiting_since = max(case.assigned_at, case.last_customer_at or case.assigned_at)
        if not answered and now - waiting_since >= timedelta(seconds=settings.reply_timeout_seconds):
            return "reply_timeout"
    return None


class Assigner:
    def __init__(self, settings: Settings, store: SqlStore, desk: Desk) -> None:
        self.settings = settings
        self.store = store
        self.desk = desk
        self.last_assigned: dict[int, float] = {}  # agent id -> monotonic time of their last assignment
        self.released_from: dict[int, int] = {}  # case id -> the agent it was taken from
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop()), asyncio.create_task(self._listen())]

    async def stop(self) -> None:
        await cancel(*self._tasks)

    async def _listen(self) -> None:
        """Wake up as soon as the queue or anyone's presence changes, not only on the timer."""
        sub = self.desk.broker.subscription()
        await sub.add(AGENTS_CHANNEL)
        try:
            while True:
                await sub.get()
                self._wake.set()
        finally:
            await sub.close()

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.assign_interval_seconds)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.tick()
            except Exception:
                log.exception("assignment tick failed")
            await asyncio.sleep(0.05)  # coalesce bursts

    async def tick(self) -> None:
        await self.release_stalled()
        if self.settings.assign_mode == "round_robin":
            await self.assign_waiting()

    async def release_stalled(self) -> list[int]:
        now = utcnow()
        released = []
        for case in await self.store.assigned_cases():
            why = release_reason(case, now, self.settings)
            if why and await self.release(case, why):
                released.append(case.case_id)
        return released

    async def release(self, case: AssignedCase, why: str) -> bool:
        conv = await self.store.get_conversation(case.conversation_id)
        if conv is None:
            return False
        stored = await self.store.get_case(case.case_id)
        if stored is None:
            return False
        position = len([i for i in await self.store.queue() if i.case.queued_at <= stored.queued_at]) + 1
        try:
            transition = await self.store.case_action(
                case.case_id, Action.RELEASE, actor_id=None, text=say("queued", conv.lang, position=position),
                data={"status": "queued", "position": position, "released": why, "agent": None,
                      "released_from": case.agent_id}, require_owner=False)
        except (Conflict, NotFound):
            return False  # the agent acted first: nothing to release
        self.released_from[case.case_id] = case.agent_id
        log.info("case %s returned to the queue: %s", case.case_id, why)
        await self.desk.publish(transition.event)
        await self.desk.publish_case(transition.case)
        return True

    async def assign_waiting(self) -> list[tuple[int, int]]:
        now = utcnow()
        agents = [a for a in await self.store.agents_on_duty()
                  if a.presence == "online" and a.last_seen and now - a.last_seen < PRESENCE_STALE]
        load = {a.id: a.active_cases for a in agents}
        members = {team.id: set(team.member_ids) for team in await self.store.list_teams()}
        done = []
        for item in await self.store.queue():
            eligible = [a for a in agents if load[a.id] < a.capacity]
            if not eligible:
                break
            team = members.get(item.case.team_id or 0, set())
            if any(a.id in team for a in eligible):  # the case's team first; anyone when none of it is free
                eligible = [a for a in eligible if a.id in team]
            previous = self.released_from.get(item.case.id)
            if previous is not None and len(eligible) > 1:
                eligible = [a for a in eligible if a.id != previous]  # give it to someone else if we can
            pick = min(eligible, key=lambda a: (self.last_assigned.get(a.id, 0.0), load[a.id], a.id))
            user = await self.store.get_user(pick.id)
            if user is None or not user.active:
                continue
            try:
                await self.desk.claim(item.case.id, user)
            except DeskError as exc:
                if exc.code == "at_capacity":  # the database counted a case this read missed (another process's)
                    load[pick.id] = pick.capacity
                continue  # or someone claimed it by hand in the meantime
            self.last_assigned[pick.id] = time.monotonic()
            load[pick.id] += 1
            self.released_from.pop(item.case.id, None)
            done.append((item.case.id, pick.id))
            log.info("case %s assigned to %s (round robin)", item.case.id, user.email)
        return done
