"""The article API over a real server: permissions, versions, diff, restore, try-it, import/export,
publish → answerable over /ws/chat, content gaps and analytics."""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.harness import Client, LiveServer, is_type

FIX = Path(__file__).parent / "fixtures" / "import"
IGUANA = ("Register your iguana for the reptile club", "Reptile club membership is free. Fill in the reptile club "
          "form at any store with your iguana's name, age and species; the club card arrives by post in a week.")


def h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api(server: LiveServer, token: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers=h(token) if token else {}, timeout=60)


async def ask(server: LiveServer, text: str) -> dict:
    client = await Client.connect(f"{server.ws_url}/ws/chat")
    await client.wait_for(is_type("session"))
    await client.send({"type": "message", "text": text, "client_msg_id": uuid.uuid4().hex})
    reply = await client.wait_for(lambda f: f["type"] == "handoff" or (f["type"] == "message" and f["sender"] == "bot"))
    await client.close()
    return reply


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# ----------------------------------------------------------------------------- permissions
@pytest.mark.parametrize("method,path", [("GET", "/api/articles"), ("GET", "/api/articles/reset-password"),
                                         ("POST", "/api/articles"), ("GET", "/api/gaps"), ("GET", "/api/analytics"),
                                         ("GET", "/api/articles/export"), ("POST", "/api/articles/try")])
def test_anonymous_users_cannot_use_the_editor_api(live_server: LiveServer, method: str, path: str) -> None:
    assert api(live_server).request(method, path, json={}).status_code == 401


@pytest.mark.parametrize("method,path", [("POST", "/api/articles"), ("PATCH", "/api/articles/reset-password"),
                                         ("PUT", "/api/articles/reset-password"),
                                         ("POST", "/api/articles/reset-password/status"),
                                         ("POST", "/api/articles/reset-password/versions/1/restore"),
                                         ("GET", "/api/articles"), ("GET", "/api/gaps"), ("GET", "/api/analytics.csv"),
                                         ("POST", "/api/gaps/draft")])
def test_an_agent_cannot_edit_articles_or_see_editor_data(live_server: LiveServer, agent_token: str, method: str,
                                                            path: str) -> None:
    r = api(live_server, agent_token).request(method, path, json={"title": "x", "status": "archived"})
    assert r.status_code == 403, r.text


def test_anonymous_users_cannot_read_a_draft_on_the_public_page(live_server: LiveServer, editor_token: str) -> None:
    c = api(live_server, editor_token)
    aid = new_id("secret-draft")
    assert c.post("/api/articles", json={"id": aid, "title": "Unannounced sale", "body": "Half price."}).status_code == 201
    assert httpx.get(f"{live_server.base_url}/kb/{aid}").status_code == 404
    c.post(f"/api/articles/{aid}/publish")
    assert httpx.get(f"{live_server.base_url}/kb/{aid}").status_code == 200


def test_the_write_api_is_documented_in_openapi(live_server: LiveServer) -> None:
    paths = httpx.get(live_server.base_url + "/openapi.json").json()["paths"]
    for p in ("/api/articles", "/api/articles/{article_id}", "/api/articles/{article_id}/versions",
              "/api/articles/{article_id}/diff", "/api/articles/{article_id}/versions/{version}/restore",
              "/api/articles/try", "/api/articles/import", "/api/articles/export", "/api/gaps", "/api/analytics"):
        assert p in paths, p
    assert {"post", "get"} <= set(paths["/api/articles"]) and {"put", "patch"} <= set(paths["/api/articles/{article_id}"])


