"""The editors' article API (/api/articles) and the editor pages.

Every write goes through KnowledgeRuntime.save_draft, so it is stored as a new version, the live
index follows, and every other process is told (`kb_changed`).
"""

from __future__ import annotations

import asyncio
import difflib
import io
import time
import zipfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app import web
from app.conversation import answer_markup
from app.deps import CurrentEditor, DeskDep, KnowledgeDep, StoreDep
from app.schemas import ArticleOut, RowId, draft_of
from app.storage.records import Article, ArticleVersion
from app.validation import Line, Text
from bot import ConversationContext, respond
from knowledge_base.draft import DraftOverlay
from knowledge_base.formats.upload import read_upload
from knowledge_base.models import (
    ARTICLE_ID_RE,
    BODY_MAX,
    CATEGORY_MAX,
    QUESTION_MAX,
    QUESTIONS_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    slugify,
)
from knowledge_base.render import render_markdown

router = APIRouter(tags=["articles"])
UI = Path(__file__).resolve().parents[1] / "ui" / "editor"
Status = Literal["draft", "published", "archived"]
IMPORT_FORMATS = ("markdown", "csv", "zendesk", "rasa")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# The limits every article obeys, from knowledge_base.models (imports are held to the same ones).
Question = Annotated[Line, StringConstraints(max_length=QUESTION_MAX)]
Tag = Annotated[Line, StringConstraints(max_length=TAG_MAX)]


# ----------------------------------------------------------------------------- wire models
class ArticleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, pattern=ARTICLE_ID_RE.pattern, description="Defaults to a slug of the title.")
    title: Line = Field(min_length=1, max_length=TITLE_MAX)
    body: Text = Field(default="", max_length=BODY_MAX)
    category: Line | None = Field(default=None, max_length=CATEGORY_MAX)
    questions: list[Question] = Field(default_factory=list, max_length=QUESTIONS_MAX)
    tags: list[Tag] = Field(default_factory=list, max_length=TAGS_MAX)
    status: Status = "draft"


class ArticleUpdate(BaseModel):
    """PUT sends every field; PATCH only the ones that change. `base_version` refuses a stale save (409)."""

    model_config = ConfigDict(extra="forbid")
    title: Line | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    body: Text | None = Field(default=None, max_length=BODY_MAX)
    category: Line | None = Field(default=None, max_length=CATEGORY_MAX)
    questions: list[Question] | None = Field(default=None, max_length=QUESTIONS_MAX)
    tags: list[Tag] | None = Field(default=None, max_length=TAGS_MAX)
    status: Status | None = None
    base_version: int | None = None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status


class VersionOut(BaseModel):
    version: int
    title: str
    category: str | None
    body: str
    questions: list[str]
    tags: list[str]
    status: str
    author_id: int | None
    author: str | None
    created_at: datetime
    changed: list[str]


class FieldDiff(BaseModel):
    field: str
    before: Any
    after: Any
    lines: list[str] = Field(default_factory=list, description="unified diff lines for text fields")


class DiffOut(BaseModel):
    article_id: str
    from_version: int
    to_version: int
    changes: list[FieldDiff]


class CategoryOut(BaseModel):
    name: str
    articles: int


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    title: Line = Field(min_length=1, max_length=TITLE_MAX)
    body: Text = Field(default="", max_length=BODY_MAX)
    questions: list[Question] = Field(default_factory=list, max_length=QUESTIONS_MAX)


class TryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text = Field(min_length=1, max_length=4000)
    draft: DraftIn | None = Field(default=None, description="Answer as if this draft were published too "
                                  "(replacing the article with the same id).")
    lang: str = Field(default="en", max_length=8)


class TryCandidate(BaseModel):
    article_id: str
    title: str
    score: float
    draft: bool = False


class TryOut(BaseModel):
    action: str
    reason: str | None
    text: str
    confidence: float
    article_id: str | None
    article_title: str | None
    candidates: list[TryCandidate]
    suggestions: list[TryCandidate]
    against: Literal["published", "draft"]
    ms: float
    html: str | None = Field(default=None, description="The answer as the widget shows it (knowledge_base/render.py).")
    more_html: str | None = Field(default=None, description="The rest of the section, behind \"Show more\".")


class RenderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Text = Field(max_length=BODY_MAX)


class ImportItem(BaseModel):
    id: str
    title: str
    outcome: str


class ImportReport(BaseModel):
    created: list[ImportItem]
    updated: list[ImportItem]
    unchanged: list[ImportItem]
    skipped: list[str]
    rejected: bool = Field(description="true when nothing could be read from the upload")


