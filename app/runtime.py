"""build_runtime(settings): the one place the parts of a desk are made and wired.

The server (app/main.py's lifespan), the `parley` CLI and the benchmarks build what they need from
here, so a setting means the same thing everywhere: one store, one broker, one embedding model, one
knowledge runtime, one BotConfig. A serving runtime also has the desk, the per-customer limits, the
socket registry and the background jobs (assignment, retention, webhooks); `close()` stops them in
the reverse order.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from app.config import Settings
from app.conversation import Desk, bot_config  # noqa: F401  (re-exported: one BotConfig for server, CLI, bench)
from app.knowledge import KnowledgeRuntime
from app.realtime.base import Broker
from app.storage.migrations import upgrade_database
from app.storage.sql import SqlStore
from knowledge_base.embedder import Embedder
from knowledge_base.factory import load_embedder

log = logging.getLogger("parley")


def make_broker(settings: Settings) -> Broker:
    """Redis when PARLEY_REDIS_URL is set (several processes), else in-process."""
    if settings.redis_url:
        from app.realtime.redis import RedisBroker

        return RedisBroker(settings.redis_url, settings.redis_prefix)
    from app.realtime.memory import MemoryBroker

    return MemoryBroker()


def make_embedder(settings: Settings, threads: int | None = None, model: str | None = None,
                  backend: str | None = None) -> Embedder:
    return load_embedder(model or settings.embedding_model, threads or settings.embedding_threads,
                         backend or settings.embedding_backend, settings.onnx_cache_dir)


def make_knowledge(settings: Settings, store: SqlStore, broker: Broker, embedder: Embedder) -> KnowledgeRuntime:
    return KnowledgeRuntime(store, broker, embedder, settings.index_path, settings.chunk_words,
                            settings.aggregate_k, settings.classifier_c, settings.lexical_weight)


@dataclass
class Runtime:
    settings: Settings
    store: SqlStore
    broker: Broker
    knowledge: KnowledgeRuntime
    desk: Any = None  # app.conversation.Desk, serving runtimes only
    limits: Any = None  # app.ratelimit.CustomerLimits
    sockets: Any = None  # app.shutdown.SocketRegistry
    jobs: dict[str, Any] = field(default_factory=dict)  # background jobs by name, each with `await stop()`
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        """Stop everything started, last started first; one failure does not keep the rest running."""
        while self._closers:
            closer = self._closers.pop()
            try:
                await closer()
            except Exception:
                log.exception("stopping part of the runtime failed")


async def build_runtime(settings: Settings, embedder: Embedder | None = None, serving: bool = True,
                        migrate: bool | None = None, threads: int | None = None) -> Runtime:
    """Everything a desk needs. `serving`: the server's runtime (safe-defaults check, the desk, the
    background jobs, the knowledge base following other processes); otherwise what a one-shot
    command needs (store, broker, model, knowledge base). `migrate`: upgrade the database first
    (default: always for commands, PARLEY_MIGRATE_ON_START for the server)."""
    if migrate if migrate is not None else (settings.migrate_on_start or not serving):
        await upgrade_database(settings.database_url)
    store = SqlStore.from_url(settings.database_url)
    closers: list[Callable[[], Awaitable[None]]] = [store.close]
    try:
        if serving:
            from app.safety import UnsafeConfiguration, check_safe_defaults

            try:
                await check_safe_defaults(settings, store)  # outside demo mode, no demo shortcuts
            except UnsafeConfiguration as exc:
                log.error("%s", exc)
                raise
        broker = make_broker(settings)
        await broker.start()
        closers.append(broker.close)
        model = embedder or make_embedder(settings, threads)
        knowledge = make_knowledge(settings, store, broker, model)
        await knowledge.load()  # what is already indexed is not embedded again
        runtime = Runtime(settings, store, broker, knowledge, _closers=closers)
        if serving:
            await _serve(runtime)
        return runtime
    except BaseException:
        for closer in reversed(closers):
            try:
                await closer()
            except Exception:
                log.exception("cleaning up a runtime that did not start failed")
        raise


async def _serve(runtime: Runtime) -> None:
    from app.assignment import Assigner
    from app.privacy import RetentionJob
    from app.ratelimit import CustomerLimits
    from app.shutdown import SocketRegistry

    settings, store, broker, knowledge = runtime.settings, runtime.store, runtime.broker, runtime.knowledge
    closers = runtime._closers
    knowledge.start()
    runtime.desk = desk = Desk(settings, store, broker, knowledge.kb)
    closers.append(desk.close)
    closers.append(knowledge.stop)  # stopped before the desk closes, as it started first
    assigner = Assigner(settings, store, desk)
    assigner.start()
    runtime.jobs["assigner"] = assigner
    closers.append(assigner.stop)
    runtime.limits = CustomerLimits(settings)
    runtime.sockets = SocketRegistry(desk.metrics)
    runtime.sockets.install(asyncio.get_running_loop())
    retention = RetentionJob(settings, store, broker, desk.metrics)
    retention.start()
    runtime.jobs["retention"] = retention
    closers.append(retention.stop)
    if settings.webhooks_enabled:  # off the chat path: it reads the stored event log (app/webhooks.py)
        from app.storage.integrations import IntegrationStore
        from app.webhook_worker import WebhookWorker

        webhooks = WebhookWorker(settings, IntegrationStore(store.engine))
        webhooks.start()
        runtime.jobs["webhooks"] = webhooks
        closers.append(webhooks.stop)

    async def uninstall() -> None:  # first to stop: sockets are told to reconnect before the rest goes
        runtime.sockets.uninstall()

    closers.append(uninstall)
    freeze_startup_heap()


def freeze_startup_heap() -> None:
    """What start-up built (modules, the model, the index, the knowledge base) lives as long as the
    process: moved out of the garbage collector's sight, a full collection scans what conversations
    allocate instead of ~220,000 start-up objects. Under `bench/load.py chat --customers 200 --think 5
    --gc-probe FILE` a full collection (about one in 30 s) held the interpreter 187.7 ms before, 23.8 ms after."""
    gc.collect()
    gc.freeze()
