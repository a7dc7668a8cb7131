"""The admin page's API tokens and webhooks: a token is shown once, listed by its prefix, revocable; names stay text."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.pages import desk_sign_in
from tests.harness import SHOTS, LiveServer

pytestmark = pytest.mark.browser


def test_an_admin_creates_and_revokes_an_api_token_and_adds_a_webhook_on_the_admin_page(
        browser: Any, live_server: LiveServer) -> None:
    page = browser.new_page()
    desk_sign_in(page, live_server.base_url, "admin@parley.local", then="/admin")
    page.locator("#t-user option", has_text="agent@parley.local").wait_for(state="attached")
    page.fill("#t-name", "<b>CRM</b> sync")
    page.select_option("#t-user", label="agent@parley.local (agent)")
    page.check("#token-form input[value=agent]")
    page.click("#token-form button[type=submit]")
    page.locator("#once-box").wait_for(state="visible")
    token = page.locator("#once-value").text_content() or ""
    assert token.startswith("pk_") and len(token) > 40
    row = page.locator("#tokens tbody tr", has_text=token[:11])  # this run's token (the shared server may hold others)
    row.wait_for()
    assert token[:11] in (row.text_content() or "") and token not in (page.locator("#tokens").text_content() or "")
    assert page.locator("#tokens b").count() == 0  # the name is text, never markup
    # the token works, as the agent, for agent routes
    me = httpx.get(live_server.base_url + "/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == "agent@parley.local"
    page.click("#once-done")
    assert page.locator("#once-box").is_hidden() and (page.locator("#once-value").text_content() or "") == ""

    page.fill("#h-url", "https://crm.example.com/parley")
    page.fill("#h-events", "message.created case.resolved")
    page.click("#hook-form button[type=submit]")
    page.locator("#once-box").wait_for(state="visible")
    assert (page.locator("#once-value").text_content() or "").startswith("whsec_")
    page.locator("#hooks tbody tr", has_text="crm.example.com").wait_for()
    page.screenshot(path=str(SHOTS / "admin-integrations.png"), full_page=True)
    page.fill("#h-url", "ftp://nope.example.com")
    page.click("#hook-form button[type=submit]")
    page.locator("#hook-error").filter(has_text="https://").wait_for()

    row.get_by_role("button", name="Revoke").click()
    page.locator("#tokens tbody tr", has_text=token[:11]).filter(has_text="revoked").wait_for()
    assert httpx.get(live_server.base_url + "/api/auth/me",
                     headers={"Authorization": f"Bearer {token}"}).status_code == 401
    page.close()
    # leave the shared server as it was: no webhook keeps trying crm.example.com
    admin = httpx.Client(base_url=live_server.base_url,
                         headers={"Authorization": f"Bearer {live_server.login('admin@parley.local')}"})
    for hook in admin.get("/api/admin/webhooks").json():
        if hook["url"] == "https://crm.example.com/parley":
            admin.delete(f"/api/admin/webhooks/{hook['id']}")