# ----------------------------------------------------------------------------- helpers
async def _article_or_404(store: Any, article_id: str) -> Article:
    article = await store.get_article(article_id)
    if article is None:
        raise HTTPException(404, f"article {article_id} not found")
    return article


FIELDS = ("title", "category", "body", "questions", "tags", "status")


def _changed(before: ArticleVersion | None, after: ArticleVersion) -> list[str]:
    if before is None:
        return ["created"]
    return [f for f in FIELDS if getattr(before, f) != getattr(after, f)]


def diff_versions(a: ArticleVersion, b: ArticleVersion) -> list[FieldDiff]:
    out = []
    for f in FIELDS:
        before, after = getattr(a, f), getattr(b, f)
        if before == after:
            continue
        lines: list[str] = []
        if f in ("body", "questions", "tags", "title"):
            to_lines = (lambda v: v.splitlines()) if isinstance(before, str) else (lambda v: list(v))
            lines = list(difflib.unified_diff(to_lines(before or ""), to_lines(after or ""),
                                              f"v{a.version}", f"v{b.version}", lineterm="", n=2))[2:]
        out.append(FieldDiff(field=f, before=before, after=after, lines=lines))
    return out


def _try_out(decision: Any, draft_id: str | None, against: str, ms: float) -> TryOut:
    def cands(items: Any) -> list[TryCandidate]:
        return [TryCandidate(article_id=c.article_id, title=c.title, score=round(c.score, 4),
                             draft=c.article_id == draft_id) for c in items]

    markup = answer_markup(decision.article) if decision.action == "answer" and decision.article else {}
    return TryOut(action=decision.action, reason=decision.reason, text=decision.text,
                  html=markup.get("html"), more_html=markup.get("more_html"),
                  confidence=round(decision.confidence, 4),
                  article_id=decision.article.article_id if decision.article else None,
                  article_title=decision.article.title if decision.article else None,
                  candidates=cands(decision.candidates), suggestions=cands(decision.suggestions),
                  against=against, ms=round(ms, 1))  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- reads
@router.get("/api/articles", response_model=list[ArticleOut])
async def list_articles(user: CurrentEditor, store: StoreDep, status: Status | None = None,
                        category: str | None = None, tag: str | None = None,
                        q: Line | None = Query(default=None, description="words in the title or body")) -> list[ArticleOut]:
    """Articles of every status (editors only: drafts are never public)."""
    articles = await store.list_articles(status=status)
    if category:
        articles = [a for a in articles if (a.category or "") == category]
    if tag:
        articles = [a for a in articles if tag in a.tags]
    if q:
        words = q.lower().split()
        articles = [a for a in articles if all(w in f"{a.title} {a.body} {' '.join(a.questions)}".lower() for w in words)]
    return [ArticleOut.of(a) for a in articles]


@router.get("/api/articles/categories", response_model=list[CategoryOut])
async def list_categories(user: CurrentEditor, store: StoreDep) -> list[CategoryOut]:
    counts: dict[str, int] = {}
    for a in await store.list_articles():
        if a.category:
            counts[a.category] = counts.get(a.category, 0) + 1
    return [CategoryOut(name=k, articles=v) for k, v in sorted(counts.items())]


