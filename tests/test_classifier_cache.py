"""The article classifier is cached beside the index: a process started on unchanged data decides
at once with the classifier it would have trained, and a cache of other data is never used."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.knowledge import KnowledgeRuntime
from app.realtime.memory import MemoryBroker
from app.storage.migrations import upgrade_database
from app.storage.sql import SqlStore
from knowledge_base.embedder import HashingEmbedder
from knowledge_base.models import ArticleDraft

ARTICLES = [
    ArticleDraft("returns", "Returning an item", "Send it back within 30 days.",
                 questions=("how do I return this", "can I send it back", "return policy")),
    ArticleDraft("delivery", "Delivery times", "Orders arrive in 2-3 days.",
                 questions=("when will my order arrive", "how long is shipping", "delivery time")),
    ArticleDraft("password", "Resetting your password", "Use the link on the sign-in page.",
                 questions=("I forgot my password", "reset my password", "can't log in")),
]


async def runtime(tmp_path: Path) -> tuple[SqlStore, KnowledgeRuntime]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}"
    await upgrade_database(url)
    store = SqlStore.from_url(url)
    knowledge = KnowledgeRuntime(store, MemoryBroker(), HashingEmbedder(), tmp_path / "index", chunk_words=120,
                                 classifier_c=10.0)
    await knowledge.load()
    return store, knowledge


async def test_a_restart_on_unchanged_data_uses_the_cached_classifier(tmp_path: Path) -> None:
    store, first = await runtime(tmp_path)
    try:
        for draft in ARTICLES:
            await first.save_draft(draft)
        assert first.kb.current_classifier is None  # a one-shot runtime trains nothing in the background
        await first.settle()
        trained = first.kb.current_classifier
        assert trained is not None and (tmp_path / "index" / "classifier.npz").exists()
    finally:
        await store.close()

    store, second = await runtime(tmp_path)
    try:
        cached = second.kb.current_classifier
        assert cached is not None and second.kb.decides_as_later()  # ready without a fit
        assert cached.article_ids == trained.article_ids
        assert np.allclose(cached.weights, trained.weights) and np.allclose(cached.bias, trained.bias)
        # a change since the cache was written: the stale classifier is not used
        await second.save_draft(ArticleDraft("returns", "Returning an item", "Send it back within 60 days.",
                                             questions=ARTICLES[0].questions))
    finally:
        await store.close()

    store, third = await runtime(tmp_path)
    try:
        assert third.kb.current_classifier is None and not third.kb.decides_as_later()
    finally:
        await store.close()


async def test_an_unreadable_cache_is_ignored(tmp_path: Path) -> None:
    store, first = await runtime(tmp_path)
    try:
        for draft in ARTICLES:
            await first.save_draft(draft)
        await first.settle()
    finally:
        await store.close()
    (tmp_path / "index" / "classifier.npz").write_bytes(b"not a numpy file")
    store, second = await runtime(tmp_path)
    try:
        assert second.kb.current_classifier is None
    finally:
        await store.close()
