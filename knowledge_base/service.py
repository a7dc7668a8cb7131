"""The searchable knowledge base of one server process: embedder + live index + lexical index.

An article is ranked by its best dense entry (title, body sentence, or the mean of its best example
questions; knowledge_base/index.py) plus `lexical_weight` × its BM25 score relative to the best
article's (knowledge_base/lexical.py). The candidate shows the section its best sentence belongs to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge_base.calibration import ANSWER_QUANTILE, OFFER_QUANTILE, Calibration, calibrate, offtopic_messages
from knowledge_base.chunking import Entry, article_entries, plain_text, sections_of
from knowledge_base.classifier import ArticleClassifier, train_classifier
from knowledge_base.embedder import Embedder, encode_entries, query_vectors
from knowledge_base.index import ArticleHit, VectorIndex
from knowledge_base.lexical import LexicalIndex
from knowledge_base.models import Candidate, SearchResult
from knowledge_base.sections import shown_part

SNIPPET_CHARS = 900
LEXICAL_WEIGHT = 0.2  # chosen on doc2dial val from 0, 0.1, 0.2, 0.3 with index.SECOND_WEIGHT (parley eval doc2dial);
# app/config.py repeats it as PARLEY_LEXICAL_WEIGHT's default
LANGUAGE_CODES = {"english": "en", "german": "de", "french": "fr", "spanish": "es", "italian": "it",
                  "portuguese": "pt", "dutch": "nl"}
LEXICAL_CANDIDATES = 10  # the best lexical articles are scored even if the dense search missed them


@dataclass(frozen=True)
class IndexedArticle:
    id: str
    title: str
    chunks: tuple[str, ...]  # the article's sections, as Markdown
    url: str


@dataclass(frozen=True)
class Draft:
    """An unpublished article ranked beside the published ones as if it were published (the
    editor's "Try it"): its entries, vectors and lexical texts as a publish would make them."""

    article: IndexedArticle
    entries: list[Entry]
    vectors: np.ndarray
    lexical_texts: tuple[str, ...]


def lexical_texts(title: str, body: str, questions: Sequence[str]) -> tuple[str, ...]:
    """What BM25 reads of an article."""
    return (title, *questions, plain_text(body))


def embed_article(embedder: Embedder, article_id: str, title: str, body: str,
                  questions: list[str] | tuple[str, ...], chunk_words: int) -> tuple[list[Entry], np.ndarray]:
    """The entries of an article and their vectors, ready to store and index."""
    entries = article_entries(article_id, title, body, questions, chunk_words)
    return entries, encode_entries(embedder, [e.text for e in entries], [e.kind == "question" for e in entries])


def embed_articles(embedder: Embedder, articles: Sequence[tuple[str, str, str, Sequence[str]]],
                   chunk_words: int) -> list[tuple[list[Entry], np.ndarray]]:
    """`embed_article` for many (id, title, body, questions) at once, with the same vectors: every
    entry of every article in one model call (sorted by length across articles, so batches carry
    little padding), and a text that recurs (a site's boilerplate sentence, a shared title) is
    encoded once. A bulk import's cost is this call."""
    entries = [article_entries(aid, title, body, list(questions), chunk_words)
               for aid, title, body, questions in articles]
    asymmetric = getattr(embedder, "encode_queries", None) is not None  # a question is then not a passage

    def key(e: Entry) -> tuple[bool, str]:
        return (asymmetric and e.kind == "question", e.text)

    unique: dict[tuple[bool, str], int] = {}
    for article in entries:
        for e in article:
            unique.setdefault(key(e), len(unique))
    vectors = (encode_entries(embedder, [t for _, t in unique], [q for q, _ in unique]) if unique
               else np.zeros((0, embedder.dim), dtype=np.float32))
    return [(article, vectors[[unique[key(e)] for e in article]].reshape(len(article), embedder.dim))
            for article in entries]


class KnowledgeBase:
    """Search over published articles. Updated one article at a time, never rebuilt on publish."""

    def __init__(self, embedder: Embedder, index: VectorIndex | None = None, chunk_words: int = 120,
                 url_prefix: str = "/kb/", aggregate_k: int = 1, classifier_c: float = 0.0,
                 lexical_weight: float = LEXICAL_WEIGHT, language: str = "english") -> None:
        self.embedder = embedder
        self.aggregate_k = aggregate_k  # example questions score the mean of their best `aggregate_k`
        self.index = index or VectorIndex(embedder.dim)
        self.chunk_words = chunk_words
        self.url_prefix = url_prefix
        self.articles: dict[str, IndexedArticle] = {}
        self.classifier_c = classifier_c  # 0: pick the article by score alone
        self.classifier: ArticleClassifier | None = None
        self.lexical_weight = lexical_weight
        self.lexical = LexicalIndex(language) if lexical_weight else None
        self.lang = LANGUAGE_CODES.get(language, language[:2])  # what the articles are written in
        self._calibration: Calibration | None = None
        self._calibration_lock = threading.Lock()
        self._offtopic: np.ndarray | None = None
        self.quantiles = (ANSWER_QUANTILE, OFFER_QUANTILE)  # (answer, offer) of the off-topic scores
        self.override: tuple[float, float] | None = None  # an editor's (answer, offer), else calibrated
        self.votes: tuple[tuple[float, bool], ...] = ()  # the desk's on answers given at once: (score, helpful)
        self._voted: tuple[Calibration, tuple[tuple[float, bool], ...], Calibration] | None = None

    # ----------------------------------------------------------------- the article classifier
    def classifier_wanted(self) -> bool:
        """The classifier learns the borders between articles from their example questions; on
        prose articles without them it only has one title per article, and picking by it lost
        7 points of top-1 on doc2dial train+val (58 % against 65 %), so it is trained only where
        articles carry example questions (at least two per article on average)."""
        return bool(self.classifier_c) and self.index.question_count() >= 2 * max(1, len(self.articles))

    def classifier_inputs(self) -> tuple[int, list[str], list[np.ndarray]] | None:
        """What `train_classifier` learns from, as it is now (None when the classifier is off): plain
        arrays, so a server can fit them in another process."""
        return self.index.snapshot() if self.classifier_wanted() else None

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

    def decides_as_later(self) -> bool:
        """True when a search now decides as it will once background work settles: the classifier
        (where one is wanted) and the calibration are those of the index as it is."""
        if self.classifier_wanted() and self.current_classifier is None:
            return False
        cal = self._calibration
        return cal is not None and cal.generation == self.index.generation

    # ----------------------------------------------------------------- articles
    def put(self, article_id: str, title: str, body: str, entries: list[Entry], vectors: np.ndarray) -> None:
        self.index.replace_article(article_id, entries, vectors)
        self.adopt(article_id, title, body, [e.text for e in entries if e.kind == "question"])

    def adopt(self, article_id: str, title: str, body: str, questions: list[str] | tuple[str, ...]) -> None:
        """Know an article whose vectors are already in the index (loaded from the on-disk cache)."""
        self.articles[article_id] = self._indexed(article_id, title, body)
        if self.lexical is not None:
            self.lexical.put(article_id, lexical_texts(title, body, questions))

    def _indexed(self, article_id: str, title: str, body: str) -> IndexedArticle:
        return IndexedArticle(article_id, title, tuple(sections_of(body)), self.url_prefix + article_id)

    def draft(self, article_id: str, title: str, body: str, questions: list[str]) -> Draft:
        """A draft embedded as a publish would embed it, for `search(..., draft=)`; nothing stored."""
        entries, vectors = embed_article(self.embedder, article_id, title, body, questions, self.chunk_words)
        return Draft(self._indexed(article_id, title, body), entries, vectors, lexical_texts(title, body, questions))

    def remove(self, article_id: str) -> None:
        self.index.remove_article(article_id)
        self.articles.pop(article_id, None)
        if self.lexical is not None:
            self.lexical.remove(article_id)

    def candidate(self, article_id: str, score: float = 1.0, chunk: int = 0,
                  draft: Draft | None = None) -> Candidate | None:
        art = draft.article if draft is not None and draft.article.id == article_id else self.articles.get(article_id)
        if art is None:
            return None
        section = chunk if chunk < len(art.chunks) else 0
        text = art.chunks[section] if art.chunks else art.title
        shown = shown_part(text, SNIPPET_CHARS)
        return Candidate(art.id, art.title, score, shown.text, art.url, shown.more, section)

    # ----------------------------------------------------------------- search
    def rank(self, vector: np.ndarray, text: str, k: int = 5, lexical_match: bool = True,
             draft: Draft | None = None) -> list[tuple[ArticleHit, float]]:
        """(hit, score) for the best `k` articles, best first: dense score plus the lexical bonus;
        the classifier, where one is trained, moves its pick to the front. Without `lexical_match`
        (a question in another language than the articles': their words cannot match) the score is
        the dense one alone, unscaled, as if the lexical part agreed with it. `draft`: rank as if it
        were published (replacing the published copy of the same article, if any)."""
        hits = self.index.search_articles(vector, k=max(k, 20) + (draft is not None), aggregate_k=self.aggregate_k)
        if draft is not None:
            hits = [h for h in hits if h.article_id != draft.article.id]
            drafted = self.index.score_unindexed(draft.article.id, draft.entries, draft.vectors, vector,
                                                 self.aggregate_k)
            hits += [drafted] if drafted is not None else []
        lexical = ((self.lexical.scores(text, None if draft is None else (draft.article.id, draft.lexical_texts)))
                   if lexical_match and self.lexical is not None and self.lexical_weight else {})

        def score(hit: ArticleHit) -> float:
            return self._fused(hit.score, lexical.get(hit.article_id, 0.0)) if lexical_match else hit.score

        if lexical:
            seen = {h.article_id for h in hits}
            for aid in sorted(lexical, key=lexical.__getitem__, reverse=True)[:LEXICAL_CANDIDATES]:
                if aid not in seen:
                    hit = self.index.score_article(aid, vector, self.aggregate_k)
                    if hit is not None:
                        hits.append(hit)
        ranked = sorted(((h, score(h)) for h in hits), key=lambda pair: pair[1], reverse=True)
        classifier = self.current_classifier
        if ranked and classifier is not None:
            # the classifier picks the article; its own score stays the confidence
            picked, _ = classifier.pick(vector)
            if picked != ranked[0][0].article_id:
                pair = next((p for p in ranked if p[0].article_id == picked), None)
                if pair is None:
                    hit = self.index.score_article(picked, vector, self.aggregate_k)
                    pair = (hit, score(hit)) if hit else None
                if pair is not None:
                    ranked = [pair, *(p for p in ranked if p[0].article_id != picked)]
        return ranked[:k]

    def _fused(self, dense: float, lexical: float) -> float:
        """Dense cosine plus the weighted lexical bonus, scaled back to at most 1 (the confidence
        customers' clients and the metrics see stays a 0..1 figure)."""
        return (dense + self.lexical_weight * lexical) / (1.0 + self.lexical_weight)

    def search(self, text: str, k: int = 5, lang: str | None = None, draft: Draft | None = None) -> SearchResult:
        """`lang`: the language the question is written in, where known (bot/language.py); one other
        than the articles' is matched by meaning alone. `draft`: as if it were published."""
        t0 = time.perf_counter()
        vector = query_vectors(self.embedder, [text])[0]
        t1 = time.perf_counter()
        ranked = self.rank(vector, text, k, lexical_match=lang is None or lang == self.lang, draft=draft)
        t2 = time.perf_counter()
        candidates = []
        for hit, score in ranked:
            chunk = hit.best.position if hit.best.kind == "chunk" else (hit.best_chunk.position if hit.best_chunk else 0)
            cand = self.candidate(hit.article_id, score, chunk, draft)
            if cand is not None:
                candidates.append(cand)
        return SearchResult(candidates, {"embed": (t1 - t0) * 1000, "search": (t2 - t1) * 1000},
                            calibration=self.calibration, vector=vector)

    # ----------------------------------------------------------------- calibration
    @property
    def calibration(self) -> Calibration:
        """The thresholds that decide: the index's own (knowledge_base/calibration.py), or an
        editor's override of them (`override`), the derived ones still readable; the desk's `votes`
        move the derived ones. Between a change and the recalibration a serving process runs in the
        background, the previous ones stand."""
        cal = self._calibration
        if cal is None:
            cal = self.calibrate()
        votes, voted = self.votes, self._voted
        if votes:
            if voted is None or voted[0] is not cal or voted[1] is not votes:
                voted = self._voted = (cal, votes, cal.with_votes(votes))
            cal = voted[2]
        override = self.override
        return cal.with_override(*override) if override is not None else cal

    def calibrate(self) -> Calibration:
        """Score the bundled off-topic messages against the index as it is now (about 250 searches
        without the model call: the messages are embedded once per process)."""
        with self._calibration_lock:
            generation = self.index.generation
            cal = self._calibration
            if cal is not None and cal.generation == generation:
                return cal
            cal = calibrate(self.offtopic_scores(), generation, *self.quantiles)
            self._calibration = cal
            return cal

    def offtopic_scores(self) -> np.ndarray:
        """The top score of each bundled off-topic message against the index as it is now."""
        messages = offtopic_messages()
        if self._offtopic is None:
            self._offtopic = query_vectors(self.embedder, list(messages))
        if not self.articles:
            return np.zeros(0)
        ranked = (self.rank(vector, text, 1) for text, vector in zip(messages, self._offtopic))
        return np.asarray([r[0][1] if r else 0.0 for r in ranked])
