"""Store queries for knowledge-base articles, their versions and their index entries (vectors).

The articles aggregate: a mixin that `SqlStore` (app/storage/sql.py) inherits. Every article change
is a new row in `article_versions`; every change of an article's index entries is logged in
`kb_changes`, which every process's index follows (app/knowledge.py: `kb_stamp`, `kb_changes_since`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage import tables as t
from app.storage.mappers import _article, as_utc, utcnow
from app.storage.records import Article, ArticleVersion


class ArticleQueries:
    engine: AsyncEngine

    # ------------------------------------------------------------------ articles
    async def upsert_article(self, article_id: str, title: str, body: str, category: str | None,
                             questions: list[str], tags: list[str], status: str,
                             author_id: int | None = None) -> tuple[Article, str]:
        """Create or update; returns the article and 'created', 'updated' or 'unchanged'.

        Every change is a new version in `article_versions`.
        """
        now = utcnow()
        fields = dict(title=title, body=body, category=category, questions=questions, tags=tags, status=status)
        async with self.engine.begin() as conn:
            row = (await conn.execute(
                sa.select(t.articles).where(t.articles.c.id == article_id).with_for_update())).first()
            if row is not None and all(getattr(row, k) == v for k, v in fields.items()):
                return _article(row), "unchanged"
            version = (row.version + 1) if row is not None else 1
            if row is None:
                stmt = t.articles.insert().values(id=article_id, version=version, created_at=now, updated_at=now,
                                                  updated_by=author_id, **fields)
            else:
                stmt = t.articles.update().where(t.articles.c.id == article_id).values(
                    version=version, updated_at=now, updated_by=author_id, **fields)
            new = (await conn.execute(stmt.returning(t.articles))).one()
            await conn.execute(t.article_versions.insert().values(
                article_id=article_id, version=version, author_id=author_id, created_at=now, **fields))
        return _article(new), ("created" if row is None else "updated")

    async def get_article(self, article_id: str) -> Article | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(t.articles).where(t.articles.c.id == article_id))).first()
        return _article(row) if row else None

    async def list_articles(self, status: str | None = None) -> list[Article]:
        query = sa.select(t.articles).order_by(t.articles.c.category, t.articles.c.title)
        if status:
            query = query.where(t.articles.c.status == status)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_article(r) for r in rows]

    async def article_versions(self, article_id: str) -> list[ArticleVersion]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.article_versions).where(
                t.article_versions.c.article_id == article_id).order_by(t.article_versions.c.version))).all()
        return [ArticleVersion(r.article_id, r.version, r.title, r.category, r.body, list(r.questions), list(r.tags),
                               r.status, r.author_id, as_utc(r.created_at)) for r in rows]  # type: ignore[arg-type]

    # ------------------------------------------------------------------ index entries (vectors)
    async def replace_entries(self, article_id: str, model: str, entries: Iterable[tuple[str, int, str]],
                              vectors: np.ndarray) -> int:
        """Store an article's embedded entries (kind, position, text) and log the change."""
        rows = [dict(article_id=article_id, kind=k, position=p, text=txt, model=model,
                     vector=np.asarray(v, dtype=np.float32).tobytes()) for (k, p, txt), v in zip(entries, vectors)]
        async with self.engine.begin() as conn:
            await conn.execute(t.kb_entries.delete().where(t.kb_entries.c.article_id == article_id))
            if rows:
                await conn.execute(t.kb_entries.insert(), rows)
            change = (await conn.execute(t.kb_changes.insert().values(
                article_id=article_id, created_at=utcnow()).returning(t.kb_changes.c.id))).scalar_one()
        return int(change)

    async def delete_entries(self, article_id: str) -> int:
        async with self.engine.begin() as conn:
            await conn.execute(t.kb_entries.delete().where(t.kb_entries.c.article_id == article_id))
            change = (await conn.execute(t.kb_changes.insert().values(
                article_id=article_id, created_at=utcnow()).returning(t.kb_changes.c.id))).scalar_one()
        return int(change)

    async def load_entries(self, model: str, article_ids: list[str] | None = None
                           ) -> dict[str, list[tuple[str, int, str, np.ndarray]]]:
        query = sa.select(t.kb_entries).where(t.kb_entries.c.model == model).order_by(t.kb_entries.c.id)
        if article_ids is not None:
            query = query.where(t.kb_entries.c.article_id.in_(article_ids))
        out: dict[str, list[tuple[str, int, str, np.ndarray]]] = {}
        async with self.engine.connect() as conn:
            for r in (await conn.execute(query)).all():
                out.setdefault(r.article_id, []).append(
                    (r.kind, r.position, r.text, np.frombuffer(r.vector, dtype=np.float32)))
        return out

    async def kb_stamp(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.kb_changes.c.id), 0)))).scalar_one())

    async def kb_changes_since(self, change_id: int) -> list[tuple[int, str]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.kb_changes.c.id, t.kb_changes.c.article_id).where(
                t.kb_changes.c.id > change_id).order_by(t.kb_changes.c.id))).all()
        return [(int(r.id), r.article_id) for r in rows]
