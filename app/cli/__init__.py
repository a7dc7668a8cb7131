"""The `parley` command: serve, manage the knowledge base and users, migrate, evaluate.

One module per command group; this one puts them under the root command in the order `parley --help`
lists them. Top-level commands register on import, in the order of the imports below (serve, demo,
eval)."""

# isort: skip_file
from __future__ import annotations

from app.cli.common import cli
from app.cli.server import mail_cli, serving_app
from app.cli.admin import db_cli, users_cli
from app.cli.kb import kb_cli
from app.cli.privacy import privacy_cli
from app.cli.sites import site_cli
from app.cli.integrations import tokens_cli, webhooks_cli

__all__ = ["cli", "main", "serving_app"]

cli.add_typer(kb_cli, name="kb")
cli.add_typer(users_cli, name="users")
cli.add_typer(db_cli, name="db")
cli.add_typer(privacy_cli, name="privacy")
cli.add_typer(site_cli, name="site")
cli.add_typer(mail_cli, name="mail")
cli.add_typer(webhooks_cli, name="webhooks")
cli.add_typer(tokens_cli, name="tokens")


def main() -> None:
    cli()
