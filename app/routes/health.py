"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from app.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> Response:
    checks: dict[str, bool] = {}
    try:
        checks["database"] = await services.store.ping()
    except Exception:
        checks["database"] = False
    checks["broker"] = await services.broker.ping()
    checks["index"] = services.knowledge.ready  # loaded, classifier and calibration current
    ok = all(checks.values())
    return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks,
                         "articles": len(services.knowledge.kb.articles)}, status_code=200 if ok else 503)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(services: ServicesDep) -> Response:
    """Prometheus exposition format (see app/metrics.py for the list and the multi-process note)."""
    from app.metrics import CONTENT_TYPE_LATEST

    queue = await services.store.queue()
    body = services.desk.metrics.render(len(queue), len(services.knowledge.kb.articles))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
