"""The live knowledge base plus one unpublished draft, for the editor's "Try it" (nothing stored)."""

from __future__ import annotations

from typing import Any

from knowledge_base.models import Candidate, SearchResult


class DraftOverlay:
    """The live knowledge base with one draft ranked as if it were published (read-only).

    Every search goes through the knowledge base's own ranking (`KnowledgeBase.search(draft=)`):
    the same dense and lexical scores, the same calibration, the same cut of the shown section, so
    "Try it" decides and shows what the bot will once the draft is published. Only the article
    classifier (trained where articles carry example questions) still knows the published copy.
    """

    def __init__(self, kb: Any, article_id: str, title: str, body: str, questions: list[str]) -> None:
        self.kb = kb  # knowledge_base.service.KnowledgeBase
        self.article_id = article_id
        self.embedder = kb.embedder  # the bot's small-talk detector embeds with it
        self.lang = kb.lang
        self.draft = kb.draft(article_id, title, body, questions)

    def search(self, text: str, k: int = 5, lang: str | None = None) -> SearchResult:
        return self.kb.search(text, k, lang, draft=self.draft)  # type: ignore[no-any-return]

    def candidate(self, article_id: str, score: float = 1.0, chunk: int = 0) -> Candidate | None:
        return self.kb.candidate(article_id, score, chunk, self.draft)  # type: ignore[no-any-return]
