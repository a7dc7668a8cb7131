"""Split an article into the texts that get embedded: title, example questions, body chunks."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)


@dataclass(frozen=True)
class Entry:
    """One embedded text of an article. `kind` is title, question or chunk."""

    article_id: str
    kind: str
    text: str
    position: int


def plain_text(markdown: str) -> str:
    """Markdown to readable plain text: drop markup, keep words and line breaks."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.DOTALL)
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = _HEADING.sub("", text)
    text = re.sub(r"[*_`>]+", "", text)
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def chunk_body(body: str, max_words: int = 120) -> list[str]:
    """Pack paragraphs (line breaks kept, so lists stay lists) into chunks of about `max_words` words."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", plain_text(body)) if p.strip()]
    chunks: list[str] = []
    current: list[str] = []
    count = 0
    for paragraph in paragraphs:
        words = paragraph.split()
        if len(words) > max_words:  # a very long paragraph is cut into windows of words
            if current:
                chunks.append("\n\n".join(current))
                current, count = [], 0
            chunks += [" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words)]
            continue
        if count + len(words) > max_words and current:
            chunks.append("\n\n".join(current))
            current, count = [], 0
        current.append(paragraph)
        count += len(words)
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def article_entries(
    article_id: str, title: str, body: str, questions: list[str] | tuple[str, ...], max_words: int = 120
) -> list[Entry]:
    entries = [Entry(article_id, "title", title.strip(), 0)]
    entries += [Entry(article_id, "question", q.strip(), i) for i, q in enumerate(questions) if q.strip()]
    for i, chunk in enumerate(chunk_body(body, max_words)):
        entries.append(Entry(article_id, "chunk", f"{title.strip()}. {chunk}", i))
    return entries
