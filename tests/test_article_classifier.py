"""The article classifier: what it learns, and when the knowledge base may use it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
        # texts the test did not place (the calibration's off-topic messages) sit far from every article
        far = unit(-np.ones(DIM))
        return np.stack([self.table.get(t, far) for t in texts]).astype(np.float32)


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


TRAINER_HOST = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from app.kb_classifier import trainer_init

if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=trainer_init,
                               initargs=(os.getpid(),))
    pool.submit(time.sleep, 0).result()  # the trainer is up and initialised
    pool.submit(time.sleep, 120)  # ...and busy, as in a long fit
    print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
    time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state  # a zombie has ended; only its parent's reaping is left


def test_the_trainer_process_ends_with_a_server_killed_by_sigkill(tmp_path: Path) -> None:
    """A server killed with kill -9 runs no clean-up; its classifier trainer must not outlive it."""
    script = tmp_path / "host.py"
    script.write_text(TRAINER_HOST)
    host = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    try:
        assert host.stdout is not None
        children = [int(p) for p in host.stdout.readline().split()]
        assert children and all(_alive(p) for p in children)
        os.kill(host.pid, signal.SIGKILL)
        host.wait(5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in children):
            time.sleep(0.1)
        assert not [p for p in children if _alive(p)], "the trainer outlived its server"
    finally:
        host.kill()
