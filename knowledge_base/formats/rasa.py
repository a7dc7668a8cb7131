"""A Rasa 3.x project (NLU training data plus responses), one article per answerable intent.

Rasa keeps FAQ answers as *retrieval intents*: the NLU data has `- intent: faq/ask_price` with
example questions, and the domain (or a `responses.yml`) has `utter_faq/ask_price` with the
answer. Each such pair becomes one article:

- id: slug of the full intent name (`faq/ask_price` -> `faq-ask-price`)
- title: the response's `metadata: {title: ...}` if set, else made from the sub-intent
  (`ask_price` -> "Ask price")
- body: the text of the first response variation that has one
- category: the retrieval intent (`faq`)
- questions: the training examples, with entity markup (`[Paris](city)`) reduced to its text
- source: `relative/file.yml:LINE` of the `- intent:` entry

With `include_plain_intents=True`, a plain intent `x` that has a response `utter_x` becomes an
article too (no category). Rasa is not imported: the files are read as YAML (rasa_yaml.py), so
Parley can import a Rasa project without Rasa installed.

Problems are reported, never raised: malformed YAML (with its line), entries of the wrong shape,
and intents that were skipped because they have no answer ("skipped intent ...").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from knowledge_base.formats.rasa_yaml import read_project
from knowledge_base.models import ArticleDraft, ImportProblem, ImportResult, slugify

# Rasa's entity annotation: [text](entity), [text](entity:value), [text]{"entity": ...},
# and [text][{"entity": ...}, {...}] (several entities on the same words).
_ENTITY_RE = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::[^)]*)?\)|\{[^}]*\}|\[\s*\{.*?\}\s*\])"
)


def clean_entity_markup(example: str) -> str:
    """`fly to [Paris](city) on [monday]{"entity": "day"}` -> `fly to Paris on monday`."""
    return _ENTITY_RE.sub(lambda m: m.group("text"), example).strip()


def title_from_intent(name: str) -> str:
    """`faq/ask_return_policy` -> "Ask return policy"; `out_of_scope` -> "Out of scope"."""
    leaf = name.rsplit("/", 1)[-1]
    words = re.sub(r"[_\-.+]+", " ", leaf).split()
    if not words:
        return name
    text = " ".join(words)
    return text[0].upper() + text[1:]


def article_id_for_intent(name: str) -> str:
    """`faq/ask_price` -> `faq-ask-price`."""
    return slugify(re.sub(r"[/_+]+", "-", name))


def _first_text(variations: list[Any]) -> tuple[str | None, str | None]:
    """(body, title) from the first variation that has text; title from `metadata: {title: ...}`."""
    for variation in variations:
        if not isinstance(variation, dict):
            continue
        text = variation.get("text")
        if isinstance(text, str) and text.strip():
            metadata = variation.get("metadata")
            title = metadata.get("title") if isinstance(metadata, dict) else None
            return text.strip(), (title.strip() if isinstance(title, str) and title.strip() else None)
    return None, None


def _dedupe(items: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        cleaned = " ".join(clean_entity_markup(item).split())
        if cleaned and cleaned not in seen:
            seen[cleaned] = None
    return tuple(seen)


def load_rasa_project(path: Path, include_plain_intents: bool = False) -> ImportResult:
    """Articles from a Rasa 3.x project folder (or a single Rasa YAML file)."""
    path = Path(path)
    result = ImportResult()
    if not path.exists():
        result.problems.append(ImportProblem(str(path), None, "no such file or folder"))
        return result
    data = read_project(path, result.problems)

    seen_ids: dict[str, str] = {}
    left_out_plain: list[str] = []
    for intent in data.intents.values():
        retrieval = "/" in intent.name
        if not retrieval and not include_plain_intents:
            left_out_plain.append(intent.name)
            continue
        file_name, _, line_text = intent.source.rpartition(":")
        line = int(line_text)
        response_name = f"utter_{intent.name}"
        response = data.responses.get(response_name)
        if response is None:
            result.problems.append(
                ImportProblem(file_name, line, f"skipped intent {intent.name}: no {response_name} response")
            )
            continue
        body, title = _first_text(response.variations)
        if body is None:
            result.problems.append(
                ImportProblem(file_name, line, f"skipped intent {intent.name}: {response_name} has no text variation")
            )
            continue
        article_id = article_id_for_intent(intent.name)
        if article_id in seen_ids:
            result.problems.append(
                ImportProblem(
                    file_name, line, f"skipped intent {intent.name}: article id {article_id!r} is already used by {seen_ids[article_id]}"
                )
            )
            continue
        try:
            draft = ArticleDraft(
                id=article_id,
                title=title or title_from_intent(intent.name),
                body=body,
                category=intent.name.split("/", 1)[0] if retrieval else None,
                questions=_dedupe(intent.examples),
                source=intent.source,
            )
        except ValueError as exc:
            result.problems.append(ImportProblem(file_name, line, f"skipped intent {intent.name}: {exc}"))
            continue
        seen_ids[article_id] = intent.name
        result.drafts.append(draft)

    if left_out_plain and not result.drafts:
        shown = ", ".join(left_out_plain[:8]) + (", ..." if len(left_out_plain) > 8 else "")
        result.problems.append(
            ImportProblem(
                str(path) if path.is_file() else path.name,
                None,
                f"no retrieval intents (like faq/ask_price) found; {len(left_out_plain)} plain intents were "
                f"not imported ({shown}): set include_plain_intents to import those with an utter_<intent> response",
            )
        )
    return result
