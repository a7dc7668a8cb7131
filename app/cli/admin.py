"""Setting up a desk: `parley db upgrade`, console accounts (`parley users`) and `parley demo`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Optional

import typer

from app.cli.common import _settings, _with_runtime, cli

users_cli = typer.Typer(help="Manage agent, editor and admin accounts.", no_args_is_help=True)
db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)

DEMO_DIR = Path(__file__).resolve().parents[2] / "knowledge_base" / "demo"


@db_cli.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Apply database migrations (SQLite or PostgreSQL)."""
    from app.storage.migrations import upgrade_sync

    upgrade_sync(_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@users_cli.command("create")
def users_create(email: str = typer.Option(...), password: str = typer.Option(...),
                 role: str = typer.Option(..., help="agent, editor or admin"),
                 name: Optional[str] = typer.Option(None), capacity: int = typer.Option(3, min=1, max=50),
                 if_missing: bool = typer.Option(False, "--if-missing", help="Do nothing when the email exists.")) -> None:
    """Create a user who can log in to the console."""
    from app.auth import hash_password
    from app.storage.migrations import upgrade_sync
    from app.storage.records import ROLES
    from app.storage.sql import Conflict, SqlStore

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    from app.safety import demo_password_refused

    settings = _settings()
    if demo_password_refused(settings, password):
        raise typer.BadParameter(demo_password_refused(settings, password) or "")
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    upgrade_sync(settings.database_url)

    async def run() -> str:
        store = SqlStore.from_url(settings.database_url)
        try:
            user = await store.create_user(email, name or email.split("@")[0].title(), password_hash, role, capacity)
            return f"created {user.role} {user.email} (id {user.id})"
        except Conflict as exc:
            if if_missing:
                return f"{email} exists; left as it is"
            typer.echo(exc.detail, err=True)
            raise typer.Exit(1) from None
        finally:
            await store.close()

    typer.echo(asyncio.run(run()))


@users_cli.command("list")
def users_list() -> None:
    """List users."""
    from app.storage.sql import SqlStore

    async def run() -> None:
        store = SqlStore.from_url(_settings().database_url)
        try:
            for u in await store.list_users():
                typer.echo(f"{u.id}\t{u.email}\t{u.role}\t{'active' if u.active else 'inactive'}")
        finally:
            await store.close()

    asyncio.run(run())


@cli.command()
def demo() -> None:
    """Load the demo knowledge base, the demo widget key and demo accounts (idempotent)."""
    from app.auth import hash_password
    from app.safety import DEMO_ACCOUNTS, DEMO_PASSWORD
    from app.storage.sql import Conflict

    async def run(store: Any, knowledge: Any) -> int:
        from knowledge_base.formats.markdown import load_markdown_folder

        result = load_markdown_folder(DEMO_DIR)
        for draft in result.drafts:
            await knowledge.save_draft(draft)
        await knowledge.save_index()
        await store.upsert_site("demo", "Lumen & Loom demo shop", ["*"])
        for email, name, role in DEMO_ACCOUNTS:
            try:
                await store.create_user(email, name, hash_password(DEMO_PASSWORD), role)
            except Conflict:
                pass
        return len(result.drafts)

    count = asyncio.run(_with_runtime(run))
    typer.echo(f"demo ready: {count} articles; log in as agent@parley.local / editor@parley.local / "
               "admin@parley.local with password parley-demo; serve it with `parley serve --demo` (demo mode: "
               "a server without it refuses to start with these passwords and the demo's `*` widget key)")
