"""The console for a support team, in a real browser at 1024 px and 1440 px: an agent takes over a
conversation from the bot (the Live tab), reads the customer's context, inserts a canned reply by
its /shortcut, and is told plainly when a claim would exceed their capacity. Screenshots of each
state go to test-artifacts/screenshots/ (console-desk-*)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from tests.browser.test_console import shot, sign_in, wait_until
from tests.harness import LiveServer

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

NARROW = {"width": 1024, "height": 768}
WIDE = {"width": 1440, "height": 900}


def check_fit(page: Any, width: int) -> None:
    """One header line, and the chat's actions (Resolve) inside the window."""
    top = page.locator(".topbar").bounding_box()
    assert top is not None and top["height"] <= 56, top
    for selector in (".tabs", ".topbar-right"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= top["height"] + 1, (selector, box)
    resolve = page.locator("#resolve-btn").bounding_box()
    assert resolve is not None and resolve["x"] >= 0 and resolve["x"] + resolve["width"] <= width, resolve
    head = page.locator(".chat-head").bounding_box()
    assert head is not None and head["height"] <= 72, head
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing sticks out sideways


def test_take_over_from_the_bot_with_context_shortcuts_and_capacity_at_1024_and_1440(
        browser: Any, live_server: LiveServer, admin_token: str) -> None:
    base = live_server.base_url
    errors: list[str] = []
    customer_ctx = browser.new_context(viewport={"width": 1280, "height": 860}, timezone_id="Asia/Tokyo",
                                       locale="fr-FR")
    agent_ctx = browser.new_context(viewport=NARROW)
    admin = {"Authorization": f"Bearer {admin_token}"}
    users = {u["email"]: u for u in httpx.get(base + "/api/admin/users", headers=admin).json()}
    alex = users["agent@parley.local"]
    waiting = None
    try:
        shop, desk = customer_ctx.new_page(), agent_ctx.new_page()
        for page in (shop, desk):
            page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(desk, base, "agent@parley.local")

        # A customer talks with the bot and says its answer did not help.
        shop.goto(base + "/demo")
        page_title = shop.title()
        shop.locator("parley-widget button.l").click()
        chat = shop.frame_locator("parley-widget iframe")
        chat.locator("#input").wait_for(state="visible")
        question = "how do I reset my password"
        chat.locator("#input").fill(question)
        chat.locator("#input").press("Enter")
        chat.locator("#msgs a.art").first.wait_for()
        article_title = chat.locator("#msgs a.art strong").first.inner_text().strip()
        chat.get_by_role("button", name="No").first.click()
        frame = next(f for f in shop.frames if "/widget/frame.html" in f.url)
        conversation = json.loads(frame.evaluate("localStorage.getItem('parley:demo')") or "{}")["conv"]

        # The agent sees it under "With the bot": the question, the bot's answer and how sure it was.
        desk.click("#tab-live")
        row = desk.locator(f"#live-rows tr[data-conv={conversation}]")
        row.wait_for(timeout=15_000)
        wait_until(desk, lambda: question in row.inner_text(), "the customer's question in the Live tab")
        decision = row.locator(".decision").inner_text()
        assert decision.startswith("Answered with") and "% sure" in decision, decision
        shot(desk, "console-desk-01-live-1024")

        # Read first: the bot has the chat; plain words for the bot's turns and the vote.
        row.get_by_role("button", name="Read").click()
        desk.locator("#chat-pane").wait_for(state="visible")
        desk.locator("#chat-banner", has_text="The bot is handling this chat").wait_for()
        transcript = desk.locator("#transcript")
        transcript.get_by_text(question).wait_for()
        vote = transcript.locator(".sys", has_text="not helpful")
        vote.wait_for()
        assert vote.inner_text() == f"The customer found \u201c{article_title}\u201d not helpful", vote.inner_text()
        assert "not_helpful" not in transcript.inner_text() and "reset-password" not in transcript.inner_text()

        # Join: the customer is told who joined; the agent has the case, the question and the context.
        desk.click("#join-btn")
        chat.locator("#msgs").get_by_text("Alex Agent has joined the chat.").wait_for()
        desk.locator("#resolve-btn").wait_for(state="visible")
        packet = desk.locator("#packet-question")  # the case's packet arrives just after the claim's ack
        wait_until(desk, lambda: packet.inner_text() == question, f"the packet's question {question!r}")
        facts = desk.locator("#customer-facts")
        wait_until(desk, lambda: "Local time" in facts.inner_text(), "the customer's context")
        text = facts.inner_text()
        assert page_title in text and "/demo" in text, text
        assert "on Linux" in text and "French" in text and "Tokyo" in text, text
        assert desk.locator("#past-list").inner_text().strip() != ""
        check_fit(desk, NARROW["width"])
        shot(desk, "console-desk-02-joined-1024")

        # The bot stays silent now; the agent answers with /bye + Tab.
        chat.locator("#input").fill("and how do I change my email?")
        chat.locator("#input").press("Enter")
        transcript.locator(".msg.customer", has_text="change my email").wait_for()
        desk.locator("#draft").press_sequentially("/by", delay=30)
        desk.locator("#composer-hint", has_text="/bye").wait_for()
        desk.locator("#draft").press("Tab")
        assert desk.locator("#draft").input_value() == "Glad I could help. Have a lovely day!"
        desk.locator("#draft").press("Enter")
        chat.locator("#msgs").get_by_text("Glad I could help. Have a lovely day!").wait_for()
        time.sleep(1.5)
        bot_after = shop.frame_locator("parley-widget iframe").locator("#msgs .msg.bot", has_text="email")
        assert bot_after.count() == 0, "the bot answered after the agent joined"

        # At capacity, a claim is refused with a clear message and the case stays in the queue.
        team = httpx.get(base + "/api/console/agents", headers=admin).json()
        load = next(a for a in team if a["id"] == alex["id"])["active_cases"]
        assert httpx.patch(f"{base}/api/admin/users/{alex['id']}", json={"capacity": load},
                           headers=admin).status_code == 200
        waiting = ws_connect(live_server.ws_url + "/ws/chat")
        waiting_conv = json.loads(waiting.recv(10))["conversation_id"]
        waiting.send(json.dumps({"type": "request_human"}))
        item = desk.locator(f"#queue-list .case-item[data-conv={waiting_conv}]")
        item.wait_for()
        item.get_by_role("button", name="Claim").click()
        toast = desk.locator(".toast.error", has_text="capacity")
        toast.wait_for()
        assert f"capacity is {load}" in toast.inner_text()
        shot(desk, "console-desk-03-at-capacity-1024")
        item.wait_for()  # still waiting for someone else

        # The same at 1440 px.
        desk.set_viewport_size(WIDE)
        desk.locator(f"#mine-list .case-item[data-conv={conversation}]").click()
        desk.locator("#resolve-btn").wait_for(state="visible")
        check_fit(desk, WIDE["width"])
        shot(desk, "console-desk-04-joined-1440")
        desk.click("#tab-live")
        desk.locator("#live-table").wait_for()
        shot(desk, "console-desk-05-live-1440")
        desk.click("#tab-inbox")
        desk.locator(f"#mine-list .case-item[data-conv={conversation}]").click()
        desk.click("#resolve-btn")
        desk.locator("#chat-banner", has_text="Resolved").wait_for()

        # History at 1024 px: still one header line; the takeover is listed by its plain reason (app/vocabulary.py).
        desk.set_viewport_size(NARROW)
        desk.click("#tab-history")
        row = desk.locator("#history-rows tr", has_text="Agent took over").first
        row.wait_for()
        top = desk.locator(".topbar").bounding_box()
        assert top is not None and top["height"] <= 56, top
        assert desk.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
        row.click()
        desk.locator("#history-detail .transcript").wait_for()
        shot(desk, "console-desk-06-history-1024")
    finally:
        httpx.patch(f"{base}/api/admin/users/{alex['id']}", json={"capacity": alex["capacity"]}, headers=admin)
        if waiting is not None:
            waiting.close()
        customer_ctx.close()
        agent_ctx.close()
    assert not errors, errors
