"""create_app(settings): builds everything in a lifespan, nothing at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse

from app.config import Settings, get_settings
from app.conversation import Desk
from app.deps import Services
from app.knowledge import KnowledgeRuntime
from app.realtime.base import Broker
from app.realtime.memory import MemoryBroker
from app.storage.migrations import upgrade_database
from app.storage.sql import SqlStore
from knowledge_base.embedder import Embedder
from knowledge_base.factory import load_embedder

log = logging.getLogger("parley")
OPTIONAL_ROUTES = ("widget", "console", "editor", "admin", "sites", "analytics", "privacy", "integrations", "api_v1",
                   "mail")


def make_broker(settings: Settings) -> Broker:
    if settings.redis_url:
        from app.realtime.redis import RedisBroker

        return RedisBroker(settings.redis_url, settings.redis_prefix)
    return MemoryBroker()


def create_app(settings: Settings | None = None, embedder: Embedder | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await upgrade_database(settings.database_url)
        store = SqlStore.from_url(settings.database_url)
        from app.safety import UnsafeConfiguration, check_safe_defaults

        try:
            await check_safe_defaults(settings, store)  # outside demo mode, no demo shortcuts
        except UnsafeConfiguration as exc:
            log.error("%s", exc)
            await store.close()
            raise
        broker = make_broker(settings)
        await broker.start()
        model = embedder or load_embedder(settings.embedding_model, settings.embedding_threads,
                                          settings.embedding_backend, settings.onnx_cache_dir)
        knowledge = KnowledgeRuntime(store, broker, model, settings.index_path, settings.chunk_words,
                                     settings.aggregate_k, settings.classifier_c, settings.lexical_weight)
        await knowledge.load()
        knowledge.start()
        desk = Desk(settings, store, broker, knowledge.kb)
        app.state.services = Services(settings, store, broker, knowledge, desk)
        from app.assignment import Assigner

        assigner = Assigner(settings, store, desk)
        assigner.start()
        app.state.assigner = assigner
        from app.privacy import RetentionJob
        from app.ratelimit import CustomerLimits
        from app.shutdown import SocketRegistry

        app.state.limits = CustomerLimits(settings)
        app.state.sockets = SocketRegistry(desk.metrics)
        app.state.sockets.install(asyncio.get_running_loop())
        retention = RetentionJob(settings, store, broker, desk.metrics)
        retention.start()
        webhook_worker = None
        if settings.webhooks_enabled:  # off the chat path: it reads the stored event log (app/webhooks.py)
            from app.storage.integrations import IntegrationStore
            from app.webhooks import WebhookWorker

            webhook_worker = WebhookWorker(settings, IntegrationStore(store.engine))
            webhook_worker.start()
        log.info("parley ready: %d published articles, database %s, broker %s", len(knowledge.kb.articles),
                 settings.database_url.split("://")[0], "redis" if settings.redis_url else "in-process")
        try:
            yield
        finally:
            app.state.sockets.uninstall()
            if webhook_worker is not None:
                await webhook_worker.stop()
            await retention.stop()
            await assigner.stop()
            await knowledge.stop()
            await desk.close()
            await broker.close()
            await store.close()

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

    from app.routes import agent, articles, auth, bot, cases, chat, health

    for module in (health, auth, chat, agent, bot, cases, articles):
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
