"""A group of imported articles written in one transaction: rows, versions, vectors, change log.

`SqlStore.upsert_article` + `replace_entries` per article is two transactions an article; an import
of 1,000 articles is a few dozen groups of this instead. Each article still gets its own version in
`article_versions` (with its author) and its own row in `kb_changes`, exactly as one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa

from app.storage import tables as t
from app.storage.records import Article
from app.storage.sql import SqlStore, _article, utcnow

FIELDS = ("title", "body", "category", "questions", "tags", "status")


@dataclass
class ImportedArticle:
    """One article to write. `fields` are those of FIELDS; `entries` (kind, position, text) with one
    vector each are stored for a published article; `new_version` False only re-indexes it."""

    id: str
    fields: dict[str, Any]
    entries: list[tuple[str, int, str]] = field(default_factory=list)
    vectors: np.ndarray | None = None
    new_version: bool = True


async def write_imported(store: SqlStore, items: list[ImportedArticle], model: str,
                         author_id: int | None = None) -> list[tuple[Article, str, int]]:
    """(article, 'created' | 'updated' | 'unchanged', change id) for each item, in order."""
    if not items:
        return []
    now = utcnow()
    ids = [item.id for item in items]
    out: list[tuple[Article, str, int]] = []
    async with store.engine.begin() as conn:
        current = {r.id: r for r in (await conn.execute(
            sa.select(t.articles).where(t.articles.c.id.in_(ids)).with_for_update())).all()}
        await conn.execute(t.kb_entries.delete().where(t.kb_entries.c.article_id.in_(ids)))
        rows: list[dict[str, Any]] = []
        versions: list[dict[str, Any]] = []
        for item in items:
            row = current.get(item.id)
            if not item.new_version and row is not None:
                article, outcome = _article(row), "unchanged"
            else:
                version = (row.version + 1) if row is not None else 1
                if row is None:
                    stmt = t.articles.insert().values(id=item.id, version=version, created_at=now, updated_at=now,
                                                      updated_by=author_id, **item.fields)
                else:
                    stmt = t.articles.update().where(t.articles.c.id == item.id).values(
                        version=version, updated_at=now, updated_by=author_id, **item.fields)
                article = _article((await conn.execute(stmt.returning(t.articles))).one())
                versions.append(dict(article_id=item.id, version=version, author_id=author_id, created_at=now,
                                     **item.fields))
                outcome = "created" if row is None else "updated"
            if article.status == "published" and item.vectors is not None:
                rows += [dict(article_id=item.id, kind=k, position=p, text=txt, model=model,
                              vector=np.asarray(v, dtype=np.float32).tobytes())
                         for (k, p, txt), v in zip(item.entries, item.vectors)]
            change = (await conn.execute(t.kb_changes.insert().values(
                article_id=item.id, created_at=now).returning(t.kb_changes.c.id))).scalar_one()
            out.append((article, outcome, int(change)))
        if versions:
            await conn.execute(t.article_versions.insert(), versions)
        if rows:
            await conn.execute(t.kb_entries.insert(), rows)
    return out
