"""Accessibility, measured: axe-core (from npm, `node_modules/axe-core`) run inside real pages in Chromium.

Every page a customer, an agent, an editor or an admin uses is checked in its key states for axe's
serious and critical violations (WCAG 2.x A/AA rules and axe's best practices); the widget's chat
frame is checked inside the frame. Each scan's full result goes to test-artifacts/axe/<page>.json and a
one-line summary per page to test-artifacts/axe/summary.txt. Two keyboard-only walks (a customer
chatting, an agent claiming, replying and resolving) use Tab/Enter/Escape and typing only, and 200 %
zoom screenshots of the widget and the console go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.browser.pages import desk_sign_in
from tests.harness import SHOTS, LiveServer

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
REPORTS = ROOT / "test-artifacts" / "axe"
BLOCKING = ("serious", "critical")
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture(scope="module", autouse=True)
def axe_installed() -> None:
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (make install runs npm ci)")


def scan(target: Any, name: str) -> list[dict[str, Any]]:
    """Inject axe into a page or frame, run it there, keep the report; return its serious and critical violations."""
    if not target.evaluate("typeof window.axe === 'object'"):
        target.add_script_tag(path=str(AXE))
    result = target.evaluate("""async () => {
        const r = await axe.run(document, {iframes: false, resultTypes: ['violations']});
        return {url: r.url, violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))}))};
    }""")
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name}.json").write_text(json.dumps(result, indent=1), "utf-8")
    counts: Counter[str] = Counter()
    for v in result["violations"]:
        counts[v["impact"]] += len(v["nodes"])
    with open(REPORTS / "summary.txt", "a", encoding="utf-8") as f:
        f.write(f"{name}: " + (", ".join(f"{k}={counts[k]}" for k in ("critical", "serious", "moderate", "minor")
                                         if counts[k]) or "no violations") + "\n")
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def describe(found: dict[str, list[dict[str, Any]]]) -> str:
    return "\n".join(f"{page}: [{v['impact']}] {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:6]}"
                     for page, vs in found.items() for v in vs)


def chat_frame(page: Any) -> Any:
    for _ in range(200):
        for f in page.frames:
            if "/widget/frame.html" in f.url:
                return f
        page.wait_for_timeout(50)
    raise AssertionError("the widget's chat frame never loaded")


def wait_until(page: Any, predicate: Any, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"timed out waiting for {what}")


def new_context(browser: Any, **kw: Any) -> Any:
    # bypass_csp: the pages' CSP (script-src 'self') would refuse the injected axe script, as it should.
    return browser.new_context(bypass_csp=True, **{"viewport": DESKTOP, **kw})


def ask_for_a_person(shop: Any, base: str, question: str) -> str:
    """A customer on the demo shop asks the bot, gets its answer, then asks for a person; returns the conversation id."""
    shop.goto(base + "/demo")
    chat_frame(shop).locator("#input").wait_for(state="attached")
    shop.wait_for_timeout(300)  # a widget that was open before the reload opens itself again
    if shop.locator("parley-widget button.l").get_attribute("aria-expanded") != "true":
        shop.locator("parley-widget button.l").click()
    chat = shop.frame_locator("parley-widget iframe")
    chat.locator("#input").fill(question)
    chat.locator("#input").press("Enter")
    chat.locator("#msgs .row.them").first.wait_for()
    chat.get_by_role("button", name="Talk to a person", exact=True).click()
    chat.locator("#queue").wait_for(state="visible")
    state = json.loads(chat_frame(shop).evaluate("localStorage.getItem('parley:demo')") or "{}")
    return str(state["conv"])


def focused(page: Any) -> str:
    """A short description of the focused element, through shadow roots (not into frames)."""
    return str(page.evaluate("""() => {
        let e = document.activeElement;
        while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
        if (!e) return '';
        return [e.tagName.toLowerCase(), e.id ? '#' + e.id : '', e.className && typeof e.className === 'string'
            ? '.' + e.className.trim().split(/\\s+/).join('.') : '', '|' + (e.getAttribute('aria-label') ||
            (e.textContent || '').trim().slice(0, 40))].join('');
    }"""))


def tab_to(page: Any, want: Any, what: str, limit: int = 60, key: str = "Tab") -> str:
    """Press Tab until the focused element matches; every stop must show a visible focus indicator."""
    for _ in range(limit):
        page.keyboard.press(key)
        here = focused(page)
        if want(here):
            return here
    raise AssertionError(f"{what} was not reached with {limit} presses of {key} (last: {focused(page)})")


def has_visible_focus(target: Any) -> bool:
    """The focused element draws an outline or a box-shadow ring (the browser default or the page's own)."""
    return bool(target.evaluate("""() => {
        let e = document.activeElement;
        while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
        if (!e || e === document.body) return false;
        const s = getComputedStyle(e);
        return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
    }"""))


# --------------------------------------------------------------------------------------------- axe scans
def test_the_widget_closed_open_answered_and_queued_has_no_serious_violations(
        browser: Any, live_server: LiveServer) -> None:
    base, found = live_server.base_url, {}
    ctx, agent = new_context(browser), new_context(browser)
    try:
        desk = agent.new_page()  # an agent online, so asking for a person queues the customer
        desk_sign_in(desk, base, "agent@parley.local")
        desk.locator("#conn-status[data-state=online]").wait_for()
        shop = ctx.new_page()
        shop.goto(base + "/demo")
        frame = chat_frame(shop)
        shop.locator("parley-widget button.l").wait_for()
        found["demo-shop-widget-closed"] = scan(shop, "demo-shop-widget-closed")
        shop.locator("parley-widget button.l").click()
        chat = shop.frame_locator("parley-widget iframe")
        chat.locator("#input").wait_for(state="visible")
        found["widget-open-top"] = scan(shop, "widget-open-top")
        found["widget-open-frame"] = scan(frame, "widget-open-frame")
        chat.locator("#input").fill("how do I reset my password")
        chat.locator("#input").press("Enter")
        chat.locator("#msgs a.art").first.wait_for()
        shop.wait_for_timeout(400)  # the answer's entrance animation settles before colours are measured
        found["widget-bot-answer"] = scan(frame, "widget-bot-answer")
        chat.get_by_role("button", name="Talk to a person", exact=True).click()
        chat.locator("#queue").wait_for(state="visible")
        shop.wait_for_timeout(400)
        found["widget-queue"] = scan(frame, "widget-queue")
        # New messages are announced: the message list is a live region.
        live = frame.evaluate("""() => { const m = document.getElementById('msgs');
            const r = m.closest('[aria-live],[role=log]'); return r ? (r.getAttribute('aria-live') || 'polite') : ''; }""")
        assert live in ("polite", "assertive"), "the widget's messages are not in a live region"
    finally:
        ctx.close()
        agent.close()
    assert not any(found.values()), describe(found)


def test_the_console_login_queue_and_an_open_conversation_have_no_serious_violations(
        browser: Any, live_server: LiveServer) -> None:
    base, found = live_server.base_url, {}
    customer, agent = new_context(browser), new_context(browser)
    try:
        desk = agent.new_page()
        desk.goto(base + "/login")
        desk.locator("#email").wait_for()
        found["console-login"] = scan(desk, "console-login")
        desk.fill("#email", "agent@parley.local")
        desk.fill("#password", "wrong")
        desk.click("#login-submit")
        desk.locator("#login-error").wait_for(state="visible")
        found["console-login-error"] = scan(desk, "console-login-error")
        desk.fill("#password", "parley-demo")
        desk.click("#login-submit")
        desk.wait_for_url("**/console")
        desk.locator("#conn-status[data-state=online]").wait_for()
        conv = ask_for_a_person(customer.new_page(), base, "my parcel arrived damaged")
        item = desk.locator(f"#queue-list .case-item[data-conv='{conv}']")
        item.wait_for()
        desk.wait_for_timeout(400)
        found["console-queue"] = scan(desk, "console-queue")
        item.get_by_role("button", name="Claim").click()
        desk.locator("#chat-pane").wait_for(state="visible")
        desk.locator("#transcript .msg.customer").first.wait_for()
        desk.wait_for_timeout(400)
        found["console-conversation"] = scan(desk, "console-conversation")
        live = desk.evaluate("""() => { const t = document.getElementById('transcript');
            const r = t.closest('[aria-live],[role=log]'); return r ? (r.getAttribute('aria-live') || 'polite') : ''; }""")
        assert live in ("polite", "assertive"), "the console's transcript is not in a live region"
        desk.click("#tab-history")
        desk.locator("#history-rows tr").first.wait_for()
        found["console-history"] = scan(desk, "console-history")
    finally:
        customer.close()
        agent.close()
    assert not any(found.values()), describe(found)


def test_the_editor_analytics_gaps_and_admin_pages_have_no_serious_violations(
        browser: Any, live_server: LiveServer) -> None:
    base, found = live_server.base_url, {}
    ctx = new_context(browser)
    try:
        page = ctx.new_page()
        page.goto(base + "/editor")
        page.locator("#email").wait_for()
        found["editor-login"] = scan(page, "editor-login")
        page.fill("#email", "editor@parley.local")
        page.fill("#password", "parley-demo")
        page.click("#login button[type=submit]")
        page.wait_for_selector("#app:not([hidden])")
        page.wait_for_selector("#list a[data-id='reset-password']")
        found["editor-list"] = scan(page, "editor-list")
        page.click("#list a[data-id='reset-password']")
        page.wait_for_selector("#preview h2, #preview p")
        found["editor-edit"] = scan(page, "editor-edit")
        page.goto(base + "/editor/analytics")
        page.wait_for_selector("#app:not([hidden])")
        page.wait_for_load_state("networkidle")
        found["editor-analytics"] = scan(page, "editor-analytics")
        page.goto(base + "/editor/gaps")
        page.wait_for_selector("#app:not([hidden])")
        page.wait_for_load_state("networkidle")
        found["editor-gaps"] = scan(page, "editor-gaps")
        admin = new_context(browser).new_page()
        desk_sign_in(admin, base, "admin@parley.local", then="/admin")
        admin.locator("#t-user option", has_text="agent@parley.local").wait_for(state="attached")
        admin.wait_for_load_state("networkidle")
        found["admin"] = scan(admin, "admin")
        admin.context.close()
    finally:
        ctx.close()
    assert not any(found.values()), describe(found)


# ------------------------------------------------------------------------------------------ keyboard only
def test_a_customer_opens_the_widget_sends_and_reads_the_reply_with_the_keyboard_only(
        browser: Any, live_server: LiveServer) -> None:
    ctx = new_context(browser)
    try:
        shop = ctx.new_page()
        shop.goto(live_server.base_url + "/demo")
        frame = chat_frame(shop)
        tab_to(shop, lambda f: f.startswith("button.l"), "the chat launcher", limit=80)
        assert has_visible_focus(shop), "the launcher shows no focus ring"
        shop.keyboard.press("Enter")
        # Opening moves focus into the chat, to the message box.
        wait_until(shop, lambda: frame.evaluate("document.hasFocus() && document.activeElement.id") == "input",
                   "focus in the message box")
        shop.keyboard.type("how do I reset my password")
        shop.keyboard.press("Enter")
        frame.locator("#msgs .row.them a.art").first.wait_for()
        # The reply is reachable with Tab from the message box: its article link takes focus, visibly.
        for _ in range(30):
            shop.keyboard.press("Shift+Tab")
            if frame.evaluate("document.activeElement.matches('#msgs a.art')"):
                break
        else:
            raise AssertionError("the bot's article link was never reached with the keyboard")
        assert has_visible_focus(frame), "the focused article link shows no focus ring"
        assert "password" in (frame.evaluate("document.activeElement.textContent") or "").lower()
        # Escape closes the chat and gives focus back to the launcher.
        shop.keyboard.press("Escape")
        wait_until(shop, lambda: focused(shop).startswith("button.l"), "focus back on the launcher")
        assert shop.locator("parley-widget button.l").get_attribute("aria-expanded") == "false"
    finally:
        ctx.close()


def test_an_agent_claims_replies_and_resolves_with_the_keyboard_only(browser: Any, live_server: LiveServer) -> None:
    base = live_server.base_url
    customer, agent = new_context(browser), new_context(browser)
    try:
        desk = agent.new_page()
        desk.goto(base + "/login")
        desk.locator("#email").focus()
        desk.keyboard.type("agent@parley.local")
        desk.keyboard.press("Tab")
        desk.keyboard.type("parley-demo")
        desk.keyboard.press("Enter")
        desk.wait_for_url("**/console")
        desk.locator("#conn-status[data-state=online]").wait_for()
        shop = customer.new_page()
        conv = ask_for_a_person(shop, base, "how do I return a damaged item")
        desk.locator(f"#queue-list .case-item[data-conv='{conv}']").wait_for()
        desk.locator("body").focus()
        # Claim: Tab reaches the case's Claim button; Enter claims it.
        tab_to(desk, lambda f: "|Claim" in f and desk.evaluate(
            f"document.activeElement.closest('.case-item[data-conv=\"{conv}\"]') !== null"), "the case's Claim button",
            limit=120)
        assert has_visible_focus(desk), "the Claim button shows no focus ring"
        desk.keyboard.press("Enter")
        desk.locator("#chat-pane").wait_for(state="visible")
        # Reply: Tab reaches the reply box; typing and Enter send.
        tab_to(desk, lambda f: f.startswith("textarea#draft"), "the reply box", limit=120)
        desk.keyboard.type("Sorry about the lamp, a new one is on its way")
        desk.keyboard.press("Enter")
        shop.frame_locator("parley-widget iframe").locator("#msgs").get_by_text("a new one is on its way").wait_for()
        # Resolve: Shift+Tab or Tab reaches Resolve; Enter resolves.
        tab_to(desk, lambda f: f.startswith("button#resolve-btn"), "the Resolve button", limit=120)
        assert has_visible_focus(desk), "the Resolve button shows no focus ring"
        desk.keyboard.press("Enter")
        desk.locator("#chat-banner", has_text="Resolved").wait_for()
        shop.frame_locator("parley-widget iframe").locator(".card.rate").wait_for()
    finally:
        customer.close()
        agent.close()


# ----------------------------------------------------------------------------------------------- 200 % zoom
def overflowing(target: Any, scope: str) -> list[str]:
    """Visible controls and headings in `scope` a user cannot see: off-screen sideways, clipped by a box, or painted over."""
    return list(target.evaluate("""(scope) => {
        const out = [], W = document.documentElement.clientWidth;
        const sel = ['button', 'input', 'textarea', 'select', 'a', 'h1', 'h2', '[tabindex="0"]'].map(s => scope + ' ' + s);
        for (const e of document.querySelectorAll(sel.join(', '))) {
            let r = e.getBoundingClientRect();
            const s = getComputedStyle(e), name = e.id || (typeof e.className === 'string' && e.className) || e.tagName;
            if (r.width <= 1 || r.height <= 1 || s.visibility === 'hidden' || e.closest('[hidden]')) continue;  // 1 px: screen-reader text
            if (r.right > W + 1 || r.left < -1) { out.push(name + ' off-screen'); continue; }
            e.scrollIntoView({block: 'nearest', inline: 'nearest', behavior: 'instant'});  // the log scrolls smoothly
            r = e.getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            if (hit && !e.contains(hit) && !hit.contains(e) && !hit.closest('.toasts') && !hit.closest('label')?.contains(e))
                out.push(name + ' covered by ' + (hit.id || hit.className || hit.tagName));
            else if (e.scrollWidth > e.clientWidth + 2 && s.overflowX === 'hidden' && s.textOverflow !== 'ellipsis')
                out.push(name + ' clipped');
        }
        return out;
    }""", scope))


def test_the_widget_and_console_at_200_percent_zoom_keep_their_controls_on_screen(
        browser: Any, live_server: LiveServer) -> None:
    base = live_server.base_url
    SHOTS.mkdir(parents=True, exist_ok=True)
    # 200 % zoom of a 1280 px window: a 640 px wide CSS viewport with two device pixels per CSS pixel.
    zoom = {"viewport": {"width": 640, "height": 430}, "device_scale_factor": 2}
    customer, agent = new_context(browser, **zoom), new_context(browser, **zoom)
    try:
        desk = agent.new_page()  # online first, so the customer is queued rather than offered email
        desk_sign_in(desk, base, "agent@parley.local")
        desk.locator("#conn-status[data-state=online]").wait_for()
        shop = customer.new_page()
        shop.goto(base + "/demo")
        frame = chat_frame(shop)
        shop.locator("parley-widget button.l").click()
        shop.frame_locator("parley-widget iframe").locator("#input").wait_for(state="visible")
        shop.screenshot(path=str(SHOTS / "a11y-zoom200-widget-open.png"))
        conv = ask_for_a_person(shop, base, "how do I reset my password")
        shop.wait_for_timeout(400)
        shop.screenshot(path=str(SHOTS / "a11y-zoom200-widget-queue.png"))
        assert overflowing(chat_frame(shop), "#app") == []
        box = shop.locator("parley-widget iframe").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 641 and box["y"] >= 0, box

        item = desk.locator(f"#queue-list .case-item[data-conv='{conv}']")
        item.wait_for()
        desk.wait_for_timeout(300)
        desk.screenshot(path=str(SHOTS / "a11y-zoom200-console-queue.png"))
        assert overflowing(desk, "body") == []
        item.get_by_role("button", name="Claim").click()
        desk.locator("#chat-pane").wait_for(state="visible")
        desk.wait_for_timeout(300)
        desk.screenshot(path=str(SHOTS / "a11y-zoom200-console-chat.png"))
        desk.locator("#draft").scroll_into_view_if_needed()
        assert desk.locator("#draft").is_visible() and desk.locator("#resolve-btn").is_visible()
        assert overflowing(desk, "body") == []
        desk.screenshot(path=str(SHOTS / "a11y-zoom200-console-chat-full.png"), full_page=True)
    finally:
        customer.close()
        agent.close()
