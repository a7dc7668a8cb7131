"""Websites that embed the widget: `parley site create/list/update/hours/disable/rotate-secret/audit`."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

import typer

from app.cli.common import _refusals_exit_1, _settings, _with_store
from app.config import Settings

site_cli = typer.Typer(help="Websites that embed the widget: keys, allowed origins, identity secrets.",
                       no_args_is_help=True)


def _site_call(fn: Any) -> Any:
    """Run one site action as the parley command; a refused change or unknown key exits 1 with the reason."""
    from app import sites
    from app.storage.sites import Audit

    async def run(settings: Settings, store: Any, broker: Any) -> Any:
        return await fn(settings, store, Audit("cli"))

    return _refusals_exit_1(run, (sites.SiteError,), "no site ")


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
