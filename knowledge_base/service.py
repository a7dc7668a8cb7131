"""The searchable knowledge base of one server process: embedder + live index + article titles."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from knowledge_base.chunking import Entry, article_entries, chunk_body
from knowledge_base.classifier import ArticleClassifier, train_classifier
from knowledge_base.embedder import Embedder
from knowledge_base.index import VectorIndex
from knowledge_base.models import Candidate, SearchResult

SNIPPET_CHARS = 700


@dataclass(frozen=True)
class IndexedArticle:
    id: str
    title: str
    chunks: tuple[str, ...]
    url: str


def embed_article(embedder: Embedder, article_id: str, title: str, body: str,
                  questions: list[str] | tuple[str, ...], chunk_words: int) -> tuple[list[Entry], np.ndarray]:
    """The entries of an article and their vectors, ready to store and index."""
    entries = article_entries(article_id, title, body, questions, chunk_words)
    return entries, embedder.encode([e.text for e in entries])


def _snippet(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text[:SNIPPET_CHARS]
    return cut[: cut.rfind(" ")] + " …"


class KnowledgeBase:
    """Search over published articles. Updated one article at a time, never rebuilt on publish."""

    def __init__(self, embedder: Embedder, index: VectorIndex | None = None, chunk_words: int = 120,
                 url_prefix: str = "/kb/", aggregate_k: int = 1, classifier_c: float = 0.0) -> None:
        self.embedder = embedder
        self.aggregate_k = aggregate_k  # an article scores the mean of its best `aggregate_k` entries
        self.index = index or VectorIndex(embedder.dim)
        self.chunk_words = chunk_words
        self.url_prefix = url_prefix
        self.articles: dict[str, IndexedArticle] = {}
        self.classifier_c = classifier_c  # 0: pick the article by neighbour score alone
        self.classifier: ArticleClassifier | None = None

    def classifier_inputs(self) -> tuple[int, list[str], list[np.ndarray]] | None:
        """What `train_classifier` learns from, as it is now (None when the classifier is off): plain
        arrays, so a server can fit them in another process."""
        return self.index.snapshot() if self.classifier_c else None

    def use_classifier(self, fitted: ArticleClassifier | None) -> bool:
        """Swap in a fitted classifier; False (and kept out) when the index changed since its inputs."""
        if fitted is None or fitted.generation != self.index.generation:
            return False
        self.classifier = fitted
        return True

    def train_classifier(self) -> bool:
        """Fit the article classifier on the index as it is now, here (slow: call it off the event loop).
        True when the new classifier is in use; False when off, or when the index changed meanwhile."""
        inputs = self.classifier_inputs()
        if inputs is None:
            return False
        generation, article_ids, vectors = inputs
        return self.use_classifier(train_classifier(generation, article_ids, vectors, c=self.classifier_c))

    @property
    def current_classifier(self) -> ArticleClassifier | None:
        """The classifier if it was trained on the index as it is now, else None."""
        classifier = self.classifier
        return classifier if classifier is not None and classifier.generation == self.index.generation else None

    def put(self, article_id: str, title: str, body: str, entries: list[Entry], vectors: np.ndarray) -> None:
        chunks = tuple(chunk_body(body, self.chunk_words))
        self.index.replace_article(article_id, entries, vectors)
        self.articles[article_id] = IndexedArticle(article_id, title, chunks, self.url_prefix + article_id)

    def remove(self, article_id: str) -> None:
        self.index.remove_article(article_id)
        self.articles.pop(article_id, None)

    def candidate(self, article_id: str, score: float = 1.0, chunk: int = 0) -> Candidate | None:
        art = self.articles.get(article_id)
        if art is None:
            return None
        text = art.chunks[chunk] if chunk < len(art.chunks) else (art.chunks[0] if art.chunks else art.title)
        return Candidate(art.id, art.title, score, _snippet(text), art.url)

    def search(self, text: str, k: int = 5) -> SearchResult:
        t0 = time.perf_counter()
        vector = self.embedder.encode([text])[0]
        t1 = time.perf_counter()
        hits = self.index.search_articles(vector, k=k, aggregate_k=self.aggregate_k)
        classifier = self.current_classifier
        if hits and classifier is not None:
            # the classifier picks the article; its neighbour score stays the confidence
            picked, _ = classifier.pick(vector)
            if picked != hits[0].article_id:
                hit = next((h for h in hits if h.article_id == picked), None) or self.index.score_article(
                    picked, vector, self.aggregate_k)
                if hit is not None:
                    hits = [hit, *(h for h in hits if h.article_id != picked)][:k]
        t2 = time.perf_counter()
        candidates = []
        for hit in hits:
            chunk = hit.best.position if hit.best.kind == "chunk" else (hit.best_chunk.position if hit.best_chunk else 0)
            cand = self.candidate(hit.article_id, hit.score, chunk)
            if cand is not None:
                candidates.append(cand)
        return SearchResult(candidates, {"embed": (t1 - t0) * 1000, "search": (t2 - t1) * 1000})
