"""Attachments in real pages: a customer attaches a photo in the demo shop's widget, the agent sees
its thumbnail in the console and sends a PDF back, which the customer sees as a file chip.
Screenshots: test-artifacts/screenshots/attachments-widget.png, attachments-console.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.pages import desk_sign_in
from tests.browser.test_console import DESKTOP, shot, wait_until
from tests.e2e.test_attachments import PDF, png
from tests.harness import LiveServer

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")


def loaded(locator: Any) -> bool:
    """The image is decoded (it came through: the token header, the blob URL, the CSP)."""
    return locator.count() > 0 and locator.first.evaluate("i => i.complete && i.naturalWidth > 0")


def test_customer_attaches_a_photo_the_agent_sees_it_and_sends_a_pdf_back(browser: Any, live_server: LiveServer,
                                                                           tmp_path: Path) -> None:
    base = live_server.base_url
    errors: list[str] = []
    photo = tmp_path / "broken vase.png"
    photo.write_bytes(png(60, 40))
    label = tmp_path / "return-label.pdf"
    label.write_bytes(PDF)
    customer_ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    agent_ctx = browser.new_context(viewport=DESKTOP)
    try:
        shop, desk = customer_ctx.new_page(), agent_ctx.new_page()
        for page in (shop, desk):
            page.on("pageerror", lambda e: errors.append(str(e)))
        desk_sign_in(desk, base, "agent@parley.local")
        desk.locator("#conn-status[data-state=online]").wait_for()

        shop.goto(base + "/demo")
        shop.locator("parley-widget button.l").click()
        chat = shop.frame_locator("parley-widget iframe")
        chat.locator("#input").wait_for(state="visible")
        chat.get_by_role("button", name="Talk to a person", exact=True).click()
        chat.locator("#queue").wait_for(state="visible")
        frame = next(f for f in shop.frames if "/widget/frame.html" in f.url)
        conversation = frame.evaluate("JSON.parse(localStorage.getItem('parley:demo')).conv")

        item = desk.locator(f"#queue-list .case-item[data-conv={conversation}]")
        item.wait_for()
        item.get_by_role("button", name="Claim").click()
        desk.locator("#chat-pane").wait_for(state="visible")
        chat.locator("#subt").get_by_text("Alex Agent").wait_for()

        # The paperclip is a labelled button beside the composer, reachable by keyboard.
        clip = chat.get_by_role("button", name="Attach a file")
        assert clip.is_enabled()
        chat.locator("#input").focus()
        chat.locator("#input").press("Shift+Tab")
        assert frame.evaluate("document.activeElement.id") == "clip"

        chat.locator("#file").set_input_files(str(photo))
        thumb = chat.locator("#msgs .row.me img.thumb")
        thumb.wait_for()
        wait_until(shop, lambda: loaded(thumb), "the thumbnail in the widget")
        assert thumb.get_attribute("alt") == "broken vase.png"
        assert thumb.get_attribute("src").startswith("blob:")  # fetched with the token header, not in the URL

        # The agent sees the thumbnail in the transcript, linked to the full file.
        agent_thumb = desk.locator("#transcript .msg.customer img.thumb")
        agent_thumb.wait_for()
        wait_until(desk, lambda: loaded(agent_thumb), "the thumbnail in the console")
        assert agent_thumb.get_attribute("alt") == "broken vase.png"
        assert desk.locator("#transcript .msg.customer a").first.get_attribute("href").startswith(
            "/api/console/attachments/att_")
        shot(desk, "attachments-console")

        # The agent sends a PDF from the composer; the customer gets a file chip with name and size.
        desk.locator("#attach-file").set_input_files(str(label))
        chip = chat.locator("#msgs .row.them button.file")
        chip.wait_for()
        assert "return-label.pdf" in chip.inner_text() and "B" in chip.inner_text()
        desk.locator("#transcript .msg.agent .file-chip", has_text="return-label.pdf").wait_for()
        with shop.expect_download() as download:
            chip.click()
        saved = tmp_path / "got.pdf"
        download.value.save_as(saved)
        assert saved.read_bytes() == PDF and download.value.suggested_filename == "return-label.pdf"
        shot(shop, "attachments-widget")

        # A reload keeps both (the transcript by seq, the image fetched again).
        shop.reload()  # the panel stays open across the reload (sessionStorage)
        chat = shop.frame_locator("parley-widget iframe")
        again = chat.locator("#msgs img.thumb")
        again.wait_for(state="attached")
        wait_until(shop, lambda: loaded(again), "the thumbnail after a reload")
        chat.locator("#msgs button.file", has_text="return-label.pdf").wait_for(state="attached")
        assert errors == []
        # Done: resolved, so the shared desk's agent has room again for the next tests (capacity 3).
        desk.click("#resolve-btn")
        desk.locator("#chat-banner", has_text="Resolved").wait_for()
    finally:
        customer_ctx.close()
        agent_ctx.close()
