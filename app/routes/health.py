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
    checks["index"] = services.knowledge.loaded
    ok = all(checks.values())
    return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks,
                         "articles": len(services.knowledge.kb.articles)}, status_code=200 if ok else 503)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(services: ServicesDep) -> str:
    m = services.desk.metrics
    lines = ["# TYPE parley_messages_total counter", f"parley_messages_total {m.messages}",
             "# TYPE parley_decisions_total counter"]
    lines += [f'parley_decisions_total{{action="{k}"}} {v}' for k, v in sorted((m.decisions or {}).items())]
    lines.append("# TYPE parley_escalations_total counter")
    lines += [f'parley_escalations_total{{reason="{k}"}} {v}' for k, v in sorted((m.escalations or {}).items())]
    queue = await services.store.queue()
    lines += ["# TYPE parley_queue_length gauge", f"parley_queue_length {len(queue)}"]
    samples = sorted(m.decision_ms or [])
    if samples:
        lines.append("# TYPE parley_decision_ms summary")
        for q in (0.5, 0.95, 0.99):
            lines.append(f'parley_decision_ms{{quantile="{q}"}} {samples[min(len(samples) - 1, int(q * len(samples)))]:.3f}')
    lines.append(f"parley_index_articles {len(services.knowledge.kb.articles)}")
    return "\n".join(lines) + "\n"
