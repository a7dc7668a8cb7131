"""Keeps this process's knowledge base in step with the database and with other processes.

Vectors live in the database (`kb_entries`), so a publish is embedded once, by the process that
publishes; every other process applies the change by reading those rows. The FAISS index on disk
is a start-up cache, stamped with the last change id it contains. The article classifier's training
and cache are in app/kb_classifier.py, a bulk import's groups in app/kb_bulk_import.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.kb_bulk_import import import_groups
from app.kb_classifier import ClassifierTrainer, load_classifier, save_classifier
from app.kb_thresholds import load_override, load_votes, set_override
from app.realtime.base import Broker
from app.storage.records import Article
from app.storage.sql import SqlStore
from app.tasks import cancel
from knowledge_base.chunking import Entry
from knowledge_base.embedder import Embedder
from knowledge_base.index import VectorIndex
from knowledge_base.models import ArticleDraft
from knowledge_base.service import LEXICAL_WEIGHT, KnowledgeBase, embed_article

log = logging.getLogger("parley.kb")
KB_CHANNEL = "kb"
CHUNKER_VERSION = 3  # bump when chunking changes, so stored vectors are rebuilt at start-up


class KnowledgeRuntime:
    def __init__(self, store: SqlStore, broker: Broker, embedder: Embedder, index_dir: Path, chunk_words: int,
                 aggregate_k: int = 1, classifier_c: float = 0.0, lexical_weight: float = LEXICAL_WEIGHT) -> None:
        self.store = store
        self.broker = broker
        self.embedder = embedder
        self.index_dir = index_dir
        self.chunk_words = chunk_words
        self.kb = KnowledgeBase(embedder, chunk_words=chunk_words, aggregate_k=aggregate_k, classifier_c=classifier_c,
                                lexical_weight=lexical_weight)
        self._calibrating: asyncio.Task[None] | None = None
        self._was_ready = False
        self._calibrate_again = False
        self._newest_vote = 0  # the newest vote on an answer read into the calibration (app/kb_thresholds.py)
        # Stored vectors are only reused by the same model and the same chunking.
        self.model_key = f"{embedder.name}#chunks-v{CHUNKER_VERSION}-{chunk_words}"
        self.applied_change = 0
        self.loaded = False
        self._task: asyncio.Task[None] | None = None
        self._apply_lock = asyncio.Lock()
        self._trainer = ClassifierTrainer(self.kb, self.save_classifier, index_dir)

    # ----------------------------------------------------------------- start-up
    async def load(self) -> None:
        """Load published articles: from the on-disk cache if it matches the database, else from stored
        vectors (embedding only articles that have none for this model)."""
        stamp = await self.store.kb_stamp()
        published = {a.id: a for a in await self.store.list_articles(status="published")}
        cached = await asyncio.to_thread(VectorIndex.load, self.index_dir, self._stamp(stamp))
        if cached is not None and cached.article_ids() == set(published):
            self.kb.index = cached
            for article in published.values():
                self.kb.adopt(article.id, article.title, article.body, article.questions)
            log.info("index loaded from %s (%d entries)", self.index_dir, len(cached))
        else:
            stored = await self.store.load_entries(self.model_key, list(published))
            for article in published.values():
                rows = stored.get(article.id)
                if rows:
                    entries = [Entry(article.id, kind, text, pos) for kind, pos, text, _ in rows]
                    self.kb.put(article.id, article.title, article.body, entries, np.stack([r[3] for r in rows]))
                else:
                    await self._embed_and_store(article)
            stamp = await self.store.kb_stamp()
            await asyncio.to_thread(self.kb.index.save, self.index_dir, self._stamp(stamp))
        self.applied_change = stamp
        await self.load_override()
        self._newest_vote = await load_votes(self.store, self.kb, 0)
        await asyncio.to_thread(self.load_classifier)
        await asyncio.to_thread(self.kb.calibrate)
        self.loaded = True

    def _stamp(self, change_id: int) -> str:
        return f"{self.model_key}:{change_id}"

    # The trained classifier is cached beside the index, stamped like it: a restart (or a new process
    # on a copy of the data) with nothing changed is ready at once instead of after a fit (10 s here).
    def _classifier_stamp(self) -> str:
        return f"{self._stamp(self.applied_change)}:c={self.kb.classifier_c}"

    def load_classifier(self) -> bool:
        """Use the cached classifier if it was fitted on exactly this index (True when it was)."""
        return load_classifier(self.kb, self.index_dir, self._classifier_stamp(), self.embedder.dim)

    def save_classifier(self) -> None:
        """Cache the classifier in use beside the index, stamped with it."""
        save_classifier(self.kb, self.index_dir, self._classifier_stamp())

    async def settle(self) -> None:
        """For one-shot commands (`parley demo`, `parley kb import`): fit the classifier here and save
        it with the index, so the next server start finds both ready."""
        await self.apply_changes()  # our own writes included: the index is then that of the log's last change
        if self.kb.classifier_wanted() and self.kb.current_classifier is None:
            await asyncio.to_thread(self.kb.train_classifier)
        await self.save_index()
        await asyncio.to_thread(self.save_classifier)

    async def _embed_and_store(self, article: Article) -> int:
        entries, vectors = await asyncio.to_thread(
            embed_article, self.embedder, article.id, article.title, article.body, article.questions, self.chunk_words)
        change = await self.store.replace_entries(article.id, self.model_key,
                                                  [(e.kind, e.position, e.text) for e in entries], vectors)
        self.kb.put(article.id, article.title, article.body, entries, vectors)
        self.train_classifier()
        self.recalibrate()
        return change

    # ----------------------------------------------------------------- changes
    async def save_draft(self, draft: ArticleDraft, author_id: int | None = None) -> tuple[Article, str]:
        """Store an article version and make the index match its status. Returns (article, outcome)."""
        article, outcome = await self.store.upsert_article(
            draft.id, draft.title, draft.body, draft.category, list(draft.questions), list(draft.tags), draft.status,
            author_id)
        if outcome != "unchanged" or (article.status == "published" and article.id not in self.kb.articles):
            await self.sync_article(article)
        return article, outcome

    async def import_drafts(self, drafts: Sequence[ArticleDraft], author_id: int | None = None,
                            progress: Callable[[int, int], None] | None = None) -> list[tuple[Article, str]]:
        """`save_draft` for many articles as one bulk operation, with the same outcome: each changed
        article gets its new version (by `author_id`) and its change-log row, and the index the same
        vectors. Articles go in groups of IMPORT_GROUP: one model call and one transaction a group
        (not two transactions and a model call an article); the classifier and the calibration are
        redone once at the end and other processes told once. `progress(done, total)` after each group.
        Returns (article, 'created' | 'updated' | 'unchanged') in the order of `drafts`."""
        stamp_before = await self.store.kb_stamp()
        results, work, last_change = await import_groups(self.store, self.kb, self.embedder, self.chunk_words,
                                                         self.model_key, drafts, author_id, progress)
        if work:
            if stamp_before == self.applied_change and last_change - stamp_before == len(work):
                self.applied_change = last_change  # nobody else changed anything meanwhile: we are current
            self.train_classifier()
            self.recalibrate()
            await self.broker.publish(KB_CHANNEL, {"type": "kb_changed", "article_id": work[-1][0].id,
                                                   "change": last_change, "articles": len(work)})
        return [results[d.id] for d in drafts]

    async def sync_article(self, article: Article) -> None:
        """Index a published article (embedding once) or drop an unpublished one, then tell everyone."""
        if article.status == "published":
            change = await self._embed_and_store(article)
        else:
            change = await self.store.delete_entries(article.id)
            self.kb.remove(article.id)
            self.train_classifier()
            self.recalibrate()
        await self.broker.publish(KB_CHANNEL, {"type": "kb_changed", "article_id": article.id, "change": change})

    async def apply_changes(self) -> None:
        """Bring this process up to date with changes made by others (from the change log)."""
        async with self._apply_lock:
            changes = await self.store.kb_changes_since(self.applied_change)
            if not changes:
                return
            ids = sorted({aid for _, aid in changes})
            await self._refresh(ids)
            self.applied_change = changes[-1][0]

    async def _refresh(self, article_ids: Iterable[str]) -> None:
        ids = list(article_ids)
        stored = await self.store.load_entries(self.model_key, ids)
        # after a bulk import, one query for the lot rather than one an article
        known = {a.id: a for a in await self.store.list_articles()} if len(ids) > 20 else None
        for article_id in ids:
            article = known.get(article_id) if known is not None else await self.store.get_article(article_id)
            rows = stored.get(article_id)
            if article is None or article.status != "published" or not rows:
                self.kb.remove(article_id)
                continue
            entries = [Entry(article_id, kind, text, pos) for kind, pos, text, _ in rows]
            self.kb.put(article_id, article.title, article.body, entries, np.stack([r[3] for r in rows]))
        self.train_classifier()
        self.recalibrate()

    @property
    def ready(self) -> bool:
        """At start-up: loaded, and deciding as it will once background work (classifier,
        calibration) settles. Once ready it stays ready: a publish retrains and recalibrates in the
        background while the previous classifier and thresholds decide, and taking every process
        out of a load balancer's rotation on each publish would be an outage."""
        if not self._was_ready and self.loaded and self.kb.decides_as_later():
            self._was_ready = True
        return self._was_ready

    # ----------------------------------------------------------------- calibration
    async def load_override(self) -> None:
        await load_override(self.store, self.kb)

    async def set_override(self, override: tuple[float, float] | None, who: Any) -> None:
        await set_override(self.store, self.broker, self.kb, override, who, KB_CHANNEL)

    def recalibrate(self) -> None:
        """Re-read the thresholds off the index as it is now, in a worker thread (about 250 searches
        without model calls); until then the previous calibration decides."""
        if self._task is None:  # only a started (serving) runtime recalibrates in the background
            return
        if self._calibrating is not None and not self._calibrating.done():
            self._calibrate_again = True
            return
        self._calibrating = asyncio.get_running_loop().create_task(self._calibrate(), name="kb-calibrate")

    async def _calibrate(self) -> None:
        self._calibrate_again = True
        while self._calibrate_again:
            self._calibrate_again = False
            try:
                cal = await asyncio.to_thread(self.kb.calibrate)
                log.info("knowledge base calibrated", extra={"answer": round(cal.answer, 4),
                                                             "offer": round(cal.offer, 4)})
            except Exception:  # keep the previous thresholds
                log.exception("calibrating the knowledge base failed")
                return

    # ----------------------------------------------------------------- the article classifier
    def train_classifier(self) -> None:
        """Retrain the article classifier in the background (knowledge_base/classifier.py). Until it
        is done the bot picks by neighbour score; changes meanwhile queue one more training."""
        if not self.kb.classifier_c or self._task is None:  # only a started (serving) runtime trains
            return
        self._trainer.request()

    async def follow(self, poll_seconds: float = 5.0) -> None:
        """Background task: apply changes announced on the broker, and poll the log as a safety net."""
        sub = self.broker.subscription()
        await sub.add(KB_CHANNEL)
        try:
            while True:
                try:
                    await asyncio.wait_for(sub.get(), timeout=poll_seconds)
                except asyncio.TimeoutError:
                    pass
                try:
                    await self.apply_changes()
                    await self.load_override()
                    self._newest_vote = await load_votes(self.store, self.kb, self._newest_vote)
                except Exception:  # keep following; the next poll retries
                    log.exception("applying knowledge-base changes failed")
        finally:
            await sub.close()

    async def save_index(self) -> None:
        await asyncio.to_thread(self.kb.index.save, self.index_dir, self._stamp(self.applied_change))

    def start(self) -> None:
        self._task = asyncio.create_task(self.follow(), name="kb-follow")
        self.train_classifier()

    async def stop(self) -> None:
        await cancel(self._task, self._trainer.task, self._calibrating)
        try:
            await self.save_index()
        except Exception:
            log.exception("could not save the index")
