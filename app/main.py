"""create_app(settings): builds everything in a lifespan, nothing at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse

from app.config import Settings, get_settings
from app.deps import Services
from app.runtime import build_runtime
from knowledge_base.embedder import Embedder

log = logging.getLogger("parley")
OPTIONAL_ROUTES = ("widget", "console", "editor", "admin", "sites", "analytics", "gaps", "unhappy", "privacy",
                   "integrations", "api_v1", "mail", "attachments", "teams", "transcripts")


def create_app(settings: Settings | None = None, embedder: Embedder | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await build_runtime(settings, embedder)  # app/runtime.py: the one place parts are wired
        app.state.runtime = runtime
        app.state.services = Services(settings, runtime.store, runtime.broker, runtime.knowledge, runtime.desk)
        app.state.assigner = runtime.jobs["assigner"]
        app.state.limits = runtime.limits
        app.state.sockets = runtime.sockets
        log.info("parley ready: %d published articles, database %s, broker %s", len(runtime.knowledge.kb.articles),
                 settings.database_url.split("://")[0], "redis" if settings.redis_url else "in-process")
        try:
            yield
        finally:
            await runtime.close()

    # Swagger UI and ReDoc load their scripts from a CDN: off by default outside demo mode
    docs = settings.api_docs if settings.api_docs is not None else getattr(settings, "demo_mode", False)
    app = FastAPI(title="Parley", version="0.1.0", lifespan=lifespan,
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
                  description="Customer-service chat desk: a knowledge-base bot with a live human handoff. "
                              "The websocket protocol is documented in docs/protocol.md.")

    from app.bodylimit import BodyLimit
    from app.logging import RequestContext

    app.add_middleware(BodyLimit, settings=settings)  # inside RequestContext: a 413 is logged and counted
    app.add_middleware(RequestContext)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        # an id beyond the database's integer range names nothing (SQLite raises instead of matching)
        return JSONResponse({"detail": "not found: a number is out of range"}, status_code=404)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors: list[dict[str, Any]] = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)

    from app.routes import agent, articles, auth, bot, cases, chat, health, vocabulary

    for module in (health, auth, chat, agent, bot, cases, articles, vocabulary):
        app.include_router(module.router)
    import importlib

    optional = {}
    for name in OPTIONAL_ROUTES:  # pages built on the core contract; each owns its own module
        try:
            optional[name] = importlib.import_module(f"app.routes.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"app.routes.{name}":
                raise
            continue
        app.include_router(optional[name].router)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/demo" if "widget" in optional else "/docs")

    return app
