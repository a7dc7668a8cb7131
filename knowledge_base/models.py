"""Plain data shapes for articles as they move between formats, the store and the index."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from knowledge_base.calibration import Calibration

ARTICLE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
ARTICLE_STATUSES = ("draft", "published", "archived")

# An article's limits, the same for the editors' API (app/routes/editor.py) and every import format.
TITLE_MAX = 300
BODY_MAX = 200_000
CATEGORY_MAX = 120
QUESTIONS_MAX = 200  # example questions per article
QUESTION_MAX = 4_000  # characters per example question (a customer message, as content gaps offer them)
TAGS_MAX = 50
TAG_MAX = 60

# Control characters no text field has a use for (NUL is refused by PostgreSQL outright): every C0
# character and DEL; text that may span lines keeps tab, newline and carriage return.
LINE_CONTROLS_RE = re.compile(r"[\x00-\x1f\x7f]")
TEXT_CONTROLS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_problem(value: str, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as text (a control character in it), or None."""
    found = (TEXT_CONTROLS_RE if multiline else LINE_CONTROLS_RE).search(value)
    return None if found is None else f"control character U+{ord(found.group()):04X} is not allowed"


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
        # the API's limits (app/routes/editor.py), so an import cannot store what the API would refuse
        for name, value, limit in (("title", self.title, TITLE_MAX), ("category", self.category or "", CATEGORY_MAX),
                                   ("body", self.body, BODY_MAX)):
            if len(value) > limit:
                raise ValueError(f"article {self.id!r}: {name} is longer than {limit} characters")
            problem = control_problem(value, multiline=name == "body")
            if problem:
                raise ValueError(f"article {self.id!r}: {name}: {problem}")
        for name, items, count, limit in (("questions", self.questions, QUESTIONS_MAX, QUESTION_MAX),
                                          ("tags", self.tags, TAGS_MAX, TAG_MAX)):
            if len(items) > count:
                raise ValueError(f"article {self.id!r} has more than {count} {name}")
            for item in items:
                if len(item) > limit:
                    raise ValueError(f"article {self.id!r}: one of its {name} is longer than {limit} characters")
                problem = control_problem(item)
                if problem:
                    raise ValueError(f"article {self.id!r}: {name}: {problem}")


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
    snippet: str = ""  # the Markdown a customer reads first: a whole section, or its first blocks
    url: str = ""
    more: str = ""  # the rest of that section, behind "Show more"
    section: int = 0  # which section of the article (knowledge_base/sections.py)


@dataclass(frozen=True)
class SearchResult:
    candidates: list[Candidate]
    timings_ms: dict[str, float] = field(default_factory=dict)
    calibration: Calibration | None = None  # the knowledge base's own thresholds (calibration.py)
    vector: Any = None  # the query's embedding (for the bot's small-talk detector)
