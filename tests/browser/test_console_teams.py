"""Routing to a team, in a real browser at 1024 px: an admin's rules send a customer who asks for a
person from the demo shop to Billing and a French-speaking one to Returns; the agent sees each
case's team badge in the queue, filters the queue by team, and sets a priority and a tag on the
open case, which the queue then shows. Screenshots go to test-artifacts/screenshots/ (console-teams-*)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from tests.browser.pages import desk_sign_in
from tests.browser.test_console import shot, wait_until
from tests.harness import LiveServer

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

NARROW = {"width": 1024, "height": 768}


def test_a_case_routed_to_a_team_shows_its_badge_and_the_queue_filters_by_team(
        browser: Any, fresh_server: LiveServer) -> None:
    server = fresh_server.start()
    base = server.base_url
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {server.login('admin@parley.local')}"})
    users = {u["email"]: u["id"] for u in admin.get("/api/admin/users").json()}
    billing = admin.post("/api/admin/teams", json={"name": "Billing", "member_ids": [users["agent@parley.local"]]}).json()
    returns = admin.post("/api/admin/teams", json={"name": "Returns"}).json()
    assert admin.post("/api/admin/routing-rules", json={"team_id": returns["id"], "language": "fr"}).status_code == 201
    assert admin.post("/api/admin/routing-rules",
                      json={"team_id": billing["id"], "reason": "customer_request"}).status_code == 201

    errors: list[str] = []
    shop_ctx, agent_ctx = browser.new_context(viewport={"width": 1280, "height": 860}), browser.new_context(viewport=NARROW)
    with ws_connect(f"{server.ws_url}/ws/chat?lang=fr") as french:
        _route_and_filter(shop_ctx, agent_ctx, french, base, errors)
    shop_ctx.close()
    agent_ctx.close()
    assert errors == []


def _route_and_filter(shop_ctx: Any, agent_ctx: Any, french: Any, base: str, errors: list[str]) -> None:
    """The customers ask, the agent sees the teams, filters, and labels the shop's case."""
    shop, desk = shop_ctx.new_page(), agent_ctx.new_page()
    for page in (shop, desk):
        page.on("pageerror", lambda e: errors.append(str(e)))
    desk_sign_in(desk, base, "agent@parley.local")

    # A customer in the demo shop asks for a person: the customer_request rule picks Billing.
    shop.goto(base + "/demo")
    shop.locator("parley-widget button.l").click()
    chat = shop.frame_locator("parley-widget iframe")
    chat.locator("#input").wait_for(state="visible")
    chat.locator("#input").fill("can I talk to a person")
    chat.locator("#input").press("Enter")
    frame = next(f for f in shop.frames if "/widget/frame.html" in f.url)
    wait_until(shop, lambda: json.loads(frame.evaluate("localStorage.getItem('parley:demo')") or "{}").get("conv"),
               "the widget's conversation")
    shop_conv = json.loads(frame.evaluate("localStorage.getItem('parley:demo')"))["conv"]

    # A French-speaking customer (over the socket) asks too: the language rule comes first, Returns.
    french_conv = json.loads(french.recv(timeout=10))["conversation_id"]
    french.send(json.dumps({"type": "message", "text": "je veux parler à un conseiller", "client_msg_id": "fr1"}))

    queue = desk.locator("#queue-list")
    shop_item, french_item = (queue.locator(f"li[data-conv={c}]") for c in (shop_conv, french_conv))
    shop_item.wait_for(timeout=20_000)
    french_item.wait_for(timeout=20_000)
    assert shop_item.locator(".team-badge").inner_text() == "Billing"
    assert french_item.locator(".team-badge").inner_text() == "Returns"
    shot(desk, "console-teams-01-queue-1024")

    # The team filter shows one team's queue.
    desk.select_option("#queue-team", label="Billing")
    wait_until(desk, lambda: french_item.count() == 0, "the Returns case hidden by the Billing filter")
    assert shop_item.count() == 1
    shot(desk, "console-teams-02-filter-billing-1024")
    desk.select_option("#queue-team", label="Returns")
    wait_until(desk, lambda: shop_item.count() == 0 and french_item.count() == 1, "only the Returns case")
    desk.select_option("#queue-team", label="All teams")
    wait_until(desk, lambda: shop_item.count() == 1 and french_item.count() == 1, "both cases again")

    # Priority and a tag on the open case: the queue shows them, urgent first.
    shop_item.locator(".case-who").click()
    desk.locator("#case-labels").wait_for(state="visible")
    assert "Billing" in desk.locator("#case-facts").inner_text()
    desk.select_option("#case-priority", "urgent")
    desk.fill("#case-tag-new", "Refund")
    desk.press("#case-tag-new", "Enter")
    desk.locator("#case-tags .tag", has_text="refund").wait_for()
    wait_until(desk, lambda: shop_item.locator(".badge.prio-urgent").count() == 1
               and "refund" in shop_item.locator(".tag").all_inner_texts(), "the urgent badge and tag in the queue")
    assert queue.locator("li").first.get_attribute("data-conv") == shop_conv
    assert desk.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    shot(desk, "console-teams-03-labelled-1024")
