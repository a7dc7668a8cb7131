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
article too (no category). Rasa is not imported: the files are read as YAML here, so Parley can
import a Rasa project without Rasa installed.

Problems are reported, never raised: malformed YAML (with its line), entries of the wrong shape,
and intents that were skipped because they have no answer ("skipped intent ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge_base.formats.markdown import NoAliasLoader
from knowledge_base.models import ArticleDraft, ImportProblem, ImportResult, slugify

# Files in a Rasa project root that never hold NLU data or responses.
_NON_DATA_FILES = {"config", "endpoints", "credentials"}
_YAML_SUFFIXES = {".yml", ".yaml"}

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


@dataclass
class _Intent:
    name: str
    source: str  # "data/nlu.yml:12" of the first `- intent:` entry
    examples: list[str] = field(default_factory=list)


@dataclass
class _Response:
    name: str
    source: str
    variations: list[Any]


@dataclass
class _ProjectData:
    intents: dict[str, _Intent] = field(default_factory=dict)
    responses: dict[str, _Response] = field(default_factory=dict)


class _Constructor(yaml.SafeLoader):
    """Only used to turn a composed node back into plain Python values."""

    def __init__(self) -> None:
        super().__init__("")


def _value(node: yaml.Node) -> Any:
    return _Constructor().construct_object(node, deep=True)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping_get(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node  # type: ignore[no-any-return]
    return None


def _project_files(path: Path) -> list[Path]:
    """The YAML files of a project that may hold NLU data or responses, in a stable order."""
    if path.is_file():
        return [path]
    files: set[Path] = set()
    for child in path.iterdir():
        if child.is_file() and child.suffix in _YAML_SUFFIXES and child.stem not in _NON_DATA_FILES:
            files.add(child)
    for folder in ("domain", "data"):
        sub = path / folder
        if sub.is_dir():
            files.update(p for p in sub.rglob("*") if p.is_file() and p.suffix in _YAML_SUFFIXES)
    return sorted(files, key=lambda p: p.relative_to(path).as_posix())


def _display_name(file: Path, root: Path) -> str:
    if root.is_file():
        return file.name
    return file.relative_to(root).as_posix()


def _parse_examples(node: yaml.Node, source: str, problems: list[ImportProblem]) -> list[str]:
    """An `examples:` value: Rasa's `|` block of `- example` lines, or a list of strings or
    `{text: ...}` mappings (the form that carries per-example metadata)."""
    value = _value(node) if isinstance(node, yaml.ScalarNode) else None
    if isinstance(node, yaml.ScalarNode) and (value is None or isinstance(value, str)):
        text = value or ""
        examples = []
        for raw in text.splitlines():
            stripped = raw.strip()
            if not stripped:
                continue
            if stripped.startswith("- "):
                examples.append(stripped[2:])
            elif stripped == "-":
                continue
            else:
                problems.append(
                    ImportProblem(source, _line(node), f"example line without '- ' ignored: {stripped!r}")
                )
        return examples
    if isinstance(node, yaml.SequenceNode):
        examples = []
        for item in node.value:
            value = _value(item)
            if isinstance(value, dict):
                value = value.get("text")
            if isinstance(value, (str, int, float)) and str(value).strip():
                examples.append(str(value).strip())
            else:
                problems.append(ImportProblem(source, _line(item), "example must be text or a mapping with 'text'"))
        return examples
    problems.append(ImportProblem(source, _line(node), "'examples' must be a '|' block of '- example' lines"))
    return []


def _read_file(file: Path, name: str, data: _ProjectData, problems: list[ImportProblem]) -> None:
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(ImportProblem(name, None, "not UTF-8 text"))
        return
    except OSError as exc:
        problems.append(ImportProblem(name, None, f"cannot read: {exc.strerror or exc}"))
        return
    try:
        root = yaml.compose(text, Loader=NoAliasLoader)  # aliases refused: no alias bombs
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "malformed"
        problems.append(ImportProblem(name, line, f"invalid YAML: {what}"))
        return
    except yaml.YAMLError as exc:
        problems.append(ImportProblem(name, None, f"invalid YAML: {exc}"))
        return
    if root is None:
        return
    if not isinstance(root, yaml.MappingNode):
        problems.append(ImportProblem(name, _line(root), "a Rasa file must be a mapping (version:, nlu:, responses: ...)"))
        return

    nlu = _mapping_get(root, "nlu")
    if nlu is not None and not (isinstance(nlu, yaml.ScalarNode) and nlu.value in ("", "~", "null")):
        if not isinstance(nlu, yaml.SequenceNode):
            problems.append(ImportProblem(name, _line(nlu), "'nlu' must be a list of '- intent:' entries"))
        else:
            for entry in nlu.value:
                _read_nlu_entry(entry, name, data, problems)

    responses = _mapping_get(root, "responses")
    if responses is not None and not (isinstance(responses, yaml.ScalarNode) and responses.value in ("", "~", "null")):
        if not isinstance(responses, yaml.MappingNode):
            problems.append(ImportProblem(name, _line(responses), "'responses' must be a mapping of utter_ names"))
        else:
            for key_node, value_node in responses.value:
                _read_response(key_node, value_node, name, data, problems)


def _read_nlu_entry(entry: yaml.Node, name: str, data: _ProjectData, problems: list[ImportProblem]) -> None:
    line = _line(entry)
    if not isinstance(entry, yaml.MappingNode):
        problems.append(ImportProblem(name, line, "an 'nlu' entry must be a mapping like '- intent: name'"))
        return
    intent_node = _mapping_get(entry, "intent")
    if intent_node is None:
        return  # synonym:, regex:, lookup: entries hold no questions
    intent_name = _value(intent_node)
    if not isinstance(intent_name, str) or not intent_name.strip():
        problems.append(ImportProblem(name, line, "'intent' must be a non-empty name"))
        return
    intent_name = intent_name.strip()
    examples_node = _mapping_get(entry, "examples")
    source = f"{name}:{line}"
    examples = [] if examples_node is None else _parse_examples(examples_node, name, problems)
    if examples_node is None:
        problems.append(ImportProblem(name, line, f"intent {intent_name} has no 'examples'"))
    intent = data.intents.get(intent_name)
    if intent is None:
        intent = data.intents[intent_name] = _Intent(intent_name, source)
    intent.examples.extend(examples)


def _read_response(
    key_node: yaml.Node, value_node: yaml.Node, name: str, data: _ProjectData, problems: list[ImportProblem]
) -> None:
    line = _line(key_node)
    key = _value(key_node)
    if not isinstance(key, str):
        problems.append(ImportProblem(name, line, "response names must be text like utter_greet"))
        return
    value = _value(value_node)
    if not isinstance(value, list):
        problems.append(ImportProblem(name, line, f"response {key} must be a list of variations ('- text: ...')"))
        return
    if key in data.responses:
        first = data.responses[key].source
        problems.append(ImportProblem(name, line, f"response {key} is defined again (first in {first}); the first is kept"))
        return
    data.responses[key] = _Response(key, f"{name}:{line}", value)


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
    data = _ProjectData()
    for file in _project_files(path):
        _read_file(file, _display_name(file, path), data, result.problems)

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
