"""The editor, gaps and analytics pages in headless Chromium, with screenshots kept as artifacts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.browser.pages import editor_sign_in
from tests.harness import SHOTS, Client, LiveServer, is_type

pytestmark = pytest.mark.browser
def login(page: Any, server: LiveServer, path: str) -> None:
    editor_sign_in(page, server.base_url, path)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_editor_edit_try_publish_and_restore(browser: Any, live_server: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, live_server, "/editor")
    page.wait_for_selector("#list a[data-id='reset-password']")
    shot(page, "editor-01-list")

    page.click("#new")
    aid = f"theremin-lessons-{uuid.uuid4().hex[:6]}"
    page.fill("#f-title", "Theremin lessons for beginners")
    page.fill("#f-id", aid)
    page.fill("#f-category", "Lessons")
    page.fill("#f-questions", "do you teach the theremin\ntheremin classes for beginners")
    page.fill("#f-body", "## Theremin lessons\n\nBeginner theremin lessons run **every Saturday** at the Leeds store.\n\n<b>raw</b>")
    page.wait_for_selector("#preview h2")
    assert page.inner_html("#preview").count("<strong>every Saturday</strong>") == 1
    assert "&lt;b&gt;raw&lt;/b&gt;" in page.inner_html("#preview")  # raw HTML is shown as text, never injected
    page.click("#save")
    page.wait_for_selector("#status.badge.draft")

    page.fill("#try-text", "do you teach the theremin?")
    page.click("#try-form button[type=submit]")
    page.wait_for_selector(".result[data-against='draft'] .art")
    assert aid in page.inner_text(".result[data-against='draft'] .art")
    assert aid not in page.inner_text(".result[data-against='published']")
    assert page.locator(".result[data-against='draft'] .cands li").count() > 1
    shot(page, "editor-02-try-it-draft")

    page.fill("#f-body", "Beginner theremin lessons run every Sunday at the Leeds store.")
    page.click("#publish")
    page.wait_for_selector("#status.badge.published")
    r = httpx.post(live_server.base_url + "/api/articles/try", json={"text": "do you teach the theremin?"},
                   headers={"Authorization": f"Bearer {live_server.login('editor@parley.local')}"}).json()
    assert r["article_id"] == aid

    page.click("[data-tab='history']")
    page.wait_for_selector("#versions li[data-v='3']")
    page.click("#versions li[data-v='2']")
    page.wait_for_selector("#diff .diff .add")
    assert "every Sunday" in page.inner_text("#diff")
    shot(page, "editor-03-history-diff")
    page.click("#versions li[data-v='1']")
    page.wait_for_selector("#diff h1:has-text('Version 1')")  # else the v2 diff's Restore button is still there
    page.click("#restore")
    page.wait_for_selector("#versions li[data-v='4']")
    assert "every Saturday" in page.input_value("#f-body")
    shot(page, "editor-04-restored")
    assert not errors, errors
    page.close()


def test_try_it_shows_the_answer_as_the_customer_reads_it(browser: Any, live_server: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, live_server, "/editor")
    page.click("#list a[data-id='shipping-times-and-costs']")
    page.fill("#try-text", "how much is delivery to mainland UK")
    page.click("#try-form button[type=submit]")
    sees = page.locator(".result[data-against='published'] .sees")
    sees.locator(".md table").wait_for()
    assert sees.locator("th").all_inner_texts() == ["Option", "Delivery time", "Price"]
    assert "Delivery options (mainland UK)" in sees.inner_text() and "|" not in sees.inner_text()
    assert sees.locator(".bubble-art").inner_text() == "UK delivery options, times and costs"
    drafted = page.locator(".result[data-against='draft'] .sees")  # the same article as a draft: the same reply
    assert drafted.locator(".md").first.inner_html() == sees.locator(".md").first.inner_html()
    # The same HTML the widget gets in the chat frame (POST /api/articles/try returns it).
    r = httpx.post(live_server.base_url + "/api/articles/try", json={"text": "how much is delivery to mainland UK"},
                   headers={"Authorization": f"Bearer {live_server.login('editor@parley.local')}"}).json()
    assert sees.locator(".md").first.evaluate("e => e.querySelectorAll('td').length") == r["html"].count("<td")
    sees.scroll_into_view_if_needed()
    shot(page, "editor-05-try-it-as-the-customer-reads-it")

    page.fill("#try-text", "what is the capital of peru")
    page.click("#try-form button[type=submit]")
    badge = page.locator(".result[data-against='published'] .badge")
    page.wait_for_function("() => !document.querySelector(\".result[data-against='published'] .badge.answer\")")
    offer = {"no_answer": "Talk to a person", "clarify": "None of these — talk to a person"}[badge.inner_text()]
    assert page.locator(".result[data-against='published'] .sees .chip").last.inner_text() == offer
    assert not errors, errors
    page.close()


async def _escalate(server: LiveServer, text: str) -> None:
    client = await Client.connect(f"{server.ws_url}/ws/chat")
    await client.wait_for(is_type("session"))
    await client.send({"type": "message", "text": text, "client_msg_id": uuid.uuid4().hex})
    await client.wait_for(lambda f: f["type"] == "handoff" or (f["type"] == "message" and f["sender"] == "bot"))
    await client.close()


def test_gaps_page_shows_clusters_and_creates_a_draft(browser: Any, fresh_server: LiveServer) -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    # A server of its own: on the shared one, articles published by other tests (the theremin
    # lessons above) can answer these questions instead of escalating them.
    live_server = fresh_server.start()

    for q in ("is there parking for tour buses at the harp festival", "where can a tour bus park for the harp festival?",
              "tour bus parking harp festival"):
        with ThreadPoolExecutor(1) as pool:  # the session's event loop is running in this thread
            pool.submit(asyncio.run, _escalate(live_server, q)).result()
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    login(page, live_server, "/editor/gaps")
    card = page.locator(".gap", has_text="harp festival").first
    card.wait_for()
    assert card.locator(".count").inner_text().startswith("3")
    assert card.locator(".trend svg polyline").count() == 2
    shot(page, "gaps-01-clusters")
    card.locator("button[data-act='draft']").click()
    page.wait_for_url("**/editor#*")
    page.wait_for_selector("#status.badge.draft")
    assert "tour bus" in page.input_value("#f-questions")
    shot(page, "gaps-02-draft-from-cluster")

    page.goto(live_server.base_url + "/editor/analytics")
    page.wait_for_selector("#kpis .kpi")
    page.wait_for_selector("#c-conv svg polyline")
    shot(page, "analytics-01-dashboard")
    page.close()
