"""Split an article into the texts that get embedded: title, example questions, body sentences.

Body entries (`kind` "chunk") are sentences prefixed with their section's heading (see
knowledge_base/sections.py); an entry's `position` is the index of its section, which is what the
customer is shown. `sections_of` returns those sections' Markdown, in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge_base.sections import matching_texts, plain_text, split_sections

__all__ = ["Entry", "article_entries", "plain_text", "sections_of"]


@dataclass(frozen=True)
class Entry:
    """One embedded text of an article. `kind` is title, question or chunk (a body sentence)."""

    article_id: str
    kind: str
    text: str
    position: int


def sections_of(body: str) -> list[str]:
    """The article's sections as Markdown (heading line included): what an answer shows."""
    return [s.markdown for s in split_sections(body)]


def article_entries(
    article_id: str, title: str, body: str, questions: list[str] | tuple[str, ...], max_words: int = 120
) -> list[Entry]:
    """`max_words` is kept for callers of the chunked era; sentences are bounded in sections.py."""
    entries = [Entry(article_id, "title", title.strip(), 0)]
    entries += [Entry(article_id, "question", q.strip(), i) for i, q in enumerate(questions) if q.strip()]
    entries += [Entry(article_id, "chunk", text, section) for section, text in matching_texts(title, body)]
    return entries
