"""A bulk import of articles into the knowledge base: stored, embedded and indexed in groups.

`KnowledgeRuntime.import_drafts` (app/knowledge.py) runs it and then does, once for the lot, what a
single save does after each article: retrain, recalibrate, tell the other processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from app.storage.records import Article
from app.storage.sql import SqlStore
from knowledge_base.embedder import Embedder
from knowledge_base.models import ArticleDraft
from knowledge_base.service import KnowledgeBase, embed_articles

IMPORT_GROUP = 50  # articles per model call and transaction in a bulk import (a few seconds of work each)


def _fields(draft: ArticleDraft) -> dict[str, Any]:
    return dict(title=draft.title, body=draft.body, category=draft.category, questions=list(draft.questions),
                tags=list(draft.tags), status=draft.status)


async def import_groups(store: SqlStore, kb: KnowledgeBase, embedder: Embedder, chunk_words: int, model_key: str,
                        drafts: Sequence[ArticleDraft], author_id: int | None,
                        progress: Callable[[int, int], None] | None
                        ) -> tuple[dict[str, tuple[Article, str]], list[tuple[ArticleDraft, bool]], int]:
    """Store, embed and index the changed articles of `drafts`, IMPORT_GROUP at a time: one model
    call and one transaction a group. Returns (article, outcome) by id, the work done ((draft, new
    version?) for each article that was not unchanged) and the last change id written."""
    from app.storage.kb_import import FIELDS, ImportedArticle, write_imported

    existing = {a.id: a for a in await store.list_articles()}
    results: dict[str, tuple[Article, str]] = {}
    work: list[tuple[ArticleDraft, bool]] = []  # (draft, new version?)
    unique = list({d.id: d for d in drafts}.values())  # a repeated id: its last version
    for draft in unique:
        fields = _fields(draft)
        old = existing.get(draft.id)
        if old is not None and all(getattr(old, k) == fields[k] for k in FIELDS):
            if old.status == "published" and old.id not in kb.articles:
                work.append((draft, False))  # stored but not indexed: index it, no new version
            else:
                results[draft.id] = (old, "unchanged")
        else:
            work.append((draft, True))
    total, done = len(unique), len(unique) - len(work)
    if progress is not None:
        progress(done, total)
    last_change = 0
    for start in range(0, len(work), IMPORT_GROUP):
        group = work[start:start + IMPORT_GROUP]
        published = [d for d, _ in group if d.status == "published"]
        embedded = await asyncio.to_thread(
            embed_articles, embedder, [(d.id, d.title, d.body, d.questions) for d in published], chunk_words)
        vectors = {d.id: ev for d, ev in zip(published, embedded)}
        items = []
        for draft, new_version in group:
            entries, vecs = vectors.get(draft.id, ([], None))
            items.append(ImportedArticle(draft.id, _fields(draft), [(e.kind, e.position, e.text) for e in entries],
                                         vecs, new_version))
        written = await write_imported(store, items, model_key, author_id)
        for (article, outcome, change), (draft, _) in zip(written, group):
            results[draft.id] = (article, outcome)
            entries, vecs = vectors.get(draft.id, ([], None))
            if article.status == "published" and vecs is not None:
                kb.put(article.id, article.title, article.body, entries, vecs)
            else:
                kb.remove(article.id)
            last_change = max(last_change, change)
        done += len(group)
        if progress is not None:
            progress(done, total)
    return results, work, last_change
