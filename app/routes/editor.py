"""The editors' article API (/api/articles) and the editor pages.

Every write goes through KnowledgeRuntime.save_draft, so it is stored as a new version, the live
index follows, and every other process is told (`kb_changed`). The wire models are in
app/editor_schemas.py; what is done with the articles (filtering, diffs, drafts, export, import,
"try it") is in app/article_editing.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from app import article_editing, web
from app.deps import CurrentEditor, DeskDep, KnowledgeDep, StoreDep
from app.editor_schemas import (
    ArticleCreate,
    ArticleUpdate,
    CategoryOut,
    DiffOut,
    ImportReport,
    RenderIn,
    Status,
    StatusIn,
    TryIn,
    TryOut,
    VersionOut,
)
from app.schemas import ArticleOut, RowId, draft_of
from app.storage.records import Article
from app.validation import Line
from knowledge_base.models import slugify
from knowledge_base.render import render_markdown

router = APIRouter(tags=["articles"])
UI = Path(__file__).resolve().parents[1] / "ui" / "editor"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


# ----------------------------------------------------------------------------- helpers
async def _article_or_404(store: Any, article_id: str) -> Article:
    article = await store.get_article(article_id)
    if article is None:
        raise HTTPException(404, f"article {article_id} not found")
    return article


# ----------------------------------------------------------------------------- reads
@router.get("/api/articles", response_model=list[ArticleOut])
async def list_articles(user: CurrentEditor, store: StoreDep, status: Status | None = None,
                        category: str | None = None, tag: str | None = None,
                        q: Line | None = Query(default=None, description="words in the title or body")) -> list[ArticleOut]:
    """Articles of every status (editors only: drafts are never public)."""
    articles = article_editing.filter_articles(await store.list_articles(status=status), category, tag, q)
    return [ArticleOut.of(a) for a in articles]


@router.get("/api/articles/categories", response_model=list[CategoryOut])
async def list_categories(user: CurrentEditor, store: StoreDep) -> list[CategoryOut]:
    return [CategoryOut(name=k, articles=v) for k, v in article_editing.category_counts(await store.list_articles())]


@router.get("/api/articles/export", response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "Markdown files with YAML front matter"}})
async def export_articles(user: CurrentEditor, store: StoreDep) -> Response:
    """The whole knowledge base as a zip of Markdown files with front matter (re-importable as is)."""
    return Response(article_editing.export_zip(await store.list_articles()), media_type="application/zip",
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
                              changed=article_editing.changed_fields(versions[i - 1] if i else None, v)))
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
                   changes=article_editing.diff_versions(versions[from_version], versions[to_version]))


# ----------------------------------------------------------------------------- writes
@router.post("/api/articles", response_model=ArticleOut, status_code=201, responses={409: {}, 422: {}})
async def create_article(body: ArticleCreate, user: CurrentEditor, store: StoreDep, knowledge: KnowledgeDep) -> ArticleOut:
    article_id = body.id or slugify(body.title)
    if await store.get_article(article_id) is not None:
        raise HTTPException(409, f"an article with id {article_id!r} already exists")
    article, _ = await knowledge.save_draft(article_editing.new_draft(article_id, body), user.id)
    return ArticleOut.of(article)


async def _update(article_id: str, body: ArticleUpdate, user: Any, store: Any, knowledge: Any, full: bool) -> ArticleOut:
    current = await _article_or_404(store, article_id)
    if body.base_version is not None and body.base_version != current.version:
        raise HTTPException(409, f"the article changed since version {body.base_version} (now version "
                                 f"{current.version}); reload before saving")
    if full and (body.title is None or body.body is None):
        raise HTTPException(422, "PUT needs title and body; use PATCH to change some fields")
    article, _ = await knowledge.save_draft(article_editing.updated_draft(current, article_id, body, full), user.id)
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
    return await article_editing.import_upload(knowledge, user.id, format, filename, data, mapping, status)


# ----------------------------------------------------------------------------- try it, preview
@router.post("/api/articles/try", response_model=TryOut)
async def try_it(body: TryIn, user: CurrentEditor, desk: DeskDep) -> TryOut:
    """What the bot would answer to a first message: against the published articles, or with `draft`
    as if it were published. Stores nothing."""
    return await article_editing.try_answer(desk, body.text, body.lang, body.draft)


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