# ----------------------------------------------------------------------------- editing and versions
def test_every_save_is_a_version_with_author_diff_and_restore(live_server: LiveServer, editor_token: str) -> None:
    c = api(live_server, editor_token)
    aid = new_id("gift-wrap")
    r = c.post("/api/articles", json={"id": aid, "title": "Gift wrapping", "body": "We wrap in brown paper.",
                                      "category": "Orders", "tags": ["gifts"], "questions": ["can you gift wrap"]})
    assert r.status_code == 201 and r.json()["status"] == "draft" and r.json()["version"] == 1
    assert c.post("/api/articles", json={"id": aid, "title": "dup"}).status_code == 409
    r = c.patch(f"/api/articles/{aid}", json={"body": "We wrap in recycled paper with a ribbon.", "base_version": 1})
    assert r.json()["version"] == 2 and r.json()["tags"] == ["gifts"]
    assert c.patch(f"/api/articles/{aid}", json={"body": "stale", "base_version": 1}).status_code == 409
    r = c.put(f"/api/articles/{aid}", json={"title": "Gift wrapping", "body": "We wrap in recycled paper with a ribbon.",
                                            "category": "Orders", "questions": ["can you gift wrap", "gift wrap price"]})
    assert r.json()["version"] == 3 and r.json()["tags"] == []
    versions = c.get(f"/api/articles/{aid}/versions").json()
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert versions[0]["author"] == "Eddie Editor" and set(versions[0]["changed"]) == {"questions", "tags"}
    assert versions[1]["changed"] == ["body"]
    d = c.get(f"/api/articles/{aid}/diff", params={"from": 1, "to": 2}).json()
    assert d["changes"][0]["field"] == "body"
    assert "-We wrap in brown paper." in d["changes"][0]["lines"] and "+We wrap in recycled paper with a ribbon." in d["changes"][0]["lines"]
    r = c.post(f"/api/articles/{aid}/versions/1/restore")
    assert r.json()["version"] == 4 and r.json()["body"] == "We wrap in brown paper." and r.json()["tags"] == ["gifts"]
    cats = {x["name"] for x in c.get("/api/articles/categories").json()}
    assert "Orders" in cats
    listed = c.get("/api/articles", params={"status": "draft", "q": "brown paper"}).json()
    assert [a["id"] for a in listed] == [aid]


def test_render_escapes_raw_html(live_server: LiveServer, editor_token: str) -> None:
    r = api(live_server, editor_token).post("/api/articles/render", json={"body": "**hi** <script>alert(1)</script>"})
    assert "<strong>hi</strong>" in r.json()["html"] and "<script>" not in r.json()["html"]


# ----------------------------------------------------------------------------- publish is live
async def test_publish_then_the_bot_answers_with_it_over_the_chat_socket(live_server: LiveServer, editor_token: str) -> None:
    c = api(live_server, editor_token)
    aid = new_id("iguana-club")
    c.post("/api/articles", json={"id": aid, "title": IGUANA[0], "body": IGUANA[1],
                                  "questions": ["how do I sign my iguana up for the reptile club"]})
    before = await ask(live_server, "how do I sign my iguana up for the reptile club?")
    assert before.get("article") is None or before["article"]["id"] != aid

    def trainings() -> int:  # the article classifier is retrained in the background after each publish
        return live_server.log_path.read_text(errors="replace").count("article classifier trained")

    trained_before = trainings()
    assert c.post(f"/api/articles/{aid}/publish").json()["status"] == "published"
    reply = await ask(live_server, "how do I sign my iguana up for the reptile club?")
    assert reply["type"] == "message" and reply["action"] == "answer" and reply["article"]["id"] == aid, reply
    for _ in range(100):
        if trainings() > trained_before:
            break
        await asyncio.sleep(0.1)
    assert trainings() > trained_before, "the publish did not retrain the article classifier"
    retrained = await ask(live_server, "how do I sign my iguana up for the reptile club?")
    assert retrained["article"]["id"] == aid  # and with the classifier in use, still the new article
    c.post(f"/api/articles/{aid}/archive")
    after = await ask(live_server, "how do I sign my iguana up for the reptile club?")
    assert after.get("article") is None or after["article"]["id"] != aid
    c.post(f"/api/articles/{aid}/versions/2/restore")  # version 2 was the published one
    restored = await ask(live_server, "how do I sign my iguana up for the reptile club?")
    assert restored["type"] == "message" and restored["article"]["id"] == aid


