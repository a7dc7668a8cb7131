"""A folder of Markdown files with YAML front matter, one article per file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from knowledge_base.models import ArticleDraft, ImportProblem, ImportResult, slugify


MAX_FRONT_MATTER_CHARS = 64 * 1024  # far more than any article's fields; YAML past it is refused unread


class NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses YAML aliases (`*name`): front matter never needs them, and a few hundred
    bytes of nested aliases expand to gigabytes (the "billion laughs" bomb)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(None, None, "aliases (*name) are not allowed in front matter", event.start_mark)
        return super().compose_node(parent, index)


def load_front_matter(text: str) -> Any:
    """Parse front matter YAML safely: no aliases, bounded size."""
    if len(text) > MAX_FRONT_MATTER_CHARS:
        raise ValueError(f"front matter is longer than {MAX_FRONT_MATTER_CHARS} characters")
    return yaml.load(text, Loader=NoAliasLoader)  # noqa: S506 (a SafeLoader subclass)


def _as_str_list(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise ValueError(f"'{field}' must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


def parse_markdown_article(text: str, source: str, default_id: str) -> ArticleDraft:
    """Parse one file. Raises ImportProblemError with a line number on malformed input."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ImportProblemError(ImportProblem(source, 1, "missing YAML front matter (the file must start with '---')"))
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ImportProblemError(ImportProblem(source, 1, "front matter is not closed with '---'")) from None
    try:
        meta = load_front_matter("\n".join(lines[1:end])) or {}
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 2 if exc.problem_mark else 1
        raise ImportProblemError(ImportProblem(source, line, f"invalid YAML: {exc.problem}")) from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise ImportProblemError(ImportProblem(source, 2, f"invalid YAML: {exc}")) from None
    if not isinstance(meta, dict):
        raise ImportProblemError(ImportProblem(source, 2, "front matter must be a mapping of fields"))
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ImportProblemError(ImportProblem(source, 2, "front matter needs a non-empty 'title'"))
    body = "\n".join(lines[end + 1 :]).strip()
    try:
        return ArticleDraft(
            id=str(meta.get("id") or default_id),
            title=title.strip(),
            body=body,
            category=(str(meta["category"]).strip() or None) if meta.get("category") else None,
            questions=_as_str_list(meta.get("questions"), "questions"),
            tags=_as_str_list(meta.get("tags"), "tags"),
            status=str(meta.get("status", "published")),
            source=source,
        )
    except ValueError as exc:
        raise ImportProblemError(ImportProblem(source, 2, str(exc))) from None


class ImportProblemError(Exception):
    def __init__(self, problem: ImportProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def load_markdown_folder(path: Path) -> ImportResult:
    """Every `*.md` file under `path` (or `path` itself if it is a file)."""
    result = ImportResult()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*.md") if p.is_file())
    seen: dict[str, str] = {}
    for file in files:
        source = str(file)
        if file.name.lower() == "readme.md":
            continue
        try:
            text = file.read_text(encoding="utf-8")
            draft = parse_markdown_article(text, source, slugify(file.stem))
        except UnicodeDecodeError:
            result.problems.append(ImportProblem(source, None, "not UTF-8 text"))
            continue
        except ImportProblemError as exc:
            result.problems.append(exc.problem)
            continue
        if draft.id in seen:
            result.problems.append(ImportProblem(source, 1, f"duplicate article id {draft.id!r} (also in {seen[draft.id]})"))
            continue
        seen[draft.id] = source
        result.drafts.append(draft)
    return result


def render_markdown_article(draft: ArticleDraft) -> str:
    meta: dict[str, Any] = {"id": draft.id, "title": draft.title}
    if draft.category:
        meta["category"] = draft.category
    if draft.questions:
        meta["questions"] = list(draft.questions)
    if draft.tags:
        meta["tags"] = list(draft.tags)
    if draft.status != "published":
        meta["status"] = draft.status
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).strip()
    return f"---\n{front}\n---\n{draft.body.strip()}\n"


def export_markdown_folder(drafts: list[ArticleDraft], path: Path) -> int:
    path.mkdir(parents=True, exist_ok=True)
    for draft in drafts:
        (path / f"{draft.id}.md").write_text(render_markdown_article(draft), encoding="utf-8")
    return len(drafts)
