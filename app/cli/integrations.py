"""Integrations: outgoing webhooks (`parley webhooks`) and API tokens (`parley tokens`)."""

from __future__ import annotations

from typing import Any, Optional

import typer

from app.cli.common import _refusals_exit_1, _settings
from app.config import Settings

webhooks_cli = typer.Typer(help="Outgoing webhooks: endpoints, their deliveries, replays.", no_args_is_help=True)
tokens_cli = typer.Typer(help="API tokens for integrations: create (shown once), list, revoke.", no_args_is_help=True)


def _integration_call(fn: Any) -> Any:
    """Run one integrations action as the parley command; a refused change or an unknown id exits 1."""
    from app.apitokens import TokenError
    from app.storage.integrations import IntegrationStore
    from app.storage.sites import Audit
    from app.webhook_outbound import WebhookError

    async def run(settings: Settings, store: Any, broker: Any) -> Any:
        return await fn(store, IntegrationStore(store.engine), Audit("cli"))

    return _refusals_exit_1(run, (WebhookError, TokenError), "not found: ")


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