def test_try_it_answers_with_an_unpublished_draft_and_shows_runner_ups(live_server: LiveServer, editor_token: str) -> None:
    c = api(live_server, editor_token)
    text = "do you sell replacement strings for a hurdy-gurdy?"
    draft = {"title": "Hurdy-gurdy strings", "body": "We stock gut and nylon hurdy-gurdy strings, chanterelles and drones.",
             "questions": ["do you sell hurdy-gurdy strings"]}
    published = c.post("/api/articles/try", json={"text": text}).json()
    assert published["against"] == "published" and published["article_id"] != "hurdy-gurdy-strings"
    with_draft = c.post("/api/articles/try", json={"text": text, "draft": draft}).json()
    assert with_draft["against"] == "draft" and with_draft["action"] == "answer"
    assert with_draft["article_id"] == "hurdy-gurdy-strings" and with_draft["confidence"] > 0.6
    assert with_draft["candidates"][0]["draft"] is True and len(with_draft["candidates"]) > 1
    assert c.get("/api/articles/hurdy-gurdy-strings").status_code == 404  # nothing stored


async def test_try_it_and_the_preview_show_the_html_the_customer_gets(live_server: LiveServer, editor_token: str) -> None:
    text = "how much is delivery to mainland UK"
    frame = await ask(live_server, text)
    assert frame["type"] == "message" and frame["action"] == "answer", frame
    assert "<table>" in frame["html"] and "|" not in frame["html"]
    c = api(live_server, editor_token)
    tried = c.post("/api/articles/try", json={"text": text}).json()
    preview = c.post("/api/bot/preview", json={"text": text}).json()
    stored = c.get("/api/articles/shipping-times-and-costs").json()  # as an unpublished draft: the same section
    draft = {k: stored[k] for k in ("id", "title", "body", "questions")}
    with_draft = c.post("/api/articles/try", json={"text": text, "draft": draft}).json()
    assert with_draft["article_id"] == "shipping-times-and-costs"
    # the unchanged article as a draft decides exactly as the published one: same fused score, same thresholds
    assert with_draft["action"] == tried["action"] and abs(with_draft["confidence"] - tried["confidence"]) < 1e-4
    assert [c["article_id"] for c in with_draft["candidates"]] == [c["article_id"] for c in tried["candidates"]]
    for shown in (tried, preview, with_draft):
        assert shown["html"] == frame["html"] and shown.get("more_html") == frame.get("more_html")
    no_answer = c.post("/api/bot/preview", json={"text": "what is the capital of peru"}).json()
    assert no_answer["action"] == "no_answer" and no_answer["html"] is None
    offer = await ask(live_server, "what is the capital of peru")
    assert offer["action"] == "no_answer" and offer["offer_person"] is True and "html" not in offer


# ----------------------------------------------------------------------------- import and export
def _upload(c: httpx.Client, path: Path, fmt: str, **params: str) -> httpx.Response:
    return c.post("/api/articles/import", params={"format": fmt, "filename": path.name, **params}, content=path.read_bytes())


