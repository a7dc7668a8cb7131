"""Safe defaults: outside demo mode the server refuses to start with the demo's shortcuts in place."""

from __future__ import annotations

import asyncio
from typing import Any

from app.auth import verify_password
from app.config import Settings

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
    users = [u for u in await store.list_users() if u.active]
    for user in users:  # every active account: a demo password on any of them opens the desk
        credentials = await store.get_user_credentials(user.email)
        if credentials and await asyncio.to_thread(verify_password, credentials[1], DEMO_PASSWORD):
            problems.append(f"the account {user.email} still has the demo password: change it "
                            "(admin page or PATCH /api/admin/users/{id}) or deactivate it")
    return problems


async def check_safe_defaults(settings: Settings, store: Any) -> None:
    """Raise UnsafeConfiguration, naming PARLEY_DEMO_MODE, unless in demo mode or nothing is unsafe."""
    if settings.demo_mode:
        return
    problems = await demo_shortcuts(settings, store)
    if problems:
        raise UnsafeConfiguration(
            "refusing to start: PARLEY_DEMO_MODE is off (a production desk) but "
            + "; ".join(problems) + ". Fix these, or set PARLEY_DEMO_MODE=true (parley serve --demo) "
            "to run the demo.")
