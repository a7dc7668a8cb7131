"""The doc2dial benchmark's bookkeeping (bench/doc2dial.py): metrics on hand-made outcomes, and a
tiny end-to-end run with the fast fake embedder (the real figures come from `parley eval doc2dial`)."""

from __future__ import annotations

import pytest

from bench.doc2dial import Outcome, Query, eval_doc2dial, legacy_entries, metrics
from knowledge_base.embedder import HashingEmbedder


def q(kind: str, article: str | None = None) -> Query:
    return Query("q", "text", article, kind, "test")


def test_metrics_count_answers_offers_and_abstentions_as_a_customer_would() -> None:
    queries = [q("answerable", "a"), q("answerable", "b"), q("answerable", "c"), q("kb_gap"), q("out_of_scope"),
               q("kb_gap_related")]
    outcomes = [Outcome("answer", "a", (), "a", 0.9, 1.0),        # right, at once
                Outcome("clarify", None, ("x", "b"), "x", 0.6, 1.0),  # offered among options
                Outcome("answer", "x", (), "x", 0.8, 1.0),        # wrong article
                Outcome("answer", "a", (), "a", 0.7, 1.0),        # an uncovered question answered
                Outcome("no_answer", None, (), "a", 0.1, 1.0),    # honest abstention
                Outcome("answer", "a", (), "a", 0.9, 1.0)]        # ambiguous: reported apart
    m = metrics(queries, outcomes)
    assert m["answered_right"] == pytest.approx(1 / 3) and m["answered_or_offered_right"] == pytest.approx(2 / 3)
    assert m["answered_wrong"] == pytest.approx(1 / 3) and m["top1"] == pytest.approx(1 / 3)
    assert m["kb_gap_answered"] == 1.0 and m["out_of_scope_answered"] == 0.0 and m["kb_gap_related_answered"] == 1.0
    assert m["answer_or_abstain_accuracy"] == pytest.approx(2 / 5)  # kb_gap_related is not in it
    assert m["auroc_vs_out_of_scope"] == 1.0


def test_the_legacy_chunker_prefixes_every_chunk_with_the_title() -> None:
    entries = legacy_entries("a", "Title", "One.\n\nTwo.")
    assert [e.text for e in entries] == ["Title", "Title. One.\n\nTwo."]


def test_a_tiny_run_reports_every_figure_for_every_system() -> None:
    report = eval_doc2dial(HashingEmbedder(), limit=6, lexical_weights=(0.0, 0.3))
    assert set(report["chosen_on_val"]) == {"lexical_weight", "second_weight", "answer_quantile", "offer_quantile"}
    for system in ("parley", "bm25", "parley_2026_11"):
        for figure in ("top1", "answered_right", "answered_or_offered_right", "answered_wrong",
                       "auroc_vs_kb_gap", "auroc_vs_out_of_scope", "answer_or_abstain_accuracy"):
            value = report[system][figure]
            assert value is None or 0.0 <= value <= 1.0, (system, figure, value)
    assert report["parley"]["calibration"]["negatives"] == 250
