"""Business hours, an honest queue and verified customers in the real widget (Chromium), embedded by
one script tag on a page of another origin, with sites created through the admin API.

Screenshots: test-artifacts/screenshots/hours-out-of-hours.png, hours-agents-offline.png,
hours-agent-online.png, hours-agent-went-offline.png, verified-history.png, verified-history-open.png."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from websockets.sync.client import connect

from tests.browser.pages import desk_sign_in
from tests.harness import SHOTS, LiveServer, free_port

pytestmark = pytest.mark.browser
PAGES: dict[str, bytes] = {}


@pytest.fixture(scope="module")
def host(live_server: LiveServer) -> Iterator[str]:
    """Another company's pages on http://127.0.0.2:<port>/<name>, filled in by each test."""
    port = free_port()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = PAGES.get(self.path.strip("/"), b"not found")
            self.send_response(200 if self.path.strip("/") in PAGES else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.2", port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.2:{port}"
    server.shutdown()


def site(live_server: LiveServer, admin_token: str, host: str, key: str, name: str, extra: str = "",
         **fields: Any) -> dict:
    r = httpx.post(live_server.base_url + "/api/admin/sites", headers={"Authorization": f"Bearer {admin_token}"},
                   json={"name": name, "key": key, "allowed_origins": [host], **fields}, timeout=30)
    assert r.status_code == 201, r.text
    PAGES[key] = (f"<!doctype html><html lang=en><title>{name}</title><h1>{name}</h1>{extra}"
                  f"{r.json()['script_tag']}</html>").encode()
    return r.json()


def open_chat(browser: Any, url: str, zone: str = "Europe/Paris") -> tuple[Any, Any]:
    context = browser.new_context(timezone_id=zone, locale="en-GB", viewport={"width": 900, "height": 760})
    page = context.new_page()
    page.goto(url)
    page.locator("parley-widget button.l").click()
    chat = page.frame_locator("parley-widget iframe")
    chat.locator("#input").wait_for()
    return page, chat


def test_out_of_hours_the_customer_is_told_when_we_are_back_and_the_bot_keeps_answering(
        browser: Any, live_server: LiveServer, admin_token: str, host: str) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    opens = (datetime.now(timezone.utc) + timedelta(hours=10)).astimezone(berlin).replace(minute=0, second=0,
                                                                                          microsecond=0)
    span = [[f"{opens:%H:%M}", f"{(opens + timedelta(hours=1)):%H:%M}"]]
    site(live_server, admin_token, host, "closedshop", "Closed-for-now shop",
         business_hours={"time_zone": "Europe/Berlin", "weekly": {d: span for d in
                                                                  ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
    page, chat = open_chat(browser, f"{host}/closedshop", zone="America/New_York")
    ny = opens.astimezone(ZoneInfo("America/New_York"))
    header = chat.locator("#subt")
    header.get_by_text("We're back").wait_for(timeout=15000)
    # the widget's "en" shows the hour as 12-hour ("09:00 AM", "10:00 PM"); other locales as 24-hour
    shown = header.inner_text()
    assert "(your time)" in shown and (f"{ny:%I:%M %p}" in shown or f"{ny:%H:%M}" in shown), shown
    chat.locator("#input").fill("How do I reset my password?")
    chat.locator("#input").press("Enter")
    chat.locator("a.art").first.wait_for(timeout=20000)  # the bot keeps answering out of hours
    chat.locator("#human").click()
    card = chat.locator("#cards form.card")
    card.wait_for(timeout=15000)
    assert "We're back" in card.inner_text() and "(your time)" in card.inner_text()
    card_text = card.inner_text()  # New York time: the visitor's own clock
    assert f"{ny:%I:%M %p}" in card_text or f"{ny:%H:%M}" in card_text, card_text
    assert chat.locator("#queue").is_hidden()  # no place in line or wait is promised
    chat.get_by_text("We're closed right now; we're back").wait_for()
    page.screenshot(path=str(SHOTS / "hours-out-of-hours.png"))
    card.locator("input[name=email]").fill("night-owl@example.com")
    card.locator("button[type=submit]").click()
    chat.get_by_text("We'll reply to night-owl@example.com").wait_for(timeout=10000)
    page.context.close()


def test_when_the_last_agent_goes_offline_the_waiting_customer_gets_the_email_form_back(
        browser: Any, live_server: LiveServer, admin_token: str, host: str) -> None:
    site(live_server, admin_token, host, "awayshop", "Away shop")
    page, chat = open_chat(browser, f"{host}/awayshop")
    chat.locator("#human").click()
    card = chat.locator("#cards form.card")
    card.wait_for(timeout=15000)  # no one online: the email form, no ETA
    assert chat.locator("#queue").is_hidden()
    assert "away" in chat.locator("#subt").inner_text()
    page.screenshot(path=str(SHOTS / "hours-agents-offline.png"))

    token = live_server.login("agent@parley.local")
    with connect(f"{live_server.ws_url}/ws/agent?token={token}", open_timeout=10) as agent:
        assert json.loads(agent.recv(10))["type"] == "hello"
        chat.locator("#queue").wait_for(state="visible", timeout=15000)  # someone can answer: place and wait
        assert "Estimated wait" in chat.locator("#queue").inner_text()
        assert chat.locator("#cards form.card").count() == 0
        page.screenshot(path=str(SHOTS / "hours-agent-online.png"))
        agent.send(json.dumps({"type": "presence", "status": "offline"}))
        card.wait_for(timeout=15000)
    assert chat.locator("#queue").is_hidden()
    page.screenshot(path=str(SHOTS / "hours-agent-went-offline.png"))
    page.context.close()


def test_a_verified_customer_is_greeted_by_name_and_reads_an_earlier_conversation(
        browser: Any, live_server: LiveServer, admin_token: str, host: str) -> None:
    created = site(live_server, admin_token, host, "histpage", "Signed-in shop")
    secret = created["identity_secret"]
    ann = {"user_id": "cust-7", "email": "ann@example.com", "name": "Ann"}
    signed = hmac.new(secret.encode(), "\n".join(ann.values()).encode(), hashlib.sha256).hexdigest()
    # an earlier conversation of hers, over a socket as a page of the site would
    with connect(f"{live_server.ws_url}/ws/chat?key=histpage", origin=host, open_timeout=10) as ws:
        assert json.loads(ws.recv(10))["type"] == "session"
        ws.send(json.dumps({"type": "identify", **ann, "user_hash": signed}))
        ws.send(json.dumps({"type": "message", "text": "Where is my <b>parcel</b>?", "client_msg_id": "e1"}))
        while not (f := json.loads(ws.recv(30)))["type"] == "message" or f["sender"] != "bot":
            pass
    identify = "<script>window.Parley=window.Parley||function(){(Parley.q=Parley.q||[]).push(arguments)};" \
               "Parley('identify', %s);</script>"
    PAGES["histpage-claim"] = PAGES["histpage"].replace(b"<h1>", (identify % json.dumps(ann)).encode() + b"<h1>")
    PAGES["histpage"] = PAGES["histpage"].replace(b"<h1>", (identify % json.dumps(
        {**ann, "user_hash": signed})).encode() + b"<h1>")

    page, chat = open_chat(browser, f"{host}/histpage")
    chat.get_by_text("Welcome back, Ann!").wait_for(timeout=15000)
    item = chat.locator(".hcard .hitem")
    item.first.wait_for(timeout=10000)
    assert item.count() == 1 and "Where is my <b>parcel</b>?" in item.first.inner_text()  # text, not markup
    page.screenshot(path=str(SHOTS / "verified-history.png"))
    item.first.click()
    transcript = chat.locator(".htrans")
    transcript.wait_for(timeout=10000)
    assert "Conversation · " in transcript.inner_text() and "Where is my <b>parcel</b>?" in transcript.inner_text()
    assert transcript.locator("b", has_text="parcel").count() == 0 and transcript.locator("textarea, input").count() == 0
    page.screenshot(path=str(SHOTS / "verified-history-open.png"))
    transcript.get_by_role("button", name="Back to the chat").click()
    item.first.wait_for()
    page.context.close()

    # the same user id and email, not signed: no greeting, no history
    page, chat = open_chat(browser, f"{host}/histpage-claim")
    chat.locator("#input").fill("hello?")
    chat.locator("#input").press("Enter")
    chat.locator(".row.them").nth(1).wait_for(timeout=20000)
    assert chat.locator(".hcard").count() == 0 and chat.get_by_text("Welcome back").count() == 0
    page.context.close()


def test_an_admin_sets_business_hours_on_the_admin_page(browser: Any, live_server: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    desk_sign_in(page, live_server.base_url, "admin@parley.local", then="/admin")
    page.fill("#f-name", "Hours page shop")
    page.fill("#f-key", "hours-page")
    page.fill("#f-origins", "https://hours-page.example")
    page.fill("#f-tz", "Europe/Berlin")
    page.fill("#f-h-mon", "09:00-12:00, 13:00-17:30")
    page.fill("#f-h-sat", "22:00-02:00")
    page.fill("#f-holidays", "2026-12-25\n2026-12-26")
    page.click("#f-submit")
    page.locator("#secret-box").wait_for(state="visible")
    row = page.locator("#sites tbody tr", has_text="hours-page")
    row.filter(has_text="Europe/Berlin").wait_for()
    stored = httpx.get(live_server.base_url + "/api/admin/sites/hours-page", timeout=10, headers={
        "Authorization": "Bearer " + live_server.login("admin@parley.local")}).json()["business_hours"]
    assert stored == {"time_zone": "Europe/Berlin", "holidays": ["2026-12-25", "2026-12-26"],
                      "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:30"]], "sat": [["22:00", "02:00"]]}}
    # editing shows them again; an overlap is refused with the reason, and nothing changes
    row.get_by_role("button", name="Edit").click()
    assert page.input_value("#f-h-mon") == "09:00-12:00, 13:00-17:30" and page.input_value("#f-tz") == "Europe/Berlin"
    page.fill("#f-h-mon", "09:00-12:00, 11:00-13:00")
    page.click("#f-submit")
    page.locator("#form-error").filter(has_text="overlaps").wait_for()
    page.screenshot(path=str(SHOTS / "admin-business-hours.png"), full_page=True)
    page.close()
