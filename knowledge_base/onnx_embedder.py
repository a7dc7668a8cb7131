"""Sentence embeddings on ONNX Runtime: the sentence-transformers model exported once, int8 by default.

The whole sentence-transformers pipeline (transformer, the model's own pooling, normalisation) is
traced into one ONNX graph, so pooling follows the model's configuration by construction and the
graph returns unit vectors. With `quantize`, weights are int8 per output channel and activations
are quantised at run time (`quantize_dynamic`). The file is cached under a key derived from the
model directory (file names, sizes, modification times): export runs at first start only, a
fine-tuned or replaced model gets a file of its own, and later starts just load it.

With int8, activations are scaled per call, so a text's vector depends slightly on the other texts
encoded in the same call: measured cosine to the text encoded alone 0.99 on average, 0.96 for a
one-word text (tests/test_onnx_embedder.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from knowledge_base.embedder import resolve_model_path

EXPORT_VERSION = 1  # bump when the export or the quantisation changes, so cached files are rebuilt
OPSET = 17
BATCH_SIZE = 64  # as SentenceTransformerEmbedder
# Texts of different lengths: the trace must see padding, or the attention mask could be left out.
PROBES = ["Where is my order?",
          "I was charged twice for the same rug last week; how do I get the second payment refunded?"]


def model_dir(model: str) -> Path:
    """The model's directory: the packaged default, a local path, or a name in the local HF cache."""
    path = Path(resolve_model_path(model))
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(model, local_files_only=True))
    except Exception as exc:  # never downloaded at run time
        raise FileNotFoundError(f"embedding model not found: {model}") from exc


def cache_key(directory: Path, quantize: bool) -> str:
    """Changes whenever a file of the model directory is added, removed, resized or rewritten."""
    digest = hashlib.blake2b(f"v{EXPORT_VERSION}:opset{OPSET}:int8={quantize}".encode(), digest_size=10)
    for file in sorted(p for p in directory.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"\n{file.relative_to(directory).as_posix()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def cache_path(model: str, directory: Path, cache_dir: Path, quantize: bool) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model).name)[:48] or "model"
    return Path(cache_dir) / f"{slug}-{'int8' if quantize else 'fp32'}-{cache_key(directory, quantize)}.onnx"


class OnnxEmbedder:
    """The `Embedder` protocol on ONNX Runtime. `name` differs from the torch embedder's, so the
    stored vectors of different backends never mix."""

    def __init__(self, model: str, *, cache_dir: Path, quantize: bool = True, threads: int = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        directory = model_dir(model)
        self.path = cache_path(model, directory, cache_dir, quantize)
        self.exported = not self.path.exists()  # False: loaded from the cache
        if self.exported:
            export_onnx(directory, self.path, quantize)
        self._graph = _Graph(self.path, load_tokenizer(directory), threads)
        self.name = f"{model}@onnx-int8" if quantize else f"{model}@onnx"
        self.dim = self._graph.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._graph.encode(texts)


Tokenize = Callable[[list[str], int], dict[str, np.ndarray]]  # texts, max length -> the graph's inputs


def load_tokenizer(directory: Path) -> Tokenize:
    """The model's own tokenizer.json on the `tokenizers` library, the engine transformers' fast
    tokenizers run on, without importing transformers (which imports torch: 2.5 s of every start
    here). A model that has no tokenizer.json gets transformers' tokenizer."""
    file = directory / "tokenizer.json"
    if not file.is_file():
        from transformers import AutoTokenizer

        return hf_tokenize(AutoTokenizer.from_pretrained(str(directory)))
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(file))
    pad = tokenizer.padding or {}
    # as transformers calls it: pad to the longest text of the batch, on the right, truncate at max_length
    tokenizer.enable_padding(pad_id=pad.get("pad_id", 0), pad_type_id=pad.get("pad_type_id", 0),
                             pad_token=pad.get("pad_token", "[PAD]"))
    truncated_at: list[int] = []

    def tokenize(texts: list[str], max_length: int) -> dict[str, np.ndarray]:
        if truncated_at != [max_length]:
            tokenizer.enable_truncation(max_length)
            truncated_at[:] = [max_length]
        encodings = tokenizer.encode_batch(texts)
        return {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}

    return tokenize


def hf_tokenize(tokenizer: Any) -> Tokenize:
    """A transformers tokenizer called as the graph calls its tokenizer."""
    def tokenize(texts: list[str], max_length: int) -> dict[str, np.ndarray]:
        return dict(tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="np"))

    return tokenize