@router.get("/api/articles/export", response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "Markdown files with YAML front matter"}})
async def export_articles(user: CurrentEditor, store: StoreDep) -> Response:
    """The whole knowledge base as a zip of Markdown files with front matter (re-importable as is)."""
    from knowledge_base.formats.markdown import render_markdown_article

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for a in await store.list_articles():
            zf.writestr(f"{a.id}.md", render_markdown_article(draft_of(a, a.id)))
    return Response(buf.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="parley-knowledge-base.zip"'})


@router.get("/api/articles/{article_id}", response_model=ArticleOut, responses={404: {}})
async def get_article(article_id: Line, user: CurrentEditor, store: StoreDep) -> ArticleOut:
    return ArticleOut.of(await _article_or_404(store, article_id))


@router.get("/api/articles/{article_id}/versions", response_model=list[VersionOut], responses={404: {}})
async def list_versions(article_id: Line, user: CurrentEditor, store: StoreDep) -> list[VersionOut]:
    """Every saved version, newest first, with its author and the fields it changed."""
    await _article_or_404(store, article_id)
    versions = await store.article_versions(article_id)
    names = await store.user_names()
    out = []
    for i, v in enumerate(versions):
        out.append(VersionOut(version=v.version, title=v.title, category=v.category, body=v.body, questions=v.questions,
                              tags=v.tags, status=v.status, author_id=v.author_id,
                              author=names.get(v.author_id) if v.author_id else None, created_at=v.created_at,
                              changed=_changed(versions[i - 1] if i else None, v)))
    return out[::-1]


@router.get("/api/articles/{article_id}/diff", response_model=DiffOut, responses={404: {}})
async def diff(article_id: Line, user: CurrentEditor, store: StoreDep,
               from_version: int = Query(alias="from"), to_version: int | None = Query(default=None, alias="to")) -> DiffOut:
    """What changed between two versions (`to` defaults to the current one)."""
    versions = {v.version: v for v in await store.article_versions(article_id)}
    if not versions:
        raise HTTPException(404, f"article {article_id} not found")
    to_version = to_version or max(versions)
    if from_version not in versions or to_version not in versions:
        raise HTTPException(404, "no such version")
    return DiffOut(article_id=article_id, from_version=from_version, to_version=to_version,
                   changes=diff_versions(versions[from_version], versions[to_version]))


# ----------------------------------------------------------------------------- writes
@router.post("/api/articles", response_model=ArticleOut, status_code=201, responses={409: {}, 422: {}})
async def create_article(body: ArticleCreate, user: CurrentEditor, store: StoreDep, knowledge: KnowledgeDep) -> ArticleOut:
    article_id = body.id or slugify(body.title)
    if await store.get_article(article_id) is not None:
        raise HTTPException(409, f"an article with id {article_id!r} already exists")
    draft = draft_of(_blank(), article_id, title=body.title, body=body.body, category=body.category,
                      questions=body.questions, tags=body.tags, status=body.status)
    article, _ = await knowledge.save_draft(draft, user.id)
    return ArticleOut.of(article)


def _blank() -> Any:
    class Blank:
        title = "untitled"
        body = ""
        category = None
        questions: list[str] = []
        tags: list[str] = []
        status = "draft"

    return Blank()


async def _update(article_id: str, body: ArticleUpdate, user: Any, store: Any, knowledge: Any, full: bool) -> ArticleOut:
    current = await _article_or_404(store, article_id)
    if body.base_version is not None and body.base_version != current.version:
        raise HTTPException(409, f"the article changed since version {body.base_version} (now version "
                                 f"{current.version}); reload before saving")
    if full and (body.title is None or body.body is None):
        raise HTTPException(422, "PUT needs title and body; use PATCH to change some fields")
    changes = body.model_dump(exclude={"base_version"}, exclude_unset=not full)
    if full:
        changes = {k: (v if v is not None else ([] if k in ("questions", "tags") else v)) for k, v in changes.items()}
        changes["status"] = body.status or current.status
    draft = draft_of(current, article_id, **{k: v for k, v in changes.items() if k != "category"})
    if "category" in changes:
        draft = replace(draft, category=(changes["category"] or "").strip() or None)
    article, _ = await knowledge.save_draft(draft, user.id)
    return ArticleOut.of(article)


@router.put("/api/articles/{article_id}", response_model=ArticleOut, responses={404: {}, 409: {}})
async def put_article(article_id: Line, body: ArticleUpdate, user: CurrentEditor, store: StoreDep,
                      knowledge: KnowledgeDep) -> ArticleOut:
    return await _update(article_id, body, user, store, knowledge, full=True)


@router.patch("/api/articles/{article_id}", response_model=ArticleOut, responses={404: {}, 409: {}})
async def patch_article(article_id: Line, body: ArticleUpdate, user: CurrentEditor, store: StoreDep,
                        knowledge: KnowledgeDep) -> ArticleOut:
    return await _update(article_id, body, user, store, knowledge, full=False)


@router.post("/api/articles/{article_id}/status", response_model=ArticleOut, responses={404: {}})
async def set_status(article_id: Line, body: StatusIn, user: CurrentEditor, store: StoreDep,
                     knowledge: KnowledgeDep) -> ArticleOut:
    """draft → published → archived (any move is allowed; each is a version). Publishing makes the
    article answerable in every process; archiving removes it from the bot."""
    current = await _article_or_404(store, article_id)
    article, _ = await knowledge.save_draft(draft_of(current, article_id, status=body.status), user.id)
    return ArticleOut.of(article)


@router.post("/api/articles/{article_id}/publish", response_model=ArticleOut, responses={404: {}})
async def publish(article_id: Line, user: CurrentEditor, store: StoreDep, knowledge: KnowledgeDep) -> ArticleOut:
    return await set_status(article_id, StatusIn(status="published"), user, store, knowledge)


@router.post("/api/articles/{article_id}/archive", response_model=ArticleOut, responses={404: {}})
async def archive(article_id: Line, user: CurrentEditor, store: StoreDep, knowledge: KnowledgeDep) -> ArticleOut:
    return await set_status(article_id, StatusIn(status="archived"), user, store, knowledge)


@router.post("/api/articles/{article_id}/versions/{version}/restore", response_model=ArticleOut, responses={404: {}})
async def restore(article_id: Line, version: RowId, user: CurrentEditor, store: StoreDep,
                  knowledge: KnowledgeDep) -> ArticleOut:
    """Make the article what it was in `version` (content and status), as a new version."""
    await _article_or_404(store, article_id)
    old = next((v for v in await store.article_versions(article_id) if v.version == version), None)
    if old is None:
        raise HTTPException(404, f"article {article_id} has no version {version}")
    article, _ = await knowledge.save_draft(draft_of(old, article_id), user.id)
    return ArticleOut.of(article)


@router.post("/api/articles/import", response_model=ImportReport, responses={413: {}, 422: {}},
             openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {
                 "schema": {"type": "string", "format": "binary"}}},
                 "description": "The file itself (.md, .csv, .json, or a .zip of a folder) as the request body."}})
