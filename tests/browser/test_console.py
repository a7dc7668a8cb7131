"""The agent console in a real browser, with a real customer in the demo shop's widget.

Two browser contexts in one test: a customer on `/demo` talking through the widget, and an agent
signed in to `/console`. Screenshots of the queue and chat views go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import SHOTS, LiveServer

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1440, "height": 900}


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def wait_until(page: Any, predicate: Any, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"timed out waiting for {what}")


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/console")
    page.wait_for_url("**/login")
    page.fill("#email", email)
    page.fill("#password", "parley-demo")
    page.click("#login-submit")
    page.wait_for_url("**/console")
    page.locator("#conn-status[data-state=online]").wait_for()
    wait_until(page, lambda: page.locator("#me-name").inner_text() != "", "the hello frame")


def test_customer_in_widget_and_agent_in_console_through_the_whole_case(browser: Any, live_server: LiveServer) -> None:
    base = live_server.base_url
    errors: list[str] = []
    customer_ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    agent_ctx = browser.new_context(viewport=DESKTOP)
    try:
        shop, desk = customer_ctx.new_page(), agent_ctx.new_page()
        customer_frames: list[str] = []
        shop.on("websocket", lambda ws: ws.on("framereceived", lambda p: customer_frames.append(str(p))))
        for page in (shop, desk):
            page.on("pageerror", lambda e: errors.append(str(e)))

        # The agent signs in; the session survives a reload.
        sign_in(desk, base, "agent@parley.local")
        desk.reload()
        desk.locator("#conn-status[data-state=online]").wait_for()
        wait_until(desk, lambda: desk.locator("#me-name").inner_text() == "Alex Agent", "the agent's name")

        # The customer asks the bot, then asks for a person.
        shop.goto(base + "/demo")
        shop.locator("parley-widget button.l").click()
        chat = shop.frame_locator("parley-widget iframe")
        box = chat.locator("#input")
        box.wait_for(state="visible")
        question = "how do I reset my password"
        box.fill(question)
        box.press("Enter")
        chat.locator("#msgs a.art").first.wait_for()  # the bot answers with an article first
        chat.get_by_role("button", name="Talk to a person", exact=True).click()
        chat.locator("#queue").wait_for(state="visible")
        frame = next(f for f in shop.frames if "/widget/frame.html" in f.url)
        widget_state = json.loads(frame.evaluate("localStorage.getItem('parley:demo')") or "{}")
        conversation = widget_state["conv"]

        # The queue shows the case live, with reason, ticking wait, last message; an alert fired.
        item = desk.locator(f"#queue-list .case-item[data-conv={conversation}]")
        item.wait_for()
        assert item.locator(".badge").inner_text() == "Asked for a person"
        assert item.locator(".case-last").inner_text() == question
        wait_until(desk, lambda: desk.evaluate("window.parleyAlerts || 0") >= 1, "the new-case alert")
        first = item.locator(".case-wait").inner_text()
        wait_until(desk, lambda: item.locator(".case-wait").inner_text() != first, "the waiting time to tick", 5)
        shot(desk, "console-01-queue")

        # Claim: the chat opens with the handoff packet pinned and the bot's turns in the transcript.
        item.get_by_role("button", name="Claim").click()
        desk.locator("#chat-pane").wait_for(state="visible")
        assert desk.locator("#packet-question").inner_text() == question
        assert "Reset" in desk.locator("#packet-offered").inner_text()  # the article the bot offered
        transcript = desk.locator("#transcript")
        transcript.get_by_text(question).wait_for()
        assert desk.locator("#transcript .msg.bot").count() >= 1, "bot turns are in the transcript"
        desk.locator("#mine-list .case-item").first.wait_for()
        chat.locator("#subt").get_by_text("Alex Agent").wait_for()

        # The customer types; the agent sees it. The agent replies; the customer sees it.
        chat.locator("#input").press_sequentially("hello?", delay=40)
        desk.locator("#typing-text", has_text="typing").wait_for()
        chat.locator("#input").press("Enter")
        transcript.locator(".msg.customer", has_text="hello?").wait_for()
        desk.locator("#draft").press_sequentially("So sorry about the vase", delay=20)
        chat.locator("#typing").wait_for(state="visible")
        desk.locator("#draft").press("Enter")
        chat.locator("#msgs").get_by_text("So sorry about the vase").wait_for()

        # A canned reply and an article found by searching as you type go into the reply.
        desk.click("#canned-btn")
        desk.locator("#canned-list li", has_text="Ask for the order number").click()
        assert "order number" in desk.locator("#draft").input_value()
        desk.locator("#draft").fill("")
        desk.click("#article-btn")
        desk.locator("#article-q").press_sequentially("return damaged item", delay=20)
        hit = desk.locator("#article-list li[data-article]").first
        hit.wait_for()
        title = hit.locator(".pop-title").inner_text()
        hit.click()
        assert title in desk.locator("#draft").input_value() and "/kb/" in desk.locator("#draft").input_value()
        desk.locator("#draft").press("Enter")
        chat.locator("#msgs").get_by_text(title).first.wait_for()

        # An internal note: shown to the agent, never to the customer.
        secret = "VIP customer, refund approved " + uuid.uuid4().hex[:8]
        desk.click(".ctab[data-mode=note]")
        desk.locator("#draft").fill(secret)
        desk.locator("#draft").press("Enter")
        transcript.locator(".msg.note", has_text=secret).wait_for()
        desk.click(".ctab[data-mode=reply]")
        desk.locator("#draft").fill("Anything else I can do?")
        desk.locator("#draft").press("Enter")
        chat.locator("#msgs").get_by_text("Anything else I can do?").wait_for()
        shot(desk, "console-02-chat")
        shot(shop, "console-03-customer-view")

        # Resolve: the customer is asked for a rating and gives one.
        desk.click("#resolve-btn")
        desk.locator("#chat-banner", has_text="Resolved").wait_for()
        card = chat.locator(".card.rate")
        card.wait_for()
        card.get_by_role("button", name="4 of 5").click()
        card.get_by_role("button", name="Send rating").click()
        card.get_by_text("Thanks for your rating!").wait_for()
        desk.locator("#case-facts", has_text="4/5").wait_for()
        assert all(secret not in f for f in customer_frames), "the note reached the customer's socket"

        # History: search finds the case; the detail shows the note and the rating; exports work.
        desk.click("#tab-history")
        desk.fill("#h-q", secret)  # text search covers notes too
        desk.click("#history-form button[type=submit]")
        # Opening the tab lists every case; wait for the search to replace that list with its one hit.
        row = desk.locator("#history-rows tr", has_text="hello?")
        row.first.wait_for()
        # A locator assertion, not wait_for_function: the console's CSP forbids evaluating strings.
        sync_api.expect(desk.locator("#history-rows tr")).to_have_count(1, timeout=10_000)
        row.click()
        detail = desk.locator("#history-detail")
        detail.locator(".msg.note", has_text=secret).wait_for()
        assert "★★★★☆" in detail.inner_text()
        with desk.expect_download() as download:
            detail.get_by_role("link", name="Export text").click()
        text = Path(download.value.path()).read_text("utf-8")
        assert question in text and "(internal note)" in text and "Rating: 4/5" in text
        shot(desk, "console-04-history")
        public = httpx.get(base + "/api/chat/transcript", params={"token": widget_state["token"], "format": "txt"}).text
        assert "So sorry about the vase" in public and secret not in public
    finally:
        customer_ctx.close()
        agent_ctx.close()
    assert not errors, errors


def test_editor_cannot_use_the_console_and_logout_ends_the_session(browser: Any, live_server: LiveServer) -> None:
    ctx = browser.new_context(viewport=DESKTOP)
    try:
        page = ctx.new_page()
        page.goto(live_server.base_url + "/login")
        page.fill("#email", "editor@parley.local")
        page.fill("#password", "wrong-password")
        page.click("#login-submit")
        page.locator("#login-error", has_text="Wrong email or password").wait_for()
        r = page.request.post(live_server.base_url + "/api/auth/login",
                              data={"email": "editor@parley.local", "password": "parley-demo"})
        assert r.ok
        response = page.goto(live_server.base_url + "/console")
        assert response is not None and response.status == 403
        assert "needs the agent or admin role" in page.inner_text("h1")

        page.request.post(live_server.base_url + "/api/auth/logout", headers={"X-Requested-With": "test"})
        page.goto(live_server.base_url + "/login")
        page.fill("#email", "admin@parley.local")
        page.fill("#password", "parley-demo")
        page.click("#login-submit")
        page.wait_for_url("**/console")
        page.locator("#tab-team").wait_for(state="visible")  # admins manage people in the console
        page.click("#tab-team")
        page.locator("#users-rows tr", has_text="agent@parley.local").wait_for()
        shot(page, "console-05-team")
        page.click("#logout")
        page.wait_for_url("**/login")
        response = page.goto(live_server.base_url + "/console")
        assert page.url.endswith("/login"), "after logging out the console asks to sign in again"
    finally:
        ctx.close()
