"""Chunking, the live index and the Markdown format."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from knowledge_base.chunking import article_entries, plain_text, sections_of
from knowledge_base.sections import shown_part, split_sections
from knowledge_base.formats.markdown import export_markdown_folder, load_markdown_folder
from knowledge_base.index import VectorIndex

DEMO = Path(__file__).resolve().parents[1] / "knowledge_base" / "demo"


def test_articles_are_split_at_headings_and_matched_by_sentence() -> None:
    assert sections_of("One short paragraph.") == ["One short paragraph."]
    body = "Intro line.\n\n## Mainland UK\n\nStandard delivery is 3-5 days. Express is next day.\n\n## Northern Ireland\n\nAllow 5-7 days."
    assert [s.split("\n")[0] for s in sections_of(body)] == ["Intro line.", "## Mainland UK", "## Northern Ireland"]
    entries = article_entries("a", "Delivery", body, [])
    bodies = [(e.position, e.text) for e in entries if e.kind == "chunk"]
    assert bodies == [(0, "Intro line."), (1, "Mainland UK: Standard delivery is 3-5 days."),
                      (1, "Mainland UK: Express is next day."), (2, "Northern Ireland: Allow 5-7 days.")]
    assert plain_text("## Title\n\nSee [the page](http://x) **now**") == "Title\n\nSee the page now"


def test_plain_text_pages_keep_their_headings_as_sections() -> None:
    body = "What is a driving school instructor?\nA person certified to teach.\n\nRequirements\nYou must be 21. You need a licence."
    assert [s.heading for s in split_sections(body)] == ["What is a driving school instructor?", "Requirements"]


def test_a_long_section_is_cut_at_a_block_never_ending_on_a_heading_or_inside_a_list() -> None:
    section = "## Promo codes\n\n" + ("Codes are case sensitive. " * 33) + "\n\n### Check these first\n\n- one\n- two\n- three"
    shown = shown_part(section, 900)
    assert not shown.text.rstrip().endswith("Check these first") and shown.more.startswith("### Check these first")
    assert "- one\n- two\n- three" in shown.more
    table = "| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 200
    assert shown_part("Intro.\n\n" + table, 300).text == "Intro."


def test_entries_cover_title_questions_and_chunks() -> None:
    entries = article_entries("a", "Title", "Body text.", ["q1", " ", "q2"])
    assert [(e.kind, e.position) for e in entries] == [("title", 0), ("question", 0), ("question", 2), ("chunk", 0)]


def test_index_replaces_and_removes_one_article_without_a_rebuild(tmp_path: Path) -> None:
    index = VectorIndex(4)
    a = article_entries("a", "A", "", ["x"])
    index.replace_article("a", a, np.eye(4, dtype=np.float32)[:2])
    index.replace_article("b", article_entries("b", "B", "", []), np.eye(4, dtype=np.float32)[2:3])
    assert index.search_articles(np.array([0, 1, 0, 0], dtype=np.float32))[0].article_id == "a"
    index.replace_article("a", a, np.eye(4, dtype=np.float32)[2:4])  # new vectors for a
    assert len(index) == 3
    index.remove_article("b")
    hits = index.search_articles(np.array([0, 0, 1, 0], dtype=np.float32))
    assert [h.article_id for h in hits] == ["a"]
    index.save(tmp_path, "stamp-1")
    assert VectorIndex.load(tmp_path, "stamp-2") is None
    loaded = VectorIndex.load(tmp_path, "stamp-1")
    assert loaded is not None and loaded.article_ids() == {"a"} and len(loaded) == 2


def test_the_demo_knowledge_base_imports_cleanly_with_at_least_25_articles() -> None:
    result = load_markdown_folder(DEMO)
    assert result.problems == [] and len(result.drafts) >= 25
    assert all(d.title and d.body and d.questions for d in result.drafts)


def test_malformed_markdown_is_rejected_with_a_line_number(tmp_path: Path) -> None:
    (tmp_path / "ok.md").write_text("---\ntitle: Fine\n---\nBody")
    (tmp_path / "no-title.md").write_text("---\ncategory: X\n---\nBody")
    (tmp_path / "bad-yaml.md").write_text("---\ntitle: A\nquestions: [unclosed\n---\nBody")
    (tmp_path / "no-front.md").write_text("Just text")
    result = load_markdown_folder(tmp_path)
    assert [d.id for d in result.drafts] == ["ok"]
    problems = {Path(p.source).name: p for p in result.problems}
    assert set(problems) == {"no-title.md", "bad-yaml.md", "no-front.md"}
    assert problems["bad-yaml.md"].line is not None and problems["bad-yaml.md"].line >= 3
    assert "title" in problems["no-title.md"].message


def test_markdown_round_trip_changes_nothing(tmp_path: Path) -> None:
    first = load_markdown_folder(DEMO).drafts
    export_markdown_folder(first, tmp_path)
    second = load_markdown_folder(tmp_path).drafts
    strip = lambda ds: sorted((d.id, d.title, d.body, d.category, d.questions, d.tags, d.status) for d in ds)  # noqa: E731
    assert strip(first) == strip(second)


def _unit(*rows: list[float]) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_top_k_aggregation_prefers_an_article_whose_questions_agree() -> None:
    index = VectorIndex(3)
    # "lucky" has one question very near the query and nothing else; "steady" has three fairly near entries
    index.replace_article("lucky", article_entries("lucky", "L", "", ["a", "b"]),
                          _unit([0, 0, 1], [1, 0.1, 0], [0, 1, 0]))
    index.replace_article("steady", article_entries("steady", "S", "", ["a", "b"]),
                          _unit([1, 0.5, 0], [1, 0.55, 0], [1, 0.6, 0]))
    query = np.array([1, 0, 0], dtype=np.float32)
    assert index.search_articles(query, aggregate_k=1)[0].article_id == "lucky"
    top3 = index.search_articles(query, aggregate_k=3)
    assert top3[0].article_id == "steady"
    assert abs(top3[1].score - (0.995 + 0) / 2) < 0.01  # lucky's mean over its (two) questions


def test_top_k_score_survives_save_and_load_and_keeps_the_best_chunk(tmp_path: Path) -> None:
    index = VectorIndex(3)
    entries = article_entries("a", "T", "## One\n\nFirst part.\n\n## Two\n\nSecond part.", ["q"])
    assert [e.kind for e in entries] == ["title", "question", "chunk", "chunk"]
    index.replace_article("a", entries, _unit([0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0.2, 0]))
    query = np.array([1, 0, 0], dtype=np.float32)
    before = index.search_articles(query, aggregate_k=2)[0]
    assert before.best_chunk is not None and before.best_chunk.position == 1  # the chunk nearest the query
    index.save(tmp_path, "s")
    loaded = VectorIndex.load(tmp_path, "s")
    assert loaded is not None
    after = loaded.search_articles(query, aggregate_k=2)[0]
    assert abs(after.score - before.score) < 1e-6 and after.best_chunk == before.best_chunk


def test_a_knowledge_base_decides_as_later_only_once_its_calibration_is_current() -> None:
    from knowledge_base.embedder import HashingEmbedder
    from knowledge_base.service import KnowledgeBase, embed_article

    embedder = HashingEmbedder()
    kb = KnowledgeBase(embedder)
    for aid, title, body in (("a", "Reset your password", "Use the forgot password link."),
                             ("b", "Track your order", "Open My orders.")):
        kb.put(aid, title, body, *embed_article(embedder, aid, title, body, (), 120))
    assert not kb.decides_as_later()  # what /readyz reports: thresholds not yet read off this index
    first = kb.calibrate()
    assert kb.decides_as_later() and first.negatives == 250 and first.offer <= first.answer
    kb.put("c", "Gift cards", "Buy one.", *embed_article(embedder, "c", "Gift cards", "Buy one.", (), 120))
    assert not kb.decides_as_later() and kb.calibration is first  # the old thresholds stand meanwhile
    assert kb.calibrate().generation == kb.index.generation and kb.decides_as_later()


def test_an_article_that_says_it_twice_outranks_one_stray_sentence_and_a_draft_scores_as_published() -> None:
    index = VectorIndex(3)
    # "stray": one sentence a little nearer the query than anything else, the rest unrelated;
    # "twice": two sentences nearly as near. Entries: title, then one per sentence.
    stray = article_entries("stray", "S", "First thing. Second thing. Third thing.", [])
    twice = article_entries("twice", "T", "First thing. Second thing. Third thing.", [])
    assert [e.kind for e in stray] == ["title", "chunk", "chunk", "chunk"]
    stray_vectors = _unit([0, 0, 1], [1, 0.30, 0], [0, 1, 0], [0, 1, 0.2])
    twice_vectors = _unit([0, 0, 1], [1, 0.35, 0], [1, 0.40, 0], [0, 1, 0])
    index.replace_article("stray", stray, stray_vectors)
    index.replace_article("twice", twice, twice_vectors)
    query = np.array([1, 0, 0], dtype=np.float32)
    index.second_weight = 0.0  # the best sentence alone: the stray match wins
    assert [h.article_id for h in index.search_articles(query)] == ["stray", "twice"]
    index.second_weight = 0.25
    ranked = index.search_articles(query)
    assert [h.article_id for h in ranked] == ["twice", "stray"]
    s1, s2 = twice_vectors[1] @ query, twice_vectors[2] @ query
    assert abs(ranked[0].score - (s1 + 0.25 * s2) / 1.25) < 1e-6
    # an article scored from outside the index (the editor's draft) gets exactly its indexed score
    drafted = index.score_unindexed("twice", twice, twice_vectors, query)
    assert drafted is not None and abs(drafted.score - ranked[0].score) < 1e-6 and drafted.best_chunk == ranked[0].best_chunk
