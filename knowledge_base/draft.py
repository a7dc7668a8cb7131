"""The live knowledge base plus one unpublished draft, for the editor's "Try it" (nothing stored)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from knowledge_base.chunking import article_entries, sections_of
from knowledge_base.embedder import encode_entries, query_vectors
from knowledge_base.index import top_k_mean
from knowledge_base.models import Candidate, SearchResult
from knowledge_base.sections import shown_part
from knowledge_base.service import SNIPPET_CHARS


class DraftOverlay:
    """The live knowledge base plus one unpublished draft, for "try it" (read-only, nothing stored).

    The query is embedded once; the draft's entries are scored against it directly and merged with
    the live index's hits (the live copy of the same article is left out).
    """

    def __init__(self, kb: Any, article_id: str, title: str, body: str, questions: list[str], chunk_words: int) -> None:
        self.kb = kb  # knowledge_base.service.KnowledgeBase
        self.article_id = article_id
        self.title = title
        self.body = body
        entries = article_entries(article_id, title, body, questions, chunk_words)
        self.entries = entries
        self.vectors = encode_entries(kb.embedder, [e.text for e in entries], [e.kind == "question" for e in entries])

    def search(self, text: str, k: int = 5) -> SearchResult:
        t0 = time.perf_counter()
        vector = query_vectors(self.kb.embedder, [text])[0]
        t1 = time.perf_counter()
        candidates = []
        for hit in self.kb.index.search_articles(vector, k=k + 1, aggregate_k=self.kb.aggregate_k):
            if hit.article_id == self.article_id:
                continue
            chunk = hit.best.position if hit.best.kind == "chunk" else (hit.best_chunk.position if hit.best_chunk else 0)
            cand = self.kb.candidate(hit.article_id, hit.score, chunk)
            if cand is not None:
                candidates.append(cand)
        scores = self.vectors @ vector
        best = int(np.argmax(scores))
        chunks = [i for i, e in enumerate(self.entries) if e.kind == "chunk"]
        snippet_entry = self.entries[best] if self.entries[best].kind == "chunk" else (
            self.entries[max(chunks, key=lambda i: scores[i])] if chunks else self.entries[0])
        section = snippet_entry.position if snippet_entry.kind == "chunk" else 0
        candidates.append(self._shown(section, top_k_mean(scores, self.kb.aggregate_k)))
        candidates.sort(key=lambda c: c.score, reverse=True)
        return SearchResult(candidates[:k], {"embed": (t1 - t0) * 1000, "search": (time.perf_counter() - t1) * 1000})

    def candidate(self, article_id: str, score: float = 1.0, chunk: int = 0) -> Candidate | None:
        if article_id == self.article_id:
            return self._shown(chunk, score)
        return self.kb.candidate(article_id, score, chunk)  # type: ignore[no-any-return]

    def _shown(self, section: int, score: float) -> Candidate:
        """The draft's matching section cut as the live knowledge base cuts a published one, so "Try
        it" shows what a customer will read once the draft is published."""
        sections = sections_of(self.body)
        section = section if section < len(sections) else 0
        shown = shown_part(sections[section] if sections else self.title, SNIPPET_CHARS)
        return Candidate(self.article_id, self.title, score, shown.text, self.kb.url_prefix + self.article_id,
                         shown.more, section)
