"""The `parley` command: serve, manage the knowledge base and users, migrate, evaluate."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from app.config import Settings, get_settings

cli = typer.Typer(help="Parley: a customer-service chat desk with a knowledge-base bot and live human handoff.",
                  no_args_is_help=True, add_completion=False)
kb_cli = typer.Typer(help="Import and export knowledge-base articles.", no_args_is_help=True)
users_cli = typer.Typer(help="Manage agent, editor and admin accounts.", no_args_is_help=True)
db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)
cli.add_typer(kb_cli, name="kb")
cli.add_typer(users_cli, name="users")
cli.add_typer(db_cli, name="db")
privacy_cli = typer.Typer(help="Privacy requests: export or erase one contact; purge old conversations.",
                          no_args_is_help=True)
cli.add_typer(privacy_cli, name="privacy")
site_cli = typer.Typer(help="Websites that embed the widget: keys, allowed origins, identity secrets.",
                       no_args_is_help=True)
cli.add_typer(site_cli, name="site")

DEMO_DIR = Path(__file__).resolve().parents[1] / "knowledge_base" / "demo"


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # bad configuration stops here with a readable message
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None


@cli.command()
def serve(host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
          port: int = typer.Option(8000, help="TCP port."),
          workers: int = typer.Option(1, help="Processes (needs PostgreSQL and Redis when > 1)."),
          log_level: str = typer.Option("info"),
          demo: bool = typer.Option(False, "--demo", help="Demo mode (PARLEY_DEMO_MODE=true): allow the demo "
                                    "passwords and the demo's `*` widget key.")) -> None:
    """Serve the widget, the consoles, the sockets and the API."""
    import uvicorn

    if demo:  # before the settings are read; worker processes inherit it
        os.environ["PARLEY_DEMO_MODE"] = "true"
        get_settings.cache_clear()
    settings = _settings()
    if workers > 1 and (settings.database_url.startswith("sqlite") or not settings.redis_url):
        typer.echo("more than one worker needs DATABASE_URL on PostgreSQL and REDIS_URL", err=True)
        raise typer.Exit(2)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from app.safety import preflight, refusal

    problems = asyncio.run(preflight(settings))
    if problems:  # one clear message and exit 2, not a lifespan traceback per worker
        typer.echo(refusal(problems), err=True)
        raise typer.Exit(2)
    from app.logging import log_config

    # permessage-deflate off: chat frames are small, and compressing them cost the server (and every
    # browser) CPU on each frame plus a zlib state per socket, for little saved on the wire.
    uvicorn.run("app.cli:serving_app", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                log_config=log_config(log_level, settings.log_format), access_log=False,
                ws_max_size=settings.max_frame_bytes, ws_ping_interval=20, ws_ping_timeout=20, ws_per_message_deflate=False,
                http="app.http_guard:HeaderDeadlineProtocol",  # a deadline for each request's head
                timeout_graceful_shutdown=10, proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips)


SWITCH_INTERVAL = 0.001  # seconds; Python's default is 0.005


def serving_app() -> Any:
    """The app as `parley serve` runs it, in each worker process. A thread that wants the GIL waits up
    to the switch interval while another runs Python: the event loop and the database thread hand
    work back and forth many times per message while the bot's threads run Python, so a shorter
    interval shortens every hand-off."""
    from app.main import create_app

    sys.setswitchinterval(SWITCH_INTERVAL)
    return create_app()


@db_cli.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Apply database migrations (SQLite or PostgreSQL)."""
    from app.storage.migrations import upgrade_sync

    upgrade_sync(_settings().database_url, revision)
    typer.echo(f"database at {revision}")


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


def load_drafts(path: Path, fmt: str, include_plain_intents: bool = False, mapping: dict[str, str] | None = None) -> Any:
    if fmt == "markdown":
        from knowledge_base.formats.markdown import load_markdown_folder

        return load_markdown_folder(path)
    if fmt == "rasa":
        from knowledge_base.formats.rasa import load_rasa_project

        return load_rasa_project(path, include_plain_intents=include_plain_intents)
    if fmt == "csv":
        from knowledge_base.formats.csv_format import load_csv

        try:
            return load_csv(path, mapping)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    if fmt == "zendesk":
        from knowledge_base.formats.zendesk import load_zendesk

        return load_zendesk(path)
    raise typer.BadParameter(f"unknown format {fmt!r}")


