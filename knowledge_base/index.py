"""A FAISS index over article entries that changes live, one article at a time."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from knowledge_base.chunking import Entry


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float


def top_k_mean(scores: np.ndarray, k: int) -> float:
    """The mean of the `k` highest scores (all of them when there are fewer): an article's score."""
    if len(scores) == 0:
        return 0.0
    k = max(1, min(k, len(scores)))
    return float(np.mean(np.partition(scores, len(scores) - k)[-k:]))


# How much an article's second-best title or sentence counts beside its best one: a page that
# answers a question usually says so in more than one sentence, while a stray sentence that happens
# to match a question alone is weaker evidence. Chosen on doc2dial val from 0, 0.15, 0.25, 0.4
# with the lexical weight (`parley eval doc2dial`; train agrees: top-1 69.4 % at 0, 70.8-71.3 % from
# 0.25 to 1.0): see the README's doc2dial section.
SECOND_WEIGHT = 0.4


def prose_score(scores: np.ndarray, w: float = SECOND_WEIGHT) -> float:
    """An article's title-and-sentence score: its best match, with its second best weighted in
    (`(s1 + w * s2) / (1 + w)`, at most 1 like a cosine); an article with one such entry scores it."""
    if len(scores) == 0:
        return 0.0
    if len(scores) == 1 or not w:
        return float(scores.max())
    s2, s1 = np.partition(scores, len(scores) - 2)[-2:]
    return float((s1 + w * s2) / (1.0 + w))


def article_score(scores: np.ndarray, questions: np.ndarray, others: np.ndarray | None, aggregate_k: int,
                  second_weight: float = SECOND_WEIGHT) -> float:
    """One article's score from its entries' cosines: example questions are paraphrases of one
    another, so the mean of the best `aggregate_k` of them is steadier than the single best
    (CLINC150 val); the title and body sentences each say something different, so the best of
    them with the second best weighted in counts (`prose_score`). The better of the two wins.
    `others` None: the article has no example questions (every row is a title or a sentence)."""
    if others is None:
        return prose_score(scores, second_weight)
    return max(top_k_mean(scores[questions], aggregate_k),
               prose_score(scores[others], second_weight) if len(others) else 0.0)


def split_rows(entries: list[Entry]) -> tuple[np.ndarray, np.ndarray | None]:
    """(example-question rows, the other rows or None when there are no questions) of one article."""
    questions = _rows(entries, "question")
    return questions, (np.setdiff1d(np.arange(len(entries)), questions, assume_unique=True) if len(questions) else None)


@dataclass(frozen=True)
class ArticleHit:
    """The best evidence for one article: its score and the entries that matched."""

    article_id: str
    score: float
    best: Entry
    best_chunk: Entry | None


