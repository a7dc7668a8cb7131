"""Import formats over real files, malformed ones included, and the CLI with its progress bar."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.formats.csv_format import CsvMapping, load_csv, parse_csv
from knowledge_base.formats.markdown import load_markdown_folder, parse_markdown_article, render_markdown_article
from knowledge_base.formats.zendesk import load_zendesk
from tests.harness import copy_data, run_cli, server_env

FIX = Path(__file__).parent / "fixtures" / "import"


def test_csv_with_a_column_mapping_groups_questions_that_share_an_answer() -> None:
    result = load_csv(FIX / "faq.csv", "question=Frage,answer=Antwort,category=Thema")
    assert not result.problems
    by_id = {d.id: d for d in result.drafts}
    assert set(by_id) == {"how-do-i-book-a-piano-tuning-appointment", "do-you-rent-out-concert-harps"}
    tuning = by_id["how-do-i-book-a-piano-tuning-appointment"]
    assert tuning.title == "How do I book a piano tuning appointment?"
    assert tuning.questions == ("Can I schedule someone to tune my piano?",)
    assert tuning.category == "Services" and "Piano tuning" in tuning.body


def test_csv_with_broken_quoting_is_rejected_with_its_line() -> None:
    result = load_csv(FIX / "broken.csv")
    assert result.drafts == []
    assert len(result.problems) == 1 and result.problems[0].line == 3, result.problems


def test_csv_without_the_mapped_columns_is_rejected_on_line_1() -> None:
    result = load_csv(FIX / "missing-column.csv")
    assert result.drafts == [] and result.problems[0].line == 1 and "'answer'" in result.problems[0].message


def test_csv_row_with_an_empty_answer_is_skipped_with_its_line() -> None:
    result = parse_csv("question,answer\nWhat is a capo?,A clamp.\nWhat is a pick?,\n", "x.csv")
    assert [d.id for d in result.drafts] == ["what-is-a-capo"]
    assert result.problems[0].line == 3 and "empty" in result.problems[0].message


def test_csv_mapping_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        CsvMapping.parse("question=Q,colour=C")


def test_zendesk_articles_become_markdown_with_sections_labels_and_draft_status() -> None:
    result = load_zendesk(FIX / "zendesk.json")
    by_id = {d.id: d for d in result.drafts}
    bow = by_id["zendesk-360001234501"]
    assert bow.category == "Instrument care" and bow.tags == ("strings", "care") and bow.status == "published"
    assert "**every**" in bow.body and "- Wipe rosin off the stick" in bow.body and "<" not in bow.body
    sax = by_id["zendesk-360001234502"]
    assert sax.status == "draft" and "## How it works" in sax.body and "[trade-in terms](https://example.com/trade)" in sax.body
    assert len(result.problems) == 1 and "empty title" in result.problems[0].message
    assert result.problems[0].line == 21  # the line of that article's "id"


def test_malformed_zendesk_json_is_rejected_with_its_line() -> None:
    result = load_zendesk(FIX / "zendesk-broken.json")
    assert result.drafts == [] and result.problems[0].line == 7, result.problems


def test_markdown_folder_skips_a_malformed_file_with_its_line() -> None:
    result = load_markdown_folder(FIX / "markdown")
    assert [d.id for d in result.drafts] == ["ukulele-strings"]
    assert result.problems[0].source.endswith("bad-front-matter.md") and result.problems[0].line is not None


def test_markdown_render_then_parse_is_the_same_article() -> None:
    draft = load_markdown_folder(FIX / "markdown").drafts[0]
    again = parse_markdown_article(render_markdown_article(draft), "x", "x")
    assert (again.id, again.title, again.body, again.questions, again.tags, again.category) == (
        draft.id, draft.title, draft.body, draft.questions, draft.tags, draft.category)


def test_cli_imports_csv_and_zendesk_idempotently_and_rejects_bad_files(demo_template: Path, tmp_path: Path) -> None:
    env = server_env(copy_data(demo_template, tmp_path / "data"))
    first = run_cli(["kb", "import", str(FIX / "faq.csv"), "--format", "csv", "--map", "question=Frage,answer=Antwort,category=Thema"], env)
    assert first.returncode == 0, first.stderr
    assert "created 2, updated 0, unchanged 0, skipped 0" in first.stdout
    assert "imported 2/2 articles" in first.stderr  # progress, a line per group when not on a terminal
    again = run_cli(["kb", "import", str(FIX / "faq.csv"), "-f", "csv", "--map", "question=Frage,answer=Antwort,category=Thema"], env)
    assert "created 0, updated 0, unchanged 2" in again.stdout
    zd = run_cli(["kb", "import", str(FIX / "zendesk.json"), "-f", "zendesk"], env)
    assert "created 2" in zd.stdout and "skipped 1" in zd.stdout and "empty title" in zd.stderr
    bad = run_cli(["kb", "import", str(FIX / "broken.csv"), "-f", "csv"], env)
    assert bad.returncode == 1 and "broken.csv:3" in bad.stderr
    export = run_cli(["kb", "export", str(tmp_path / "out")], env)
    assert export.returncode == 0
    files = {p.name for p in (tmp_path / "out").glob("*.md")}
    assert "zendesk-360001234501.md" in files and "do-you-rent-out-concert-harps.md" in files
    round_trip = run_cli(["kb", "import", str(tmp_path / "out")], env)
    assert f"created 0, updated 0, unchanged {len(files)}" in round_trip.stdout, round_trip.stdout
