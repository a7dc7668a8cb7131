"""The period a report covers, and the managers' analytics figures: plain data in, a wire model out.

Computed from the stored transcript (events and cases), so nothing extra is written on the chat path.
The routes are app/routes/analytics.py; the content gaps are app/gaps.py.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel, Field

from app.storage.editor import Activity


def _now() -> datetime:
    return datetime.now(timezone.utc)


def period(since: date | None, until: date | None, days: int) -> tuple[datetime, datetime]:
    """Every report page's window, [start, end) in UTC, from its query; a range that cannot be is a 422."""
    try:
        end = datetime.combine(until, datetime.min.time(), timezone.utc) + timedelta(days=1) if until else _now()
        start = datetime.combine(since, datetime.min.time(), timezone.utc) if since else end - timedelta(days=days)
    except OverflowError:  # until=9999-12-31, or `days` before year 1
        raise HTTPException(422, "since/until: out of range") from None
    if start >= end:
        raise HTTPException(422, "since must be before until")
    return start, end



class Series(BaseModel):
    dates: list[str]
    conversations: list[int]
    self_service: list[int]
    escalated: list[int]


class ArticleStat(BaseModel):
    article_id: str
    title: str
    views: int = Field(description="times the bot answered with it")
    helpful: int
    not_helpful: int
    helpfulness: float | None


class CsatOut(BaseModel):
    overall: float | None = Field(description="% of ratings that are 4 or 5")
    average: float | None
    ratings: int
    bot_only: float | None
    bot_to_human: float | None
    human: float | None
    counts: dict[str, int] = Field(default_factory=dict, description="ratings per segment: bot_only, bot_to_human, human")


class AnalyticsOut(BaseModel):
    since: datetime
    until: datetime
    conversations: int
    self_service_rate: float | None
    self_service_confirmed: int
    self_service_assumed: int
    escalations: int
    escalation_rate: float | None
    escalation_rate_by_reason: dict[str, float]
    escalations_by_reason: dict[str, int]
    first_reply_seconds_median: float | None
    first_reply_seconds_p90: float | None
    handle_seconds_median: float | None
    csat: CsatOut
    top_articles: list[ArticleStat]
    recontacts_7d: int
    recontact_rate: float | None
    series: Series
    # resolved cases: confirmed / reopened by the follow-up's answer, or assumed (app/followup.py)
    resolutions: dict[str, int] | None = None
    # escalations by the team routing chose (or a transfer set; `none`: no team) and by tag
    escalations_by_team: dict[str, int] = {}
    escalations_by_tag: dict[str, int] = {}