@contextlib.contextmanager
def _import_progress(total: int) -> Any:
    """progress(done, total) for an import: a bar on a terminal, else one plain line per call
    (`imported 50/246 articles`), so a log or CI shows it advance."""
    if sys.stderr.isatty():
        with typer.progressbar(length=total, label="importing", file=sys.stderr) as bar:
            shown = [0]

            def advance(done: int, _total: int) -> None:
                bar.update(done - shown[0])
                shown[0] = done

            yield advance
        return

    def line(done: int, total: int) -> None:
        print(f"imported {done}/{total} articles", file=sys.stderr, flush=True)

    yield line


@kb_cli.command("import")
def kb_import(path: Path = typer.Argument(..., exists=True, help="A folder or file to import."),
              format: str = typer.Option("markdown", "--format", "-f", help="markdown, rasa, csv or zendesk"),
              column_map: Optional[str] = typer.Option(None, "--map", help="csv: field=Column pairs, e.g. question=Q,answer=A,category=Topic"),
              plain_intents: bool = typer.Option(False, help="rasa: import plain intents that have a response too."),
              status: Optional[str] = typer.Option(None, help="Override every article's status (draft, published)."),
              threads: int = typer.Option(0, min=0, max=64, help="Embedding threads for the import; 0 = every core.")
              ) -> None:
    """Import articles. Idempotent: re-importing updates changed articles and never duplicates.
    One bulk operation: articles are embedded and stored in groups, with a progress bar on a
    terminal and a line per group otherwise."""
    result = load_drafts(path, format, plain_intents, column_map)  # type: ignore[arg-type]
    for problem in result.problems:
        typer.echo(f"skipped {problem}", err=True)
    drafts = result.drafts
    if status:
        from dataclasses import replace

        drafts = [replace(d, status=status) for d in drafts]

    async def run(store: Any, knowledge: Any) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        with _import_progress(len(drafts)) as progress:
            for _, outcome in await knowledge.import_drafts(drafts, progress=progress):
                counts[outcome] += 1
        await knowledge.save_index()
        return counts

    counts = asyncio.run(_with_runtime(run, threads or os.cpu_count() or 1))
    typer.echo(f"created {counts['created']}, updated {counts['updated']}, unchanged {counts['unchanged']}, "
               f"skipped {len(result.problems)}")
    if result.problems and not drafts:
        raise typer.Exit(1)


@kb_cli.command("export")
def kb_export(path: Path = typer.Argument(..., help="Folder to write Markdown files into.")) -> None:
    """Export every article as Markdown with YAML front matter."""
    from app.storage.sql import SqlStore
    from knowledge_base.formats.markdown import export_markdown_folder
    from knowledge_base.models import ArticleDraft

    async def run() -> int:
        store = SqlStore.from_url(_settings().database_url)
        try:
            articles = await store.list_articles()
        finally:
            await store.close()
        drafts = [ArticleDraft(a.id, a.title, a.body, a.category, tuple(a.questions), tuple(a.tags), a.status)
                  for a in articles]
        return export_markdown_folder(drafts, path)

    typer.echo(f"exported {asyncio.run(run())} articles to {path}")


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


@kb_cli.command("tune")
def kb_tune(steps: int = typer.Option(250, min=1, help="Training steps (32 articles x 2 questions each)."),
            lr: float = typer.Option(3e-5, help="Learning rate."),
            seed: int = typer.Option(0, help="Random seed."),
            output: Optional[Path] = typer.Option(None, help="Directory for the tuned model "
                                                  "(default: DATA_DIR/models/tuned-<time>).")) -> None:
    """Fine-tune the embedding model on the published articles' titles and example questions."""
    import time

    from knowledge_base.tuning import tune_model

    async def run(settings: Settings, store: Any, broker: Any) -> dict[str, list[str]]:
        return {a.id: [a.title, *a.questions] for a in await store.list_articles(status="published")}

    groups = asyncio.run(_with_store(run))
    settings = _settings()
    out = output or settings.data_dir / "models" / f"tuned-{time.strftime('%Y%m%dT%H%M%S')}"
    try:
        with typer.progressbar(length=steps, label="tuning", file=sys.stderr) as bar:
            report = tune_model(settings.embedding_model, groups, out, steps=steps, lr=lr, seed=seed,
                                threads=settings.embedding_threads, progress=lambda step, loss: bar.update(1))
    except ValueError as exc:
        typer.echo(f"cannot tune: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"tuned {report.articles} articles ({report.examples} questions), {steps} steps in "
               f"{report.seconds:.0f} s, final loss {report.final_loss:.3f}: {out}")
    typer.echo(f"use it with PARLEY_EMBEDDING_MODEL={out.resolve()} (the server re-embeds every article for a "
               "new model at start-up); re-check the thresholds with `parley eval`.")


