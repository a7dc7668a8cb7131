"""What the parley commands share: the root command, the settings (a bad configuration exits 2 with a
readable message), and running a command against the configured store, with or without the
knowledge base's runtime."""

from __future__ import annotations

import asyncio
from typing import Any

import typer

from app.config import Settings, get_settings

cli = typer.Typer(help="Parley: a customer-service chat desk with a knowledge-base bot and live human handoff.",
                  no_args_is_help=True, add_completion=False)


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # bad configuration stops here with a readable message
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None


async def _with_runtime(fn: Any, threads: int | None = None) -> Any:
    """Run `fn(store, knowledge)` against the configured database with the embedding model loaded
    (on `threads` threads; default PARLEY_EMBEDDING_THREADS); with PARLEY_REDIS_URL set, running
    servers are told about the changes."""
    from app.runtime import build_runtime

    runtime = await build_runtime(_settings(), serving=False, threads=threads)
    try:
        result = await fn(runtime.store, runtime.knowledge)
        await runtime.knowledge.settle()  # index and classifier saved: the next server start is ready at once
        return result
    finally:
        await runtime.close()


async def _with_store(fn: Any) -> Any:
    from app.storage.migrations import upgrade_database
    from app.storage.sql import SqlStore

    settings = _settings()
    await upgrade_database(settings.database_url)
    store = SqlStore.from_url(settings.database_url)
    broker: Any = None
    if settings.redis_url:  # running servers close the sockets of erased conversations
        from app.runtime import make_broker

        broker = make_broker(settings)
        await broker.start()
    try:
        return await fn(settings, store, broker)
    finally:
        if broker is not None:
            await broker.close()
        await store.close()


def _refusals_exit_1(run: Any, refused: tuple[type[Exception], ...], not_found: str) -> Any:
    """asyncio.run(_with_store(run)) for one admin action: a refused change (one of `refused`) exits 1
    with its reason, an unknown id or key (LookupError) exits 1 with `not_found` before it."""
    try:
        return asyncio.run(_with_store(run))
    except refused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except LookupError as exc:
        typer.echo(f"{not_found}{exc}", err=True)
        raise typer.Exit(1) from None
