"""The editors' article API's wire models (app/routes/editor.py), one per direction (never the stored row).

The article limits come from knowledge_base.models, so an import is held to the same ones as the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.validation import Line, Text
from knowledge_base.models import (
    ARTICLE_ID_RE,
    BODY_MAX,
    CATEGORY_MAX,
    QUESTION_MAX,
    QUESTIONS_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
)

Status = Literal["draft", "published", "archived"]
# The limits every article obeys, from knowledge_base.models (imports are held to the same ones).
Question = Annotated[Line, StringConstraints(max_length=QUESTION_MAX)]
Tag = Annotated[Line, StringConstraints(max_length=TAG_MAX)]


class ArticleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, pattern=ARTICLE_ID_RE.pattern, description="Defaults to a slug of the title.")
    title: Line = Field(min_length=1, max_length=TITLE_MAX)
    body: Text = Field(default="", max_length=BODY_MAX)
    category: Line | None = Field(default=None, max_length=CATEGORY_MAX)
    questions: list[Question] = Field(default_factory=list, max_length=QUESTIONS_MAX)
    tags: list[Tag] = Field(default_factory=list, max_length=TAGS_MAX)
    status: Status = "draft"


class ArticleUpdate(BaseModel):
    """PUT sends every field; PATCH only the ones that change. `base_version` refuses a stale save (409)."""

    model_config = ConfigDict(extra="forbid")
    title: Line | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    body: Text | None = Field(default=None, max_length=BODY_MAX)
    category: Line | None = Field(default=None, max_length=CATEGORY_MAX)
    questions: list[Question] | None = Field(default=None, max_length=QUESTIONS_MAX)
    tags: list[Tag] | None = Field(default=None, max_length=TAGS_MAX)
    status: Status | None = None
    base_version: int | None = None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status


class VersionOut(BaseModel):
    version: int
    title: str
    category: str | None
    body: str
    questions: list[str]
    tags: list[str]
    status: str
    author_id: int | None
    author: str | None
    created_at: datetime
    changed: list[str]


class FieldDiff(BaseModel):
    field: str
    before: Any
    after: Any
    lines: list[str] = Field(default_factory=list, description="unified diff lines for text fields")


class DiffOut(BaseModel):
    article_id: str
    from_version: int
    to_version: int
    changes: list[FieldDiff]


class CategoryOut(BaseModel):
    name: str
    articles: int


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    title: Line = Field(min_length=1, max_length=TITLE_MAX)
    body: Text = Field(default="", max_length=BODY_MAX)
    questions: list[Question] = Field(default_factory=list, max_length=QUESTIONS_MAX)


class TryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text = Field(min_length=1, max_length=4000)
    draft: DraftIn | None = Field(default=None, description="Answer as if this draft were published too "
                                  "(replacing the article with the same id).")
    lang: str = Field(default="en", max_length=8)


class TryCandidate(BaseModel):
    article_id: str
    title: str
    score: float
    draft: bool = False


class TryOut(BaseModel):
    action: str
    reason: str | None
    text: str
    confidence: float
    article_id: str | None
    article_title: str | None
    candidates: list[TryCandidate]
    suggestions: list[TryCandidate]
    against: Literal["published", "draft"]
    ms: float
    html: str | None = Field(default=None, description="The answer as the widget shows it (knowledge_base/render.py).")
    more_html: str | None = Field(default=None, description="The rest of the section, behind \"Show more\".")


class RenderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Text = Field(max_length=BODY_MAX)


class ImportItem(BaseModel):
    id: str
    title: str
    outcome: str


class ImportReport(BaseModel):
    created: list[ImportItem]
    updated: list[ImportItem]
    unchanged: list[ImportItem]
    skipped: list[str]
    rejected: bool = Field(description="true when nothing could be read from the upload")
