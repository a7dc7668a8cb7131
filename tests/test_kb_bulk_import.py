"""The bulk import (`KnowledgeRuntime.import_drafts`, `parley kb import`) does what publishing one
article at a time does: same versions, same change log, same vectors, same search results, and
it reports its progress."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.kb_bulk_import import IMPORT_GROUP
from app.knowledge import KnowledgeRuntime
from app.realtime.memory import MemoryBroker
from app.storage.migrations import upgrade_database
from app.storage.sql import SqlStore
from bench.bench_import import DATASETS, help_centre, write_folder
from knowledge_base.embedder import HashingEmbedder
from knowledge_base.models import ArticleDraft
from tests.harness import run_cli, server_env

QUERIES = ["how do I renew my driver license", "apply for social security disability benefits",
           "student loan repayment plan", "VA home loan eligibility", "change the address on my registration",
           "replace a lost social security card", "what documents do I need for a learner permit"]


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return super().encode(texts)


def drafts(n: int) -> list[ArticleDraft]:
    if not (DATASETS / "doc2dial" / "articles.jsonl").exists():
        pytest.skip("the doc2dial dataset is not in ../shared/datasets")
    return [ArticleDraft(a["id"], a["title"], a["body"], category="help" if i % 3 else None,
                         questions=("how do I do this",) if i % 7 == 0 else (), status="published")
            for i, a in enumerate(help_centre(n))]


async def runtime(tmp_path: Path, name: str, embedder: HashingEmbedder) -> tuple[SqlStore, KnowledgeRuntime]:
    url = f"sqlite+aiosqlite:///{tmp_path / name}.db"
    await upgrade_database(url)
    store = SqlStore.from_url(url)
    knowledge = KnowledgeRuntime(store, MemoryBroker(), embedder, tmp_path / name, chunk_words=120)
    await knowledge.load()
    return store, knowledge


async def test_bulk_import_matches_publishing_one_by_one(tmp_path: Path) -> None:
    articles = drafts(120)
    one_store, one = await runtime(tmp_path, "one", HashingEmbedder())
    bulk_embedder = CountingEmbedder()
    bulk_store, bulk = await runtime(tmp_path, "bulk", bulk_embedder)
    try:
        for d in articles:
            await one.save_draft(d, None)
        bulk_embedder.calls.clear()  # (loading embedded the calibration's off-topic messages)
        seen: list[tuple[int, int]] = []
        outcomes = await bulk.import_drafts(articles, None, progress=lambda done, total: seen.append((done, total)))
        assert [o for _, o in outcomes] == ["created"] * len(articles)
        # one model call per group, not one per article; progress after each group
        assert len(bulk_embedder.calls) == -(-len(articles) // IMPORT_GROUP)
        assert seen[0] == (0, 120) and seen[-1] == (120, 120) and len(seen) == 1 + len(bulk_embedder.calls)
        # the same articles, versions and change log
        assert {a.id: (a.title, a.body, a.category, a.questions, a.version)
                for a in await bulk_store.list_articles()} == {
            a.id: (a.title, a.body, a.category, a.questions, a.version) for a in await one_store.list_articles()}
        assert len(await bulk_store.article_versions(articles[5].id)) == 1
        assert await bulk_store.kb_stamp() == len(articles)
        # the same stored vectors, and the same answers
        stored_one = await one_store.load_entries(one.model_key)
        stored_bulk = await bulk_store.load_entries(bulk.model_key)
        assert stored_one.keys() == stored_bulk.keys()
        for aid, rows in stored_one.items():
            assert [r[:3] for r in rows] == [r[:3] for r in stored_bulk[aid]]
            assert np.allclose(np.stack([r[3] for r in rows]), np.stack([r[3] for r in stored_bulk[aid]]))
        for query in QUERIES + [a.title for a in articles[::17]]:
            a, b = one.kb.search(query, k=3), bulk.kb.search(query, k=3)
            assert [c.article_id for c in a.candidates] == [c.article_id for c in b.candidates], query
            assert [round(c.score, 5) for c in a.candidates] == [round(c.score, 5) for c in b.candidates]
        assert one.kb.calibrate().record()["answer_threshold"] == bulk.kb.calibrate().record()["answer_threshold"]
    finally:
        await one_store.close()
        await bulk_store.close()


async def test_reimport_keeps_unchanged_articles_and_versions_the_changed_ones(tmp_path: Path) -> None:
    articles = drafts(30)
    embedder = CountingEmbedder()
    store, knowledge = await runtime(tmp_path, "re", embedder)
    try:
        embedder.calls.clear()
        await knowledge.import_drafts(articles, None)
        calls = len(embedder.calls)
        changed = [ArticleDraft(a.id, a.title + " (2026)", a.body, a.category, a.questions, a.tags,
                                "archived" if i == 1 else a.status) for i, a in enumerate(articles[:3])]
        outcomes = await knowledge.import_drafts(changed + articles[3:], None)
        assert [o for _, o in outcomes] == ["updated"] * 3 + ["unchanged"] * 27
        assert len(embedder.calls) == calls + 1  # only the changed, published ones were embedded
        assert [v.version for v in await store.article_versions(articles[0].id)] == [1, 2]
        assert articles[1].id not in knowledge.kb.articles  # archived: out of the index
        assert knowledge.kb.articles[articles[0].id].title.endswith("(2026)")
        assert knowledge.kb.search(articles[0].title + " (2026)", k=1).candidates[0].article_id == articles[0].id
        stored = await store.load_entries(knowledge.model_key)
        assert articles[1].id not in stored and articles[0].id in stored
    finally:
        await store.close()


def test_parley_kb_import_reports_progress_line_by_line(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "articles", [{"id": a.id, "title": a.title, "body": a.body}
                                                   for a in drafts(IMPORT_GROUP + 10)])
    env = server_env(tmp_path / "data", PARLEY_EMBEDDING_MODEL="hashing")
    result = run_cli(["kb", "import", str(folder)], env)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("imported ")]
    assert lines == [f"imported 0/{IMPORT_GROUP + 10} articles", f"imported {IMPORT_GROUP}/{IMPORT_GROUP + 10} articles",
                     f"imported {IMPORT_GROUP + 10}/{IMPORT_GROUP + 10} articles"]
    assert result.stdout.strip().endswith(f"created {IMPORT_GROUP + 10}, updated 0, unchanged 0, skipped 0")
    again = run_cli(["kb", "import", str(folder)], env)
    assert again.stdout.strip().endswith(f"created 0, updated 0, unchanged {IMPORT_GROUP + 10}, skipped 0")
