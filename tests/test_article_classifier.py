"""The article classifier: what it learns, and when the knowledge base may use it."""

from __future__ import annotations

import numpy as np

from knowledge_base.chunking import article_entries
from knowledge_base.classifier import train_classifier
from knowledge_base.service import KnowledgeBase

DIM = 8
rng = np.random.default_rng(0)


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def cluster(axis: int, n: int, spread: float = 0.15) -> np.ndarray:
    centre = np.eye(DIM)[axis]
    return unit(centre + spread * rng.standard_normal((n, DIM)))


class FixedEmbedder:
    """Texts are looked up in a table: the test decides every vector."""

    name, dim = "fixed", DIM

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.table[t] for t in texts]).astype(np.float32)


def put(kb: KnowledgeBase, article_id: str, vectors: np.ndarray) -> None:
    entries = article_entries(article_id, article_id.upper(), "", [f"{article_id} q{i}" for i in range(len(vectors) - 1)])
    kb.put(article_id, article_id.upper(), "", entries, vectors)


def test_the_classifier_learns_each_articles_region() -> None:
    vectors = [cluster(0, 30), cluster(1, 5), cluster(2, 60)]  # unequal sizes: classes weigh the same
    model = train_classifier(7, ["a", "b", "c"], vectors)
    assert model is not None and model.generation == 7
    for axis, expected in enumerate("abc"):
        picked, probability = model.pick(unit(np.eye(DIM)[axis] + 0.1 * rng.standard_normal(DIM)))
        assert picked == expected and 0.5 < probability <= 1.0
    assert train_classifier(1, ["only"], [cluster(0, 5)]) is None  # nothing to tell apart


def test_the_classifier_overrules_a_stray_neighbour_and_is_never_used_stale() -> None:
    query = unit(np.eye(DIM)[0] + 0.05 * np.eye(DIM)[3])
    # "b" lives around axis 1 but has one stray entry right on the query; "a" owns the region
    b_vectors = np.vstack([cluster(1, 20), query[None, :]])
    kb = KnowledgeBase(FixedEmbedder({"question": query}), aggregate_k=1, classifier_c=10.0)
    put(kb, "a", cluster(0, 20))
    put(kb, "b", b_vectors)

    nearest = kb.search("question").candidates
    assert [c.article_id for c in nearest][:2] == ["b", "a"]  # by neighbour score alone

    assert kb.train_classifier() and kb.current_classifier is not None
    picked = kb.search("question").candidates
    assert picked[0].article_id == "a"
    # the confidence stays the neighbour score of the picked article
    assert picked[0].score == next(c.score for c in nearest if c.article_id == "a")

    put(kb, "c", cluster(2, 20))  # the index changed: the classifier does not know "c"
    assert kb.current_classifier is None
    assert kb.search("question").candidates[0].article_id == "b"
    assert kb.train_classifier()
    assert kb.search("question").candidates[0].article_id == "a"


def test_without_a_penalty_setting_no_classifier_is_trained() -> None:
    kb = KnowledgeBase(FixedEmbedder({}), classifier_c=0.0)
    put(kb, "a", cluster(0, 5))
    put(kb, "b", cluster(1, 5))
    assert kb.train_classifier() is False and kb.classifier is None
