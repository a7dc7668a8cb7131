"""Signing in as staff, the way a person does it, for the browser tests."""

from __future__ import annotations

from typing import Any

DEMO_PASSWORD = "parley-demo"


def desk_sign_in(page: Any, base: str, email: str, then: str | None = None) -> None:
    """The desk's login page (/login), which lands on the console; then open `then` if given."""
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/console")
    if then:
        page.goto(base + then)


def editor_sign_in(page: Any, base: str, path: str, email: str = "editor@parley.local") -> None:
    """An editor page (`path`) and its own login form, until the page's app shows."""
    page.goto(base + path)
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#app:not([hidden])")
