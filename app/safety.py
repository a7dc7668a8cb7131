"""Safe defaults: outside demo mode the server refuses to start with the demo's shortcuts in place."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from app.auth import verify_password
from app.config import Settings

log = logging.getLogger("parley")
DEMO_PASSWORD = "parley-demo"  # what `parley demo` gives its accounts
DEMO_ACCOUNTS = [("admin@parley.local", "Ada Admin", "admin"), ("agent@parley.local", "Alex Agent", "agent"),
                 ("editor@parley.local", "Eddie Editor", "editor")]


class UnsafeConfiguration(RuntimeError):
    pass


async def demo_shortcuts(settings: Settings, store: Any) -> list[str]:
    """What a production desk must not have: keyless sockets, sites open to every origin, demo passwords."""
    problems = []
    if not settings.require_widget_key:
        problems.append("PARLEY_REQUIRE_WIDGET_KEY=false lets customer sockets in without a widget key")
    for site in await store.list_sites():
        if site.enabled and "*" in site.allowed_origins:
            problems.append(f"site {site.key!r} allows every origin (*): set its origins with "
                            f"`parley site update {site.key} --origin https://your.site` or disable it")
    # The accounts `parley demo` creates, checked side by side (an argon2 check is ~0.5 s). Other accounts
    # cannot hold the demo password: outside demo mode it is refused when a password is set
    # (demo_password_refused), so start-up does not grow with the team.
    demo_emails = {email for email, _, _ in DEMO_ACCOUNTS}
    users = [u for u in await store.list_users() if u.active and u.email in demo_emails]

    async def has_demo_password(email: str) -> bool:
        credentials = await store.get_user_credentials(email)
        return bool(credentials) and await asyncio.to_thread(verify_password, credentials[1], DEMO_PASSWORD)

    found = await asyncio.gather(*(has_demo_password(u.email) for u in users))
    for user, demo in zip(users, found):
        if demo:
            problems.append(f"the account {user.email} still has the demo password: change it "
                            "(admin page or PATCH /api/admin/users/{id}) or deactivate it")
    return problems


def demo_password_refused(settings: Settings, password: str) -> str | None:
    """Why `password` may not be set, outside demo mode: it is the demo's published password."""
    if not settings.demo_mode and password == DEMO_PASSWORD:
        return "that is the demo's published password; choose another (it is allowed only in demo mode)"
    return None


async def preflight(settings: Settings) -> list[str]:
    """The start-up check, run by `parley serve` before the server starts, so a refusal is one clear
    message rather than a lifespan traceback. A database not created yet has nothing to refuse."""
    if settings.demo_mode:
        return []
    from app.storage.sql import SqlStore

    store = SqlStore.from_url(settings.database_url)
    try:
        return await demo_shortcuts(settings, store)
    except Exception:  # no tables yet (migrations run at start): the server's own check follows them
        return [] if settings.require_widget_key else [
            "PARLEY_REQUIRE_WIDGET_KEY=false lets customer sockets in without a widget key"]
    finally:
        await store.close()


def refusal(problems: list[str]) -> str:
    return ("refusing to start: PARLEY_DEMO_MODE is off (a production desk) but " + "; ".join(problems)
            + ". Fix these, or set PARLEY_DEMO_MODE=true (parley serve --demo) to run the demo.")


async def check_safe_defaults(settings: Settings, store: Any) -> None:
    """Raise UnsafeConfiguration, naming PARLEY_DEMO_MODE, unless in demo mode or nothing is unsafe."""
    if settings.demo_mode:
        open_sites = [site.key for site in await store.list_sites() if site.enabled and "*" in site.allowed_origins]
        log.warning("demo mode (PARLEY_DEMO_MODE): the demo passwords, sites open to every origin%s and keyless "
                    "customer sockets are allowed; do not expose this desk",
                    f" ({', '.join(open_sites)})" if open_sites else "")
        return
    problems = await demo_shortcuts(settings, store)
    if problems:
        raise UnsafeConfiguration(refusal(problems))
