"""Zendesk Help Center article JSON (the `GET /api/v2/help_center/articles.json` shape).

Accepts `{"articles": [...], "sections": [...]}`, `{"article": {...}}` or a bare list, one file
or a folder of `*.json`. Article ids are `zendesk-<id>`, so re-importing updates in place.
Bodies are HTML and are converted to Markdown.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from knowledge_base.models import ArticleDraft, ImportProblem, ImportResult


class _ToMarkdown(HTMLParser):
    BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "pre", "blockquote", "table", "tr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int | str]] = []
        self.href: list[str | None] = []
        self.in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in self.BLOCK:
            self.out.append("\n\n")
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.out.append("#" * int(tag[1]) + " ")
        elif tag in ("ul", "ol"):
            self.lists.append([tag, 0])
        elif tag == "li":
            kind = self.lists[-1] if self.lists else ["ul", 0]
            kind[1] = int(kind[1]) + 1
            indent = "   " * max(len(self.lists) - 1, 0)
            self.out.append(f"\n{indent}" + (f"{kind[1]}. " if kind[0] == "ol" else "- "))
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "code" and not self.in_pre:
            self.out.append("`")
        elif tag == "pre":
            self.in_pre = True
            self.out.append("```\n")
        elif tag == "br":
            self.out.append("  \n")
        elif tag == "a":
            self.href.append(a.get("href"))
            self.out.append("[")
        elif tag == "img":
            self.out.append(f"![{a.get('alt') or ''}]({a.get('src') or ''})")
        elif tag in ("td", "th"):
            self.out.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "code" and not self.in_pre:
            self.out.append("`")
        elif tag == "pre":
            self.in_pre = False
            self.out.append("\n```")
        elif tag == "a":
            href = self.href.pop() if self.href else None
            self.out.append(f"]({href})" if href else "]")
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag in self.BLOCK:
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.out.append(data if self.in_pre else re.sub(r"\s+", " ", data))


def html_to_markdown(html: str) -> str:
    parser = _ToMarkdown()
    parser.feed(html or "")
    parser.close()
    text = "".join(parser.out)
    text = "\n".join(line.rstrip() if not line.endswith("  ") else line for line in text.split("\n"))
    text = re.sub(r"[ \t]+\n", lambda m: m.group(0) if m.group(0).startswith("  ") else "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _line_of(text: str, article_id: Any) -> int | None:
    match = re.search(r'"id"\s*:\s*"?' + re.escape(str(article_id)) + r'\b', text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def parse_zendesk(text: str, source: str) -> ImportResult:
    """A malformed file gives one problem with its line and no drafts; an article without a title or
    body is skipped with its line."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return ImportResult(problems=[ImportProblem(source, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})")])
    sections: dict[Any, str] = {}
    if isinstance(data, dict) and "article" in data:
        articles = [data["article"]]
    elif isinstance(data, dict) and "articles" in data:
        articles = data["articles"]
        sections = {s.get("id"): s.get("name") for s in data.get("sections") or [] if isinstance(s, dict)}
    elif isinstance(data, list):
        articles = data
    else:
        return ImportResult(problems=[ImportProblem(source, 1, "expected {\"articles\": [...]}, {\"article\": {...}} or a list of articles")])
    if not isinstance(articles, list):
        return ImportResult(problems=[ImportProblem(source, 1, "'articles' must be a list")])
    result = ImportResult()
    for n, item in enumerate(articles, start=1):
        if not isinstance(item, dict) or "id" not in item:
            result.problems.append(ImportProblem(source, None, f"skipped article #{n}: not an object with an 'id'"))
            continue
        line = _line_of(text, item["id"])
        title = str(item.get("title") or "").strip()
        body = html_to_markdown(str(item.get("body") or ""))
        if not title or not body:
            result.problems.append(ImportProblem(source, line, f"skipped article {item['id']}: empty {'title' if not title else 'body'}"))
            continue
        labels = item.get("label_names") or []
        status = "draft" if item.get("draft") else ("archived" if item.get("outdated") else "published")
        try:
            result.drafts.append(ArticleDraft(
                id=f"zendesk-{item['id']}".lower(), title=title, body=body,
                category=sections.get(item.get("section_id")) or None,
                tags=tuple(str(t) for t in labels if str(t).strip()), status=status,
                source=f"{source}:{line or 1}"))
        except ValueError as exc:
            result.problems.append(ImportProblem(source, line, f"skipped article {item['id']}: {exc}"))
    return result


def load_zendesk(path: Path) -> ImportResult:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*.json") if p.is_file())
    result = ImportResult()
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            result.problems.append(ImportProblem(str(file), None, "not UTF-8 text"))
            continue
        part = parse_zendesk(text, str(file))
        result.drafts += part.drafts
        result.problems += part.problems
    return result
