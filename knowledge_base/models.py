"""Plain data shapes for articles as they move between formats, the store and the index."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ARTICLE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
ARTICLE_STATUSES = ("draft", "published", "archived")


def slugify(value: str) -> str:
    """Turn a file name or title into an article id (lower-case, dashes)."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", value.strip().lower()).strip("-.")
    return slug[:128] or "article"


@dataclass(frozen=True)
class ArticleDraft:
    """An article as read from an import format, before it is stored.

    `questions` are example customer questions that this article answers; they are
    embedded alongside the body so that short questions match well.
    """

    id: str
    title: str
    body: str
    category: str | None = None
    questions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    status: str = "published"
    source: str | None = None  # where it came from: "path/to/file.md", "nlu.yml:faq/ask_price"

    def __post_init__(self) -> None:
        if not ARTICLE_ID_RE.match(self.id):
            raise ValueError(f"invalid article id {self.id!r}: use lower-case letters, digits, '.', '_' or '-'")
        if not self.title.strip():
            raise ValueError(f"article {self.id!r} has an empty title")
        if self.status not in ARTICLE_STATUSES:
            raise ValueError(f"article {self.id!r} has unknown status {self.status!r}")


@dataclass(frozen=True)
class ImportProblem:
    """A file or record that could not be imported, with a location a person can find."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    drafts: list[ArticleDraft] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    """An article the knowledge base matched, with the part of it that matched best."""

    article_id: str
    title: str
    score: float
    snippet: str = ""
    url: str = ""


@dataclass(frozen=True)
class SearchResult:
    candidates: list[Candidate]
    timings_ms: dict[str, float] = field(default_factory=dict)