async def import_articles(request: Request, user: CurrentEditor, knowledge: KnowledgeDep,
                          format: Literal["markdown", "csv", "zendesk", "rasa"] = Query(...),
                          filename: str = Query(..., max_length=255),
                          map: str | None = Query(default=None, description="csv: field=Column,field=Column"),
                          status: Status | None = Query(default=None, description="override every article's status")
                          ) -> ImportReport:
    """Idempotent import (re-importing updates, never duplicates): reports created, updated,
    unchanged and skipped (with file and line). A malformed file is rejected and nothing stored changes."""
    data = await request.body()
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, "the upload is larger than 20 MB")
    try:
        from knowledge_base.formats.csv_format import CsvMapping

        mapping = CsvMapping.parse(map).columns if format == "csv" else None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    result = await asyncio.to_thread(read_upload, format, filename, data, mapping)
    report = ImportReport(created=[], updated=[], unchanged=[], skipped=[str(p) for p in result.problems],
                          rejected=not result.drafts and bool(result.problems))
    drafts = [replace(d, status=status) if status else d for d in result.drafts]
    for article, outcome in await knowledge.import_drafts(drafts, user.id):  # one bulk operation
        getattr(report, outcome).append(ImportItem(id=article.id, title=article.title, outcome=outcome))
    return report


# ----------------------------------------------------------------------------- try it, preview
@router.post("/api/articles/try", response_model=TryOut)
async def try_it(body: TryIn, user: CurrentEditor, desk: DeskDep) -> TryOut:
    """What the bot would answer to a first message: against the published articles, or with `draft`
    as if it were published. Stores nothing."""
    started = time.perf_counter()
    kb: Any = desk.kb
    draft_id = None
    if body.draft is not None:
        draft = body.draft
        kb = await asyncio.to_thread(DraftOverlay, desk.kb, draft.id or slugify(draft.title), draft.title, draft.body,
                                     draft.questions)
        draft_id = kb.article_id
    decision = await asyncio.to_thread(respond, body.text, ConversationContext(lang=body.lang), kb, desk.bot_config)
    return _try_out(decision, draft_id, "draft" if body.draft else "published", (time.perf_counter() - started) * 1000)


@router.post("/api/articles/render")
async def render(body: RenderIn, user: CurrentEditor) -> dict[str, str]:
    """Markdown to HTML exactly as the public article page renders it (raw HTML is shown as text)."""
    return {"html": render_markdown(body.body)}


# ----------------------------------------------------------------------------- pages
def page(name: str) -> HTMLResponse:
    """An editor page (app/web.py: the staff pages' one mechanism)."""
    return web.page("editor", name)


@router.get("/editor", include_in_schema=False)
async def editor_page() -> HTMLResponse:
    return page("editor.html")


@router.get("/editor/", include_in_schema=False)
async def editor_slash() -> RedirectResponse:
    return RedirectResponse("/editor")


@router.get("/editor/static/{name}", include_in_schema=False)
async def editor_static(name: str) -> Response:
    return web.asset("editor", name)
