"""The managers' analytics: REST, CSV and the editor page. The figures are app/reports.py."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from app import web
from app.deps import CurrentEditor, StoreDep
from app.reports import AnalyticsOut, load_analytics, period

router = APIRouter(tags=["analytics"])


@router.get("/api/analytics", response_model=AnalyticsOut)
async def get_analytics(user: CurrentEditor, store: StoreDep, since: date | None = None, until: date | None = None,
                        days: int = Query(default=30, ge=1, le=366)) -> AnalyticsOut:
    """The dashboard's figures for a period (`since`/`until` as dates, or the last `days`)."""
    start, end = period(since, until, days)
    figures = await load_analytics(store, start, end)
    from app.storage.mail import MailStore

    figures.resolutions = await MailStore(store).resolution_figures(start, end)
    return figures


@router.get("/api/analytics.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "metric,value rows then a daily series"}})
async def get_analytics_csv(user: CurrentEditor, store: StoreDep, since: date | None = None, until: date | None = None,
                            days: int = Query(default=30, ge=1, le=366)) -> Response:
    start, end = period(since, until, days)
    a = await load_analytics(store, start, end)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["metric", "value"])
    rows: list[tuple[str, Any]] = [
        ("since", a.since.isoformat()), ("until", a.until.isoformat()), ("conversations", a.conversations),
        ("self_service_rate_pct", a.self_service_rate), ("self_service_confirmed", a.self_service_confirmed),
        ("self_service_assumed", a.self_service_assumed), ("escalations", a.escalations),
        ("escalation_rate_pct", a.escalation_rate),
        *[(f"escalation_rate_pct.{k}", v) for k, v in a.escalation_rate_by_reason.items()],
        *[(f"escalations.team.{k}", v) for k, v in a.escalations_by_team.items()],
        *[(f"escalations.tag.{k}", v) for k, v in a.escalations_by_tag.items()],
        ("first_reply_seconds_median", a.first_reply_seconds_median),
        ("first_reply_seconds_p90", a.first_reply_seconds_p90), ("handle_seconds_median", a.handle_seconds_median),
        ("csat_pct", a.csat.overall), ("csat_average", a.csat.average), ("csat_ratings", a.csat.ratings),
        ("csat_pct.bot_only", a.csat.bot_only), ("csat_pct.bot_to_human", a.csat.bot_to_human),
        ("csat_pct.human", a.csat.human), ("recontacts_7d", a.recontacts_7d), ("recontact_rate_pct", a.recontact_rate),
        *[(f"article_views.{s.article_id}", s.views) for s in a.top_articles],
        *[(f"article_helpfulness_pct.{s.article_id}", s.helpfulness) for s in a.top_articles],
    ]
    for k, v in rows:
        w.writerow([k, "" if v is None else v])
    w.writerow([])
    w.writerow(["date", "conversations", "self_service", "escalated"])
    for row in zip(a.series.dates, a.series.conversations, a.series.self_service, a.series.escalated):
        w.writerow(row)
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="parley-analytics-{start.date()}-{end.date()}.csv"'})



@router.get("/editor/analytics", include_in_schema=False)
async def analytics_page() -> HTMLResponse:
    return web.page("editor", "analytics.html")