@cli.command("eval", context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             add_help_option=False)
def eval_command(ctx: typer.Context) -> None:
    """Answer-quality benchmarks on public data (doc2dial, clinc150, banking77, helpdesk): `parley eval --help`.

    The benchmarks live in bench/ and run as their own program (`python -m bench`): the product never imports them."""
    import subprocess

    raise typer.Exit(subprocess.call([sys.executable, "-m", "bench", *ctx.args]))


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


@privacy_cli.command("export")
def privacy_export(contact: str = typer.Argument(..., help="The contact's email or the site's user_id."),
                   out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout.")) -> None:
    """Export everything stored about one contact as JSON."""
    import json

    from app import privacy

    data = asyncio.run(_with_store(lambda settings, store, broker: privacy.export_contact(store, contact)))
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"exported {len(data['conversations'])} conversations to {out}", err=True)
    else:
        typer.echo(text)
    if not data["conversations"]:
        raise typer.Exit(1)


@privacy_cli.command("erase")
def privacy_erase(contact: str = typer.Argument(..., help="The contact's email or the site's user_id."),
                  yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Erase one contact completely: conversations, events, cases and derived data."""
    from app import privacy

    if not yes:
        typer.confirm(f"Erase everything stored about {contact}?", abort=True)
    result = asyncio.run(_with_store(lambda settings, store, broker: privacy.erase_contact(settings, store, contact, broker)))
    typer.echo(f"erased {result['conversations']} conversations, {result['events']} events, {result['cases']} cases")


@privacy_cli.command("purge")
def privacy_purge(days: Optional[int] = typer.Option(None, min=1, help="Override PARLEY_RETENTION_DAYS.")) -> None:
    """Delete conversations untouched for the retention period (PARLEY_RETENTION_DAYS)."""
    from app import privacy

    result = asyncio.run(_with_store(lambda settings, store, broker: privacy.purge(settings, store, days, broker)))
    if not result["retention_days"]:
        typer.echo("retention is off (PARLEY_RETENTION_DAYS=0); nothing purged")
        return
    typer.echo(f"purged {result['conversations']} conversations older than {result['retention_days']} days "
               f"({result['events']} events, {result['cases']} cases)")


def _site_call(fn: Any) -> Any:
    """Run one site action as the parley command; a refused change or unknown key exits 1 with the reason."""
    from app import sites
    from app.storage.sites import Audit

    async def run(settings: Settings, store: Any, broker: Any) -> Any:
        return await fn(settings, store, Audit("cli"))

    try:
        return asyncio.run(_with_store(run))
    except sites.SiteError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except LookupError as exc:
        typer.echo(f"no site {exc}", err=True)
        raise typer.Exit(1) from None


def _show_site(site: Any) -> None:
    from app.sites import script_tag

    typer.echo(f"{site.key}\t{site.name}\t{'enabled' if site.enabled else 'disabled'}\t{site.language}\t"
               f"{'identity required' if site.enforce_identity else 'identity optional'}\t"
               f"{' '.join(site.allowed_origins)}")
    from app.hours import describe, hours_from_json

    typer.echo(f"  hours: {describe(hours_from_json(site.business_hours))}")
    typer.echo(f"  {script_tag(_settings().public_url or 'http://127.0.0.1:8000', site)}")


@site_cli.command("create")
def site_create(name: str = typer.Option(..., help="The site's name, e.g. Acme shop."),
                origin: list[str] = typer.Option(..., "--origin", help="An allowed origin (repeat): "
                                                 "https://shop.example.com or https://*.example.com"),
                key: Optional[str] = typer.Option(None, help="The widget key (default generated)."),
                identity_required: bool = typer.Option(False, "--identity-required",
                                                       help="Refuse customers without a valid identity hash."),
                language: str = typer.Option("en", help="The widget's language: en, fr, es, de, pt or it.")) -> None:
    """Register a website; prints its widget key, its identity secret (only this once) and the script tag."""
    from app import sites

    site, secret = _site_call(lambda settings, store, who: sites.create_site(
        store, who, name=name, allowed_origins=origin, key=key, identity_required=identity_required,
        language=language, demo_mode=settings.demo_mode))
    _show_site(site)
    typer.echo(f"identity secret (shown once; sign user ids with HMAC-SHA256): {secret}")


@site_cli.command("list")
def site_list() -> None:
    """List sites with their origins and script tags."""
    for site in asyncio.run(_with_store(lambda settings, store, broker: store.list_sites())):
        _show_site(site)


@site_cli.command("update")
def site_update(key: str = typer.Argument(..., help="The widget key."),
                name: Optional[str] = typer.Option(None),
                origin: Optional[list[str]] = typer.Option(None, "--origin", help="Replace the allowed origins "
                                                           "(repeat for several)."),
                identity_required: Optional[bool] = typer.Option(None, "--identity-required/--identity-optional"),
                language: Optional[str] = typer.Option(None),
                enable: bool = typer.Option(False, "--enable", help="Enable a disabled site.")) -> None:
    """Change a site's name, origins, identity rule or language, or enable it again."""
    from app import sites

    changes = {"name": name, "allowed_origins": origin or None, "identity_required": identity_required,
               "language": language, "enabled": True if enable else None}
    _show_site(_site_call(lambda settings, store, who: sites.update_site(store, who, key, changes,
                                                                         settings.demo_mode)))


@site_cli.command("hours")
def site_hours(key: str = typer.Argument(..., help="The widget key."),
               zone: Optional[str] = typer.Option(None, "--zone", help="The site's IANA time zone, e.g. Europe/Berlin."),
               day: Optional[list[str]] = typer.Option(None, "--day", help="Opening hours (repeat): "
                                                       "'mon-fri 09:00-17:00', 'sat 10:00-14:00', 'fri 22:00-02:00'."),
               holiday: Optional[list[str]] = typer.Option(None, "--holiday", help="A closed date YYYY-MM-DD (repeat)."),
               clear: bool = typer.Option(False, "--clear", help="No business hours: open whenever an agent is.")) -> None:
    """Set a site's business hours (replacing them) or clear them. Out of hours customers are told when
    you are back and asked for an email; the bot keeps answering."""
    from app import sites
    from app.hours import HoursError, weekly_from_specs

    if clear:
        changes: dict[str, Any] = {"business_hours": {}}
    else:
        if not zone or not day:
            typer.echo("give --zone and at least one --day (or --clear)", err=True)
            raise typer.Exit(1)
        try:
            weekly = weekly_from_specs(day)
        except HoursError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        changes = {"business_hours": {"time_zone": zone, "weekly": weekly, "holidays": holiday or []}}
    _show_site(_site_call(lambda settings, store, who: sites.update_site(store, who, key, changes,
                                                                         settings.demo_mode)))


@site_cli.command("disable")
def site_disable(key: str = typer.Argument(..., help="The widget key.")) -> None:
    """Stop the widget on a site: its sockets are refused."""
    from app import sites

    _show_site(_site_call(lambda settings, store, who: sites.update_site(store, who, key, {"enabled": False})))


@site_cli.command("rotate-secret")
def site_rotate_secret(key: str = typer.Argument(..., help="The widget key."),
                       grace_hours: float = typer.Option(24, min=0, max=720, help="Hours the old secret still "
                                                         "verifies.")) -> None:
    """A new identity secret (printed once); the old one keeps verifying for the grace period."""
    from app import sites

    site, secret = _site_call(lambda settings, store, who: sites.rotate_secret(store, who, key, grace_hours))
    typer.echo(f"new identity secret for {site.key} (shown once): {secret}")
    if site.previous_secret_expires_at:
        typer.echo(f"the previous secret verifies until {site.previous_secret_expires_at:%Y-%m-%d %H:%M} UTC")


@site_cli.command("audit")
def site_audit(limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """Admin actions on sites, newest first: when, who, what."""
    import json

    for e in asyncio.run(_with_store(lambda settings, store, broker: store.list_audit(limit))):
        typer.echo(f"{e.created_at:%Y-%m-%d %H:%M:%S}\t{e.actor}\t{e.action}\t{e.target}\t"
                   f"{json.dumps(e.detail, default=str)}")


mail_cli = typer.Typer(help="The email channel: the built-in SMTP receiver.", no_args_is_help=True)
cli.add_typer(mail_cli, name="mail")


@mail_cli.command("serve")
def mail_serve(host: Optional[str] = typer.Option(None, help="Interface (default PARLEY_MAIL_RECEIVER_HOST)."),
               port: Optional[int] = typer.Option(None, help="TCP port (default PARLEY_MAIL_RECEIVER_PORT).")) -> None:
    """Receive email on SMTP (replies to reply+ addresses, new mail to PARLEY_MAIL_SUPPORT_ADDRESS) and
    send the email outbox. Agents' consoles see what arrives live when REDIS_URL is set (else run
    the receiver inside the server with PARLEY_MAIL_RECEIVER=true)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    async def run(store: Any, knowledge: Any) -> None:
        from app.conversation import Desk
        from app.email_channel import MailChannel
        from app.realtime.memory import MemoryBroker

        settings = _settings()
        broker: Any = MemoryBroker()
        if settings.redis_url:
            from app.realtime.redis import RedisBroker

            broker = RedisBroker(settings.redis_url, settings.redis_prefix)
        await broker.start()
        desk = Desk(settings, store, broker, knowledge.kb)
        channel = await MailChannel(settings, desk).open()
        channel.start()
        where = (host or settings.mail_receiver_host, port or settings.mail_receiver_port)
        await channel.serve_smtp(*where)
        typer.echo(f"SMTP receiver on {where[0]}:{where[1]}")
        try:
            await asyncio.Event().wait()
        finally:
            await channel.stop()
            await desk.close()
            await broker.close()

    try:
        asyncio.run(_with_runtime(run))
    except KeyboardInterrupt:
        pass


# ----------------------------------------------------------------------------- integrations: webhooks, API tokens
webhooks_cli = typer.Typer(help="Outgoing webhooks: endpoints, their deliveries, replays.", no_args_is_help=True)
cli.add_typer(webhooks_cli, name="webhooks")
tokens_cli = typer.Typer(help="API tokens for integrations: create (shown once), list, revoke.", no_args_is_help=True)
cli.add_typer(tokens_cli, name="tokens")


def _integration_call(fn: Any) -> Any:
    """Run one integrations action as the parley command; a refused change or an unknown id exits 1."""
    from app.apitokens import TokenError
    from app.storage.integrations import IntegrationStore
    from app.storage.sites import Audit
    from app.webhooks import WebhookError

    async def run(settings: Settings, store: Any, broker: Any) -> Any:
        return await fn(store, IntegrationStore(store.engine), Audit("cli"))

    try:
        return asyncio.run(_with_store(run))
    except (WebhookError, TokenError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except LookupError as exc:
        typer.echo(f"not found: {exc}", err=True)
        raise typer.Exit(1) from None


def _show_endpoint(e: Any) -> None:
    state = "enabled" if e.enabled else f"disabled ({e.disabled_reason or 'by an admin'})"
    typer.echo(f"{e.id}\t{e.url}\t{state}\t{','.join(e.events)}\t{e.description}")


@webhooks_cli.command("create")
def webhooks_create(url: str = typer.Option(..., help="https://... that receives a POST per event."),
                    event: list[str] = typer.Option(["*"], "--event", help="An event type (repeat), or * for all."),
                    description: str = typer.Option("", help="What it is for.")) -> None:
    """Subscribe a URL to events; prints the signing secret (only this once)."""
    from app import webhooks

    endpoint, secret = _integration_call(lambda store, integrations, who: webhooks.create_endpoint(
        integrations, who, url, event, description, _settings().webhook_allow_private))
    _show_endpoint(endpoint)
    typer.echo(f"signing secret (shown once; verify Parley-Signature with it): {secret}")


@webhooks_cli.command("list")
def webhooks_list() -> None:
    """Endpoints with their state and events."""
    for e in _integration_call(lambda store, integrations, who: integrations.list_endpoints()):
        _show_endpoint(e)


@webhooks_cli.command("update")
def webhooks_update(endpoint_id: int = typer.Argument(...), url: Optional[str] = typer.Option(None),
                    event: Optional[list[str]] = typer.Option(None, "--event", help="Replace the events (repeat)."),
                    enable: Optional[bool] = typer.Option(None, "--enable/--disable")) -> None:
    """Change an endpoint's URL or events, or enable or disable it."""
    from app import webhooks

    _show_endpoint(_integration_call(lambda store, integrations, who: webhooks.update_endpoint(
        integrations, who, endpoint_id, {"url": url, "events": event or None, "enabled": enable},
        _settings().webhook_allow_private)))


@webhooks_cli.command("delete")
def webhooks_delete(endpoint_id: int = typer.Argument(...)) -> None:
    """Remove an endpoint with its pending deliveries."""
    async def run(store: Any, integrations: Any, who: Any) -> None:
        if not await integrations.delete_endpoint(endpoint_id, who):
            raise LookupError(f"webhook {endpoint_id}")

    _integration_call(run)
    typer.echo(f"webhook {endpoint_id} deleted")


@webhooks_cli.command("rotate-secret")
def webhooks_rotate_secret(endpoint_id: int = typer.Argument(...),
                           grace_hours: float = typer.Option(24, min=0, max=720, help="Hours the old secret also "
                                                             "signs deliveries.")) -> None:
    """A new signing secret (printed once); the old one also signs for the grace period."""
    from app import webhooks

    endpoint, secret = _integration_call(lambda store, integrations, who: webhooks.rotate_secret(
        integrations, who, endpoint_id, grace_hours))
    typer.echo(f"new signing secret for webhook {endpoint.id} (shown once): {secret}")


@webhooks_cli.command("deliveries")
def webhooks_deliveries(endpoint_id: int = typer.Argument(...), status: Optional[str] = typer.Option(
        None, help="pending, delivered or failed"), limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """An endpoint's deliveries, newest first: id, event, status, attempts, last error."""
    for d in _integration_call(lambda store, integrations, who: integrations.list_deliveries(endpoint_id, status, limit)):
        typer.echo(f"{d.id}\t{d.created_at:%Y-%m-%d %H:%M:%S}\t{d.event_type}\t{d.status}\t{d.attempts} attempts\t"
                   f"{d.last_error or ''}")


@webhooks_cli.command("replay")
def webhooks_replay(delivery_id: str = typer.Argument(..., help="whd_...")) -> None:
    """Send a delivery again (same id, same body) as soon as a server's worker picks it up."""
    async def run(store: Any, integrations: Any, who: Any) -> Any:
        delivery = await integrations.replay(delivery_id, who)
        if delivery is None:
            raise LookupError(f"delivery {delivery_id}")
        return delivery

    _integration_call(run)
    typer.echo(f"delivery {delivery_id} queued again")


@tokens_cli.command("create")
def tokens_create(name: str = typer.Option(..., help="What it is for, e.g. CRM sync."),
                  user: str = typer.Option(..., help="The email of the user it acts as."),
                  scope: list[str] = typer.Option(..., "--scope", help="conversations:read, conversations:write, "
                                                  "agent, editor or admin (repeat)."),
                  expires_days: Optional[float] = typer.Option(None, min=0.01, max=3650)) -> None:
    """A new API token; prints it (only this once: only its hash is kept)."""
    from app import apitokens

    async def run(store: Any, integrations: Any, who: Any) -> Any:
        found = await store.get_user_credentials(user)
        if found is None:
            raise LookupError(f"user {user}")
        return await apitokens.create_token(integrations, who, found[0], name, scope, expires_days)

    record, token = _integration_call(run)
    typer.echo(f"{record.id}\t{record.prefix}\t{record.name}\t{' '.join(record.scopes)}")
    typer.echo(f"token (shown once; send it as Authorization: Bearer <token>): {token}")


@tokens_cli.command("list")
def tokens_list() -> None:
    """Tokens: id, prefix, name, user id, scopes, last use, revoked."""
    for t in _integration_call(lambda store, integrations, who: integrations.list_tokens()):
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        typer.echo(f"{t.id}\t{t.prefix}\t{t.name}\tuser {t.user_id}\t{' '.join(t.scopes)}\t{used}\t"
                   f"{'revoked' if t.revoked_at else 'active'}")


@tokens_cli.command("revoke")
def tokens_revoke(token_id: int = typer.Argument(...)) -> None:
    """Revoke a token: refused from the next request on."""
    async def run(store: Any, integrations: Any, who: Any) -> Any:
        record = await integrations.revoke_token(token_id, who)
        if record is None:
            raise LookupError(f"token {token_id}")
        return record

    record = _integration_call(run)
    typer.echo(f"token {record.id} ({record.prefix}) revoked")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