class _Graph:
    """One exported graph and its tokenizer: texts in, unit vectors out."""

    def __init__(self, path: Path, tokenizer: Tokenize, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        if threads > 1:  # idle pool threads sleep rather than spin: on shared cores spinning only burns them
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.inputs = meta["parley.inputs"].split(",")
        self.max_length = int(meta["parley.max_seq_length"])
        self.lower = meta["parley.do_lower_case"] == "True"
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.tokenizer = tokenizer
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.lower:
            texts = [t.lower() for t in texts]
        # Texts of similar length share a batch (less padding), as in sentence-transformers.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start:start + BATCH_SIZE]
            with self._lock:  # a Hugging Face tokenizer is not safe across threads
                features = self.tokenizer([texts[i] for i in rows], self.max_length)
            out[rows] = self.session.run(None, {n: features[n].astype(np.int64) for n in self.inputs})[0]
        return out


def export_onnx(directory: Path, target: Path, quantize: bool) -> None:
    """Export the sentence-transformers model at `directory` to `target`, checked against
    sentence-transformers itself. Written to a temporary file and renamed, so two processes
    starting at once each end with a whole file."""
    import onnx
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(directory), device="cpu").eval()
    names = [n for n in st.tokenizer.model_input_names if n in ("input_ids", "attention_mask", "token_type_ids")]
    max_length = int(st.max_seq_length or st.tokenizer.model_max_length)

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.st(dict(zip(names, tensors)))["sentence_embedding"]

    probe = st.tokenizer(PROBES, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's and the legacy exporter's warnings
            torch.onnx.export(Pipeline().eval(), tuple(probe[n] for n in names), str(fp32), input_names=names,
                              output_names=["sentence_embedding"], opset_version=OPSET, dynamo=False,
                              dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names},
                                            "sentence_embedding": {0: "batch"}})
        graph = onnx.load(str(fp32))
        for key, value in {"parley.source": str(directory), "parley.inputs": ",".join(names),
                           "parley.max_seq_length": str(max_length),
                           "parley.do_lower_case": str(bool(getattr(st[0], "do_lower_case", False)))}.items():
            graph.metadata_props.add(key=key, value=value)  # kept by quantize_dynamic
        onnx.save(graph, str(fp32))
        # The trace must generalise: each probe alone and in a padded batch, as sentence-transformers.
        expected = st.encode(PROBES, normalize_embeddings=True, convert_to_numpy=True)
        check = _Graph(fp32, load_tokenizer(directory), threads=1)
        for got in (check.encode(PROBES), np.vstack([check.encode([p]) for p in PROBES])):
            if float((got * expected).sum(axis=1).min()) < 0.9999:
                raise RuntimeError(f"the ONNX export of {directory} does not reproduce sentence-transformers")
        final = fp32
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            final = Path(tmp) / "int8.onnx"
            root = logging.getLogger()
            quiet = _DropPreprocessAdvice()
            # onnxruntime's quantizer logs a line per tensor on the root logger (hundreds at a first start)
            # and advice to pre-process that fails on this graph: neither is ours to act on
            root.addFilter(quiet)
            try:
                quantize_dynamic(fp32, final, weight_type=QuantType.QInt8, per_channel=True)
            finally:
                root.removeFilter(quiet)
        os.replace(final, target)


class _DropPreprocessAdvice(logging.Filter):
    """On the root logger while quantising: its own info lines and the pre-processing advice go."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING and "pre-processing before quantization" not in record.getMessage()
