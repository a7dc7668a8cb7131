"""Privacy requests: `parley privacy export/erase/purge`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import typer

from app.cli.common import _with_store

privacy_cli = typer.Typer(help="Privacy requests: export or erase one contact; purge old conversations.",
                          no_args_is_help=True)


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
