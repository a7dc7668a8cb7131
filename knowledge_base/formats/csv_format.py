"""CSV of questions and answers: one row per question, with a column mapping.

Rows that share an `id` (or, without an id column, the same answer text) become one article whose
first question is the title and whose other questions are example questions.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from knowledge_base.models import ArticleDraft, ImportProblem, ImportResult, slugify

FIELDS = ("question", "answer", "category", "id", "title", "tags", "status")
REQUIRED = ("question", "answer")


@dataclass(frozen=True)
class CsvMapping:
    """Which CSV column holds which field; by default the column has the field's own name."""

    columns: dict[str, str]

    @classmethod
    def parse(cls, spec: dict[str, str] | str | None) -> "CsvMapping":
        """From a dict or a "field=Column,field=Column" string (the CLI's --map)."""
        if isinstance(spec, str):
            pairs = [p.split("=", 1) for p in spec.split(",") if p.strip()]
            if any(len(p) != 2 for p in pairs):
                raise ValueError("a mapping is field=Column pairs separated by commas, e.g. question=Q,answer=A")
            spec = {k.strip(): v.strip() for k, v in pairs}
        spec = dict(spec or {})
        unknown = set(spec) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) in the mapping: {', '.join(sorted(unknown))}; known: {', '.join(FIELDS)}")
        return cls({f: spec.get(f, f) for f in FIELDS})


def parse_csv(text: str, source: str, mapping: CsvMapping | None = None) -> ImportResult:
    """Parse CSV text. A malformed file (bad header, broken quoting) gives one problem with its line
    and no drafts at all; rows with a missing question or answer are skipped with their line."""
    mapping = mapping or CsvMapping.parse(None)
    result = ImportResult()
    text = text.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    reader = csv.reader(io.StringIO(text, newline=""), dialect, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return ImportResult(problems=[ImportProblem(source, 1, "the file is empty")])
    except csv.Error as exc:
        return ImportResult(problems=[ImportProblem(source, 1, f"malformed CSV header: {exc}")])
    header = [h.strip() for h in header]
    missing = [mapping.columns[f] for f in REQUIRED if mapping.columns[f] not in header]
    if missing:
        return ImportResult(problems=[ImportProblem(
            source, 1, f"missing column(s) {', '.join(repr(m) for m in missing)}; the header has {', '.join(repr(h) for h in header)}")])
    col = {f: header.index(mapping.columns[f]) for f in FIELDS if mapping.columns[f] in header}
    groups: dict[str, dict[str, object]] = {}
    by_answer: dict[str, str] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                return ImportResult(problems=[ImportProblem(
                    source, line, f"expected {len(header)} columns, found {len(row)}")])
            value = {f: row[i].strip() for f, i in col.items()}
            if not value["question"] or not value["answer"]:
                result.problems.append(ImportProblem(source, line, "skipped: empty question or answer"))
                continue
            key = value.get("id") or by_answer.get(value["answer"]) or slugify(value.get("title") or value["question"])
            by_answer.setdefault(value["answer"], key)
            group = groups.setdefault(key, {"line": line, "title": value.get("title") or value["question"],
                                            "answer": value["answer"], "category": value.get("category") or None,
                                            "questions": [], "tags": [], "status": value.get("status") or "published"})
            if group["answer"] != value["answer"]:
                result.problems.append(ImportProblem(
                    source, line, f"skipped: article {key!r} already has a different answer (line {group['line']})"))
                continue
            questions = group["questions"]
            assert isinstance(questions, list)
            if value["question"] not in questions:
                questions.append(value["question"])
            tags = group["tags"]
            assert isinstance(tags, list)
            for tag in (value.get("tags") or "").replace(";", ",").split(","):
                if tag.strip() and tag.strip() not in tags:
                    tags.append(tag.strip())
    except csv.Error as exc:
        return ImportResult(problems=[ImportProblem(source, reader.line_num, f"malformed CSV: {exc}")])
    for key, g in groups.items():
        try:
            result.drafts.append(ArticleDraft(
                id=key, title=str(g["title"]), body=str(g["answer"]), category=g["category"],  # type: ignore[arg-type]
                questions=tuple(q for q in g["questions"] if q != g["title"]),  # type: ignore[attr-defined]
                tags=tuple(g["tags"]), status=str(g["status"]), source=f"{source}:{g['line']}"))  # type: ignore[arg-type]
        except ValueError as exc:
            result.problems.append(ImportProblem(source, int(g["line"]), f"skipped: {exc}"))  # type: ignore[call-overload]
    return result


def load_csv(path: Path, mapping: CsvMapping | dict[str, str] | str | None = None) -> ImportResult:
    """One CSV file, or every `*.csv` under a folder."""
    if not isinstance(mapping, CsvMapping):
        mapping = CsvMapping.parse(mapping)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*.csv") if p.is_file())
    result = ImportResult()
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            result.problems.append(ImportProblem(str(file), None, "not UTF-8 text"))
            continue
        part = parse_csv(text, str(file), mapping)
        result.drafts += part.drafts
        result.problems += part.problems
    return result
