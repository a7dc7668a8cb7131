"""Reading a Rasa 3.x project's YAML files into its intents and responses (knowledge_base/formats/rasa.py
makes the articles from them).

The files are composed as YAML nodes (aliases refused), so every problem names its file and line;
problems are appended to the caller's list, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge_base.formats.markdown import NoAliasLoader
from knowledge_base.models import ImportProblem

# Files in a Rasa project root that never hold NLU data or responses.
_NON_DATA_FILES = {"config", "endpoints", "credentials"}
_YAML_SUFFIXES = {".yml", ".yaml"}


@dataclass
class Intent:
    name: str
    source: str  # "data/nlu.yml:12" of the first `- intent:` entry
    examples: list[str] = field(default_factory=list)


@dataclass
class Response:
    name: str
    source: str
    variations: list[Any]


@dataclass
class ProjectData:
    intents: dict[str, Intent] = field(default_factory=dict)
    responses: dict[str, Response] = field(default_factory=dict)


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


def _read_file(file: Path, name: str, data: ProjectData, problems: list[ImportProblem]) -> None:
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


def _read_nlu_entry(entry: yaml.Node, name: str, data: ProjectData, problems: list[ImportProblem]) -> None:
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
        intent = data.intents[intent_name] = Intent(intent_name, source)
    intent.examples.extend(examples)


def _read_response(
    key_node: yaml.Node, value_node: yaml.Node, name: str, data: ProjectData, problems: list[ImportProblem]
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
    data.responses[key] = Response(key, f"{name}:{line}", value)


def read_project(path: Path, problems: list[ImportProblem]) -> ProjectData:
    """The intents and responses of every data file of a project folder (or of one YAML file)."""
    data = ProjectData()
    for file in _project_files(path):
        _read_file(file, _display_name(file, path), data, problems)
    return data
