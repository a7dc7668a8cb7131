"""What the editors' article API (app/routes/editor.py) does with articles, apart from HTTP.

Searching and counting articles, the fields a version changed and the diff between two versions,
building the draft a create or an update saves, the export zip, an upload's import report, and what
the bot would answer to a first message ("try it"). The routes parse, authorise, call these and
serialise; every write still goes through KnowledgeRuntime.save_draft / import_drafts.
"""

from __future__ import annotations

import asyncio
import difflib
import io
import time
import zipfile
from dataclasses import replace
from typing import Any

from app.conversation import answer_markup
from app.editor_schemas import (
    ArticleCreate,
    ArticleUpdate,
    DraftIn,
    FieldDiff,
    ImportItem,
    ImportReport,
    Status,
    TryCandidate,
    TryOut,
)
from app.schemas import draft_of
from app.storage.records import Article, ArticleVersion
from bot import ConversationContext, respond
from knowledge_base.draft import DraftOverlay
from knowledge_base.formats.upload import read_upload
from knowledge_base.models import ArticleDraft, slugify

IMPORT_FORMATS = ("markdown", "csv", "zendesk", "rasa")
FIELDS = ("title", "category", "body", "questions", "tags", "status")


# ----------------------------------------------------------------------------- reads
def filter_articles(articles: list[Article], category: str | None, tag: str | None, q: str | None) -> list[Article]:
    """The articles in `category`, with `tag`, and with every word of `q` in the title, body or questions."""
    if category:
        articles = [a for a in articles if (a.category or "") == category]
    if tag:
        articles = [a for a in articles if tag in a.tags]
    if q:
        words = q.lower().split()
        articles = [a for a in articles if all(w in f"{a.title} {a.body} {' '.join(a.questions)}".lower() for w in words)]
    return articles


def category_counts(articles: list[Article]) -> list[tuple[str, int]]:
    """(category, number of articles) for every category in use, by name."""
    counts: dict[str, int] = {}
    for a in articles:
        if a.category:
            counts[a.category] = counts.get(a.category, 0) + 1
    return sorted(counts.items())


def export_zip(articles: list[Article]) -> bytes:
    """The articles as a zip of Markdown files with front matter (re-importable as is)."""
    from knowledge_base.formats.markdown import render_markdown_article

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for a in articles:
            zf.writestr(f"{a.id}.md", render_markdown_article(draft_of(a, a.id)))
    return buf.getvalue()


# ----------------------------------------------------------------------------- versions
def changed_fields(before: ArticleVersion | None, after: ArticleVersion) -> list[str]:
    """The fields `after` changed from `before` (["created"] for the first version)."""
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


# ----------------------------------------------------------------------------- drafts
def _blank() -> Any:
    class Blank:
        title = "untitled"
        body = ""
        category = None
        questions: list[str] = []
        tags: list[str] = []
        status = "draft"

    return Blank()


def new_draft(article_id: str, body: ArticleCreate) -> ArticleDraft:
    """The draft a create saves; 422 if it is invalid."""
    return draft_of(_blank(), article_id, title=body.title, body=body.body, category=body.category,
                    questions=body.questions, tags=body.tags, status=body.status)


def updated_draft(current: Article, article_id: str, body: ArticleUpdate, full: bool) -> ArticleDraft:
    """The draft a PUT (`full`: every field, unsent lists emptied) or a PATCH (only the sent fields) saves."""
    changes = body.model_dump(exclude={"base_version"}, exclude_unset=not full)
    if full:
        changes = {k: (v if v is not None else ([] if k in ("questions", "tags") else v)) for k, v in changes.items()}
        changes["status"] = body.status or current.status
    draft = draft_of(current, article_id, **{k: v for k, v in changes.items() if k != "category"})
    if "category" in changes:
        draft = replace(draft, category=(changes["category"] or "").strip() or None)
    return draft


# ----------------------------------------------------------------------------- import
async def import_upload(knowledge: Any, user_id: int, format: str, filename: str, data: bytes,
                        mapping: Any, status: Status | None) -> ImportReport:
    """Read the upload and import what it holds in one bulk operation, reporting each article's outcome."""
    result = await asyncio.to_thread(read_upload, format, filename, data, mapping)
    report = ImportReport(created=[], updated=[], unchanged=[], skipped=[str(p) for p in result.problems],
                          rejected=not result.drafts and bool(result.problems))
    drafts = [replace(d, status=status) if status else d for d in result.drafts]
    for article, outcome in await knowledge.import_drafts(drafts, user_id):  # one bulk operation
        getattr(report, outcome).append(ImportItem(id=article.id, title=article.title, outcome=outcome))
    return report


# ----------------------------------------------------------------------------- try it
async def try_answer(desk: Any, text: str, lang: str, draft: DraftIn | None) -> TryOut:
    """What the bot would answer to a first message: against the published articles, or with `draft`
    as if it were published (replacing the article with the same id). Stores nothing."""
    started = time.perf_counter()
    kb: Any = desk.kb
    draft_id = None
    if draft is not None:
        kb = await asyncio.to_thread(DraftOverlay, desk.kb, draft.id or slugify(draft.title), draft.title, draft.body,
                                     draft.questions)
        draft_id = kb.article_id
    decision = await asyncio.to_thread(respond, text, ConversationContext(lang=lang), kb, desk.bot_config)
    return _try_out(decision, draft_id, "draft" if draft else "published", (time.perf_counter() - started) * 1000)


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
