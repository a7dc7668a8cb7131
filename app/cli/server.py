"""The long-running commands: `parley serve` (the web server, after the preflight checks) and
`parley mail serve` (the SMTP receiver)."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, Optional

import typer

from app.cli.common import _settings, _with_runtime, cli
from app.config import get_settings


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
    uvicorn.run("app.cli.server:serving_app", factory=True, host=host, port=port, workers=workers, log_level=log_level,
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


mail_cli = typer.Typer(help="The email channel: the built-in SMTP receiver.", no_args_is_help=True)


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