def test_upload_import_of_every_format_is_idempotent_and_reports_skips(live_server: LiveServer, editor_token: str) -> None:
    c = api(live_server, editor_token)
    r = _upload(c, FIX / "faq.csv", "csv", map="question=Frage,answer=Antwort,category=Thema").json()
    assert len(r["created"]) + len(r["unchanged"]) == 2 and not r["skipped"]
    again = _upload(c, FIX / "faq.csv", "csv", map="question=Frage,answer=Antwort,category=Thema").json()
    assert len(again["unchanged"]) == 2 and not again["created"] and not again["updated"]
    zd = _upload(c, FIX / "zendesk.json", "zendesk").json()
    assert {i["id"] for i in zd["created"] + zd["unchanged"]} == {"zendesk-360001234501", "zendesk-360001234502"}
    assert zd["skipped"] == ["zendesk.json:21: skipped article 360001234503: empty title"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in (FIX / "markdown").iterdir():
            zf.write(f, f"kb/{f.name}")
    md = c.post("/api/articles/import", params={"format": "markdown", "filename": "kb.zip"}, content=buf.getvalue()).json()
    assert [i["id"] for i in md["created"] + md["unchanged"]] == ["ukulele-strings"]
    assert len(md["skipped"]) == 1 and md["skipped"][0].startswith("kb/bad-front-matter.md:")


def test_a_malformed_upload_is_rejected_with_its_line_and_changes_nothing(live_server: LiveServer, editor_token: str) -> None:
    c = api(live_server, editor_token)
    before = {a["id"]: a["version"] for a in c.get("/api/articles").json()}
    for path, fmt, where in ((FIX / "broken.csv", "csv", "broken.csv:3"), (FIX / "zendesk-broken.json", "zendesk", "zendesk-broken.json:7")):
        r = _upload(c, path, fmt).json()
        assert r["rejected"] is True and not r["created"] and r["skipped"][0].startswith(where), r
    assert {a["id"]: a["version"] for a in c.get("/api/articles").json()} == before


def test_export_then_import_changes_nothing(live_server: LiveServer, editor_token: str) -> None:
    c = api(live_server, editor_token)
    r = c.get("/api/articles/export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert "reset-password.md" in names and len(names) == len(c.get("/api/articles").json())
    back = c.post("/api/articles/import", params={"format": "markdown", "filename": "export.zip"}, content=r.content).json()
    assert not back["created"] and not back["updated"] and not back["skipped"] and len(back["unchanged"]) == len(names)


# ----------------------------------------------------------------------------- gaps and analytics
async def test_gaps_group_unanswered_questions_and_one_click_makes_a_draft(live_server: LiveServer, editor_token: str) -> None:
    c = api(live_server, editor_token)
    questions = ["can I bring my dog to the bassoon masterclass?", "are dogs allowed at the bassoon masterclass",
                 "dog allowed in bassoon masterclass?"]
    for q in questions:
        reply = await ask(live_server, q)  # no article answers: options offered, or none and a person offered
        assert reply["type"] == "message" and reply["action"] in ("clarify", "no_answer"), reply
    gaps = c.get("/api/gaps", params={"days": 1}).json()
    cluster = next(g for g in gaps["clusters"] if "bassoon" in g["label"])
    assert cluster["customers"] == 3 and set(cluster["questions"]) == set(questions)
    assert sum(cluster["trend"]) == 3 and cluster["addressed"] is None
    draft = c.post("/api/gaps/draft", json={"questions": cluster["questions"], "title": cluster["label"]})
    assert draft.status_code == 201 and draft.json()["status"] == "draft"
    assert set(draft.json()["questions"]) == set(questions)
    aid = draft.json()["id"]
    c.patch(f"/api/articles/{aid}", json={"title": "Dogs at masterclasses",
                                          "body": "Dogs are welcome at the bassoon masterclass if they stay on a lead."})
    c.post(f"/api/articles/{aid}/publish")
    reply = await ask(live_server, "can I bring my dog to the bassoon masterclass?")
    assert reply["type"] == "message" and reply["article"]["id"] == aid
    addressed = next(g for g in c.get("/api/gaps", params={"days": 1}).json()["clusters"] if "bassoon" in g["label"])["addressed"]
    assert addressed["article_id"] == aid and addressed["status"] == "published" and addressed["went_down"] is True


def test_gap_questions_can_be_added_to_an_existing_article(live_server: LiveServer, editor_token: str) -> None:
    c = api(live_server, editor_token)
    before = c.get("/api/articles/reset-password").json()
    r = c.post("/api/gaps/add-questions", json={"article_id": "reset-password", "questions": ["forgot my login code"]})
    assert r.json()["version"] == before["version"] + 1 and "forgot my login code" in r.json()["questions"]


async def test_analytics_counts_conversations_escalations_and_article_views(live_server: LiveServer, editor_token: str) -> None:
    await ask(live_server, "how do I reset my password")
    c = api(live_server, editor_token)
    a = c.get("/api/analytics", params={"days": 1}).json()
    assert a["conversations"] >= 1 and a["escalations"] >= 0 and len(a["series"]["dates"]) >= 1
    assert any(t["article_id"] == "reset-password" and t["views"] >= 1 for t in a["top_articles"])
    assert a["self_service_assumed"] + a["self_service_confirmed"] >= 1
    csv_text = c.get("/api/analytics.csv", params={"days": 1}).text
    assert csv_text.startswith("metric,value") and f"conversations,{a['conversations']}" in csv_text
    assert c.get("/api/analytics", params={"since": "2026-02-02", "until": "2026-01-01"}).status_code == 422
