"""Micro-batching of concurrent single-text queries into one model call.

Bot decisions embed one customer message each, from worker threads (`asyncio.to_thread`), and the
model runs one call at a time. Under load those calls queue up behind each other; encoding them
together costs little more than encoding one. Whoever finds the model idle leads one batch: it
takes everything waiting (up to `max_batch`), encodes it in one call and hands each caller its row;
callers that arrived meanwhile form the next batch. A caller alone is encoded at once: batching adds no wait
at low load (`max_wait` can add a short one to grow batches further).

With a model that tells queries from passages (`encode_queries`, knowledge_base/embedder.py), the
single customer messages are its queries: those are batched, and `encode` goes straight through.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import numpy as np

from knowledge_base.embedder import Embedder


class BatchingEmbedder:
    def __init__(self, inner: Embedder, max_batch: int = 32, max_wait: float = 0.0) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._cond = threading.Condition()
        self._waiting: list[tuple[str, Future[np.ndarray]]] = []
        self._leading = False
        self.batches = 0  # for tests and metrics: how many model calls served single queries
        self.queries = 0
        inner_queries = getattr(inner, "encode_queries", None)
        self._asymmetric = inner_queries is not None
        self._single = inner_queries if inner_queries is not None else inner.encode
        if inner_queries is not None:
            self.encode_queries = self._batched  # only then: query_vectors falls back to encode

    def encode(self, texts: list[str]) -> np.ndarray:
        if self._asymmetric:
            return self.inner.encode(texts)  # passages are never batched with queries
        return self._batched(texts)

    def _batched(self, texts: list[str]) -> np.ndarray:
        if len(texts) != 1:
            return self._single(texts)  # bulk indexing goes straight through
        future: Future[np.ndarray] = Future()
        with self._cond:
            self._waiting.append((texts[0], future))
            self._cond.notify_all()
        while True:
            with self._cond:
                while self._leading and not future.done():
                    self._cond.wait()
                if future.done():
                    break
                self._leading = True  # lead one batch; ours is in it or in a later one
                if self.max_wait and len(self._waiting) < self.max_batch:
                    deadline = time.monotonic() + self.max_wait
                    while len(self._waiting) < self.max_batch and (left := deadline - time.monotonic()) > 0:
                        self._cond.wait(left)
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch:]
            try:
                vectors = self._single([text for text, _ in batch])
                self.batches += 1
                self.queries += len(batch)
                for row, (_, waiter) in enumerate(batch):
                    waiter.set_result(vectors[row])
            except BaseException as exc:  # every caller in the batch gets the failure
                for _, waiter in batch:
                    if not waiter.done():
                        waiter.set_exception(exc)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        return future.result()[None, :]
