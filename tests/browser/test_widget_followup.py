"""The follow-up in the real widget (Chromium): "Did that solve it?" after a resolution, Yes/No buttons,
the answer recorded once and kept across a reload."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.test_widget import DESKTOP, Agent, Tab


def test_the_widget_asks_did_that_solve_it_and_records_the_answer(browser: Any, fresh_server: Any) -> None:
    from websockets.sync.client import connect

    fresh_server.env.update(PARLEY_FOLLOWUP_DELAY="2", PARLEY_MAIL_INTERVAL_SECONDS="0.3")
    server = fresh_server.start(timeout=300)
    context = browser.new_context(viewport=DESKTOP)
    try:
        tab = Tab(context.new_page(), server.base_url)
        with connect(f"{server.ws_url}/ws/agent?token={server.login('agent@parley.local')}",
                     open_timeout=10) as ws:
            agent = Agent(ws)
            tab.goto().open()
            tab.ask("my parcel arrived damaged")
            tab.chat.get_by_role("button", name="Talk to a person", exact=True).click()
            case_id = agent.case_for(tab.state()["conv"])
            agent.send({"type": "claim", "case_id": case_id})
            agent.send({"type": "resolve", "case_id": case_id})
        question = tab.chat.locator(".sys.fu")
        question.wait_for(timeout=20000)
        assert question.locator("span").first.inner_text() == "Did that solve it?"
        tab.shot("30-followup-asked")
        question.get_by_role("button", name="Yes").click()
        tab.chat.locator(".sys.fu .fb-done").wait_for()
        assert question.get_by_role("button").count() == 0  # answered: no buttons left
        tab.wait(lambda: any(f.get("type") == "followup_answer" and f.get("recorded") for f in tab.received),
                 what="the desk recorded the answer")
        assert [f["answer"] for f in tab.sent_of("followup_answer")] == ["yes"]
        tab.chat.get_by_text("glad it is solved").wait_for()
        tab.shot("31-followup-answered")

        tab.page.reload()
        tab.launcher.wait_for(state="visible")
        tab.open()
        tab.chat.locator(".sys.fu .fb-done").wait_for()  # still answered after a reload
        assert tab.chat.locator(".sys.fu").count() == 1 and len(tab.sent_of("followup_answer")) == 1
        editor = server.login("editor@parley.local")
        figures = httpx.get(server.base_url + "/api/analytics", headers={"authorization": f"Bearer {editor}"},
                            timeout=30).json()["resolutions"]
        assert figures["confirmed"] == 1 and figures["reopened"] == 0 and figures["followups_answered_yes"] == 1
    finally:
        context.close()