class VectorIndex:
    """Inner-product search over unit vectors (cosine), with add/replace/remove per article.

    Thread-safe: searches run in worker threads while a publish replaces an article.
    """

    def __init__(self, dim: int, threads: int = 1) -> None:
        # one query at a time: more OpenMP threads only oversubscribe the cores the model runs on
        # (measured on 2 shared cores: search p50 22 ms with 2 threads, 7 ms with 1)
        faiss.omp_set_num_threads(threads)
        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._entries: dict[int, Entry] = {}
        self._by_article: dict[str, list[int]] = {}
        self._vectors: dict[str, np.ndarray] = {}  # per article, rows in the order of _by_article
        self._chunk_rows: dict[str, np.ndarray] = {}  # per article, which of those rows are body chunks
        self._question_rows: dict[str, np.ndarray] = {}  # per article, which rows are example questions
        self._other_rows: dict[str, np.ndarray | None] = {}  # the rest (title, sentences); None: no questions
        self._next_id = 1
        self.second_weight = SECOND_WEIGHT  # see prose_score
        self.generation = 0  # bumped by every change, so a model trained on the entries knows it is stale
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._entries)

    def article_ids(self) -> set[str]:
        with self._lock:
            return set(self._by_article)

    def replace_article(self, article_id: str, entries: list[Entry], vectors: np.ndarray) -> None:
        if len(entries) != len(vectors):
            raise ValueError("one vector per entry")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            self._remove_locked(article_id)
            ids = np.arange(self._next_id, self._next_id + len(entries), dtype=np.int64)
            self._next_id += len(entries)
            if len(entries):
                self._index.add_with_ids(vectors, ids)
            for entry_id, entry in zip(ids.tolist(), entries):
                self._entries[entry_id] = entry
            self._by_article[article_id] = ids.tolist()
            self._vectors[article_id] = vectors.copy()
            self._set_rows_locked(article_id, entries)
            self.generation += 1

    def _set_rows_locked(self, article_id: str, entries: list[Entry]) -> None:
        """Which of an article's rows are body chunks, example questions and the rest, once per change."""
        self._chunk_rows[article_id] = _rows(entries, "chunk")
        self._question_rows[article_id], self._other_rows[article_id] = split_rows(entries)

    def remove_article(self, article_id: str) -> None:
        with self._lock:
            self._remove_locked(article_id)
            self.generation += 1

    def snapshot(self) -> tuple[int, list[str], list[np.ndarray]]:
        """(generation, article ids, each article's entry vectors): what an article classifier learns from."""
        with self._lock:
            ids = sorted(self._vectors)
            return self.generation, ids, [self._vectors[a] for a in ids]

    def _remove_locked(self, article_id: str) -> None:
        ids = self._by_article.pop(article_id, None)
        self._vectors.pop(article_id, None)
        self._chunk_rows.pop(article_id, None)
        self._question_rows.pop(article_id, None)
        self._other_rows.pop(article_id, None)
        if ids:
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))
            for entry_id in ids:
                self._entries.pop(entry_id, None)

    def search(self, vector: np.ndarray, k: int = 50) -> list[Hit]:
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dim)
        with self._lock:
            if not self._entries:
                return []
            scores, ids = self._index.search(query, min(k, len(self._entries)))
            return [
                Hit(self._entries[int(i)], float(s))
                for s, i in zip(scores[0], ids[0])
                if int(i) in self._entries
            ]

    def question_count(self) -> int:
        with self._lock:
            return sum(len(rows) for rows in self._question_rows.values())

    def search_articles(self, vector: np.ndarray, k: int = 5, depth: int = 64,
                        aggregate_k: int = 1) -> list[ArticleHit]:
        """Articles ranked by their score (see `_score_locked`).

        The entry search only nominates candidate articles (at least `20 * aggregate_k` entries deep);
        every candidate is then re-scored exactly over all of its entries, so its top-k is complete.
        """
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(self.dim)
        ranked: list[ArticleHit] = []
        with self._lock:
            if not self._entries:
                return []
            _, ids = self._index.search(query.reshape(1, self.dim), min(max(depth, 20 * aggregate_k), len(self._entries)))
            entries = self._entries  # only the nominated articles are needed here, in rank order, not Hit objects
            for aid in dict.fromkeys(entries[i].article_id for i in ids[0].tolist() if i in entries):
                hit = self._score_locked(aid, query, aggregate_k)
                if hit is not None:
                    ranked.append(hit)
        ranked.sort(key=lambda h: h.score, reverse=True)
        return ranked[:k]

    def score_article(self, article_id: str, vector: np.ndarray, aggregate_k: int = 1) -> ArticleHit | None:
        """One article scored exactly as `search_articles` scores it, wherever it ranks."""
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(self.dim)
        with self._lock:
            return self._score_locked(article_id, query, aggregate_k)

    def score_unindexed(self, article_id: str, entries: list[Entry], vectors: np.ndarray, vector: np.ndarray,
                        aggregate_k: int = 1) -> ArticleHit | None:
        """An article that is not in the index (a draft) scored exactly as if it were."""
        if not entries:
            return None
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(self.dim)
        scores = vectors @ query
        chunks = _rows(entries, "chunk")
        chunk = entries[int(chunks[np.argmax(scores[chunks])])] if len(chunks) else None
        return ArticleHit(article_id, article_score(scores, *split_rows(entries), aggregate_k, self.second_weight),
                          entries[int(np.argmax(scores))], chunk)

    def _score_locked(self, article_id: str, query: np.ndarray, aggregate_k: int) -> ArticleHit | None:
        ids = self._by_article.get(article_id)
        if not ids:
            return None
        scores = self._vectors[article_id] @ query
        best = self._entries[ids[int(np.argmax(scores))]]
        rows = self._chunk_rows[article_id]
        chunk = self._entries[ids[int(rows[np.argmax(scores[rows])])]] if len(rows) else None
        score = article_score(scores, self._question_rows[article_id], self._other_rows[article_id], aggregate_k,
                              self.second_weight)
        return ArticleHit(article_id, score, best, chunk)

    # --- persistence: the index file is a cache of the vectors kept in the database
    def save(self, directory: Path, stamp: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            tmp_index = directory / "index.faiss.tmp"
            faiss.write_index(self._index, str(tmp_index))
            meta = {
                "stamp": stamp,
                "dim": self.dim,
                "next_id": self._next_id,
                "entries": {str(k): asdict(v) for k, v in self._entries.items()},
            }
            tmp_meta = directory / "index.json.tmp"
            tmp_meta.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp_index, directory / "index.faiss")
        os.replace(tmp_meta, directory / "index.json")

    @classmethod
    def load(cls, directory: Path, stamp: str) -> "VectorIndex | None":
        """The saved index if it matches `stamp` (the database's state), else None."""
        try:
            meta = json.loads((directory / "index.json").read_text(encoding="utf-8"))
            if meta.get("stamp") != stamp:
                return None
            index = cls(int(meta["dim"]))
            index._index = faiss.read_index(str(directory / "index.faiss"))
        except (OSError, ValueError, KeyError, RuntimeError):
            return None
        index._next_id = int(meta["next_id"])
        for key, value in meta["entries"].items():
            entry = Entry(**value)
            index._entries[int(key)] = entry
            index._by_article.setdefault(entry.article_id, []).append(int(key))
        for article_id, ids in index._by_article.items():
            index._vectors[article_id] = np.vstack([index._index.reconstruct(i) for i in ids]).astype(np.float32)
            index._set_rows_locked(article_id, [index._entries[i] for i in ids])
        return index


def _rows(entries: list[Entry], kind: str) -> np.ndarray:
    return np.asarray([i for i, e in enumerate(entries) if e.kind == kind], dtype=np.int64)