def _pct(part: int | float, whole: int | float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(float(np.quantile(np.asarray(values), q)), 1)


def _contact_key(contact: dict[str, Any]) -> str | None:
    for k in ("user_id", "email"):
        if contact.get(k):
            return f"{k}:{str(contact[k]).strip().lower()}"
    return None


def compute_analytics(activity: Activity, earlier: list[tuple[str, datetime, dict[str, Any]]], titles: dict[str, str],
                      start: datetime, end: datetime) -> AnalyticsOut:
    days = max(1, (end.date() - start.date()).days + (0 if end.time() == datetime.min.time() else 1))
    dates = [(start.date() + timedelta(days=i)).isoformat() for i in range(days)]
    s_conv, s_self, s_esc = [0] * days, [0] * days, [0] * days
    conversations = confirmed = assumed = 0
    reasons: dict[str, int] = {}
    first_reply: list[float] = []
    handle: list[float] = []
    ratings: dict[str, list[int]] = {"bot_only": [], "bot_to_human": [], "human": []}
    stats: dict[str, list[int]] = {}
    for conv in activity.conversations:
        events = activity.events.get(conv.id, [])
        if not any(e.sender == "customer" and e.kind == "message" for e in events):
            continue  # opened the widget, never asked anything
        day = min(days - 1, max(0, (conv.created_at.date() - start.date()).days))
        conversations += 1
        s_conv[day] += 1
        cases = activity.cases.get(conv.id, [])
        answers = [e for e in events if e.sender == "bot" and e.data.get("action") == "answer"]
        for e in answers:
            aid = (e.data.get("article") or {}).get("id")
            if aid:
                stats.setdefault(aid, [0, 0, 0])[0] += 1
        votes = [e for e in events if e.kind == "feedback"]
        for e in votes:
            aid = e.data.get("article_id")
            if aid:
                stats.setdefault(aid, [0, 0, 0])[1 if e.data.get("helpful") else 2] += 1
        if answers and not any(c.reason != "follow_up" for c in cases):
            if any(e.data.get("helpful") is True for e in votes):
                confirmed += 1
            elif not any(e.data.get("helpful") is False for e in votes):
                assumed += 1
            s_self[day] += 1
        if any(c.reason != "follow_up" for c in cases):
            s_esc[day] += 1
        for case in cases:
            if case.reason == "follow_up":  # a manager reopened it (unhappy customers), not the bot
                continue
            reasons[case.reason] = reasons.get(case.reason, 0) + 1
            if case.first_reply_at:
                first_reply.append((case.first_reply_at - case.queued_at).total_seconds())
            if case.resolved_at and case.assigned_at:
                handle.append((case.resolved_at - case.assigned_at).total_seconds())
            if case.rating:
                agent_seqs = [e.seq for e in events if e.sender == "agent" and e.kind == "message"]
                bot_seqs = [e.seq for e in events if e.sender == "bot" and e.data.get("action") in ("answer", "clarify")]
                if not agent_seqs:
                    segment = "bot_only"
                elif bot_seqs and min(bot_seqs) < min(agent_seqs):
                    segment = "bot_to_human"
                else:
                    segment = "human"
                ratings[segment].append(case.rating)
    every = [r for rs in ratings.values() for r in rs]

    def csat(rs: list[int]) -> float | None:
        return _pct(sum(1 for r in rs if r >= 4), len(rs))

    last_seen: dict[str, datetime] = {}
    recontacts = 0
    in_period = {c.id for c in activity.conversations}
    for cid, created, contact in earlier:
        key = _contact_key(contact)
        if key is None:
            continue
        if cid in in_period and key in last_seen and created - last_seen[key] <= timedelta(days=7):
            recontacts += 1
        last_seen[key] = created
    escalations = sum(reasons.values())
    top = sorted(stats.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:10]
    return AnalyticsOut(
        since=start, until=end, conversations=conversations,
        self_service_rate=_pct(confirmed + assumed, conversations), self_service_confirmed=confirmed,
        self_service_assumed=assumed, escalations=escalations, escalation_rate=_pct(escalations, conversations),
        escalation_rate_by_reason={k: _pct(v, conversations) or 0.0 for k, v in sorted(reasons.items())},
        escalations_by_reason=dict(sorted(reasons.items())),
        first_reply_seconds_median=round(statistics.median(first_reply), 1) if first_reply else None,
        first_reply_seconds_p90=_quantile(first_reply, 0.9),
        handle_seconds_median=round(statistics.median(handle), 1) if handle else None,
        csat=CsatOut(overall=csat(every), average=round(sum(every) / len(every), 2) if every else None,
                     ratings=len(every), bot_only=csat(ratings["bot_only"]),
                     bot_to_human=csat(ratings["bot_to_human"]), human=csat(ratings["human"]),
                     counts={k: len(v) for k, v in ratings.items()}),
        top_articles=[ArticleStat(article_id=aid, title=titles.get(aid, aid), views=v[0], helpful=v[1], not_helpful=v[2],
                                  helpfulness=_pct(v[1], v[1] + v[2])) for aid, v in top],
        recontacts_7d=recontacts, recontact_rate=_pct(recontacts, conversations),
        series=Series(dates=dates, conversations=s_conv, self_service=s_self, escalated=s_esc))


async def load_analytics(store: Any, start: datetime, end: datetime) -> AnalyticsOut:
    activity = await store.activity(start, end)
    earlier = await store.contacts_since(start - timedelta(days=7))
    titles = {a.id: a.title for a in await store.list_articles()}
    result = compute_analytics(activity, earlier, titles, start, end)
    teams = {team.id: team.name for team in await store.list_teams()}
    by_team: dict[str, int] = {}
    by_tag: dict[str, int] = {}
    for cases in activity.cases.values():
        for case in cases:
            if case.reason == "follow_up":  # not an escalation (as in compute_analytics)
                continue
            team = teams.get(case.team_id, "none") if case.team_id else "none"
            by_team[team] = by_team.get(team, 0) + 1
            for tag in case.tags:
                by_tag[tag] = by_tag.get(tag, 0) + 1
    return result.model_copy(update={"escalations_by_team": dict(sorted(by_team.items())),
                                     "escalations_by_tag": dict(sorted(by_tag.items(), key=lambda kv: (-kv[1], kv[0])))})

