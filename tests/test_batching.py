"""knowledge_base.batching: concurrent single queries share model calls and get their own rows back."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from knowledge_base.batching import BatchingEmbedder
from knowledge_base.embedder import HashingEmbedder


class SlowEmbedder(HashingEmbedder):
    """Like a real model: one call costs about the same for one text or a few."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        time.sleep(0.01)
        return super().encode(texts)


def test_concurrent_queries_are_encoded_together_and_each_gets_its_own_vector() -> None:
    inner = SlowEmbedder()
    batcher = BatchingEmbedder(inner)
    texts = [f"how do I clean rug number {i}" for i in range(120)]
    with ThreadPoolExecutor(12) as pool:
        vectors = list(pool.map(lambda t: batcher.encode([t]), texts))
    expected = HashingEmbedder().encode(texts)
    assert all(v.shape == (1, inner.dim) and np.allclose(v[0], e) for v, e in zip(vectors, expected))
    assert batcher.queries == 120 and batcher.batches < 60  # most calls served several queries


def test_a_lone_query_is_encoded_at_once_and_bulk_calls_pass_through() -> None:
    inner = SlowEmbedder()
    batcher = BatchingEmbedder(inner)
    started = time.perf_counter()
    batcher.encode(["where is my order"])
    assert time.perf_counter() - started < 0.5 and inner.calls == 1
    assert batcher.encode(["a", "b", "c"]).shape == (3, inner.dim) and batcher.batches == 1


def test_a_model_failure_reaches_the_caller_and_the_batcher_keeps_working() -> None:
    class Broken(HashingEmbedder):
        fail = True

        def encode(self, texts: list[str]) -> np.ndarray:
            if self.fail:
                self.fail = False
                raise RuntimeError("model crashed")
            return super().encode(texts)

    batcher = BatchingEmbedder(Broken())
    with pytest.raises(RuntimeError):
        batcher.encode(["one"])
    assert batcher.encode(["two"]).shape == (1, batcher.dim)
