"""Embedding backends side by side, each in a fresh process: start-up (first start with the ONNX
export and quantisation, then from the cache), single-query encode latency, and batched throughput
(the server encodes concurrent queries together, knowledge_base/batching.py). Queries are CLINC150
test utterances.

    .venv/bin/python -m bench.embedders [--threads 1] [--queries 1000] [--batch 32]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BACKENDS = ("torch", "onnx", "onnx-int8")


def measure(backend: str, cache_dir: Path, threads: int, queries: int, batch: int) -> dict[str, Any]:
    """In this process: load one backend, then time encodes."""
    import numpy as np

    from bench.answer_quality import load_clinc, percentiles
    from knowledge_base.embedder import PACKAGED_MODEL
    from knowledge_base.factory import load_embedder

    t0 = time.perf_counter()
    embedder = load_embedder(PACKAGED_MODEL, threads, backend, cache_dir)  # imports torch or onnxruntime too
    load_seconds = time.perf_counter() - t0
    inner: Any = getattr(embedder, "inner", embedder)
    texts = [t for t, _ in load_clinc(limit=queries)["test"]][:queries]
    for text in texts[:20]:  # warm-up
        embedder.encode([text])
    single = []
    for text in texts:
        t0 = time.perf_counter()
        embedder.encode([text])
        single.append((time.perf_counter() - t0) * 1000)
    calls, t_all = [], time.perf_counter()
    for start in range(0, len(texts) - batch + 1, batch):
        t0 = time.perf_counter()
        embedder.encode(texts[start:start + batch])
        calls.append((time.perf_counter() - t0) * 1000)
    batched_seconds = time.perf_counter() - t_all
    return {"backend": backend, "name": embedder.name, "threads": threads,
            "exported": bool(getattr(inner, "exported", False)),
            "load_seconds": round(load_seconds, 2),
            "single_ms": percentiles(single),
            "batch": batch, "batch_call_ms": percentiles(calls),
            "batched_queries_per_second": round(len(calls) * batch / batched_seconds, 1),
            "single_queries_per_second": round(1000 / float(np.mean(single)), 1),
            "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--one", choices=BACKENDS, help=argparse.SUPPRESS)  # a child process
    parser.add_argument("--cache-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.one:
        print(json.dumps(measure(args.one, args.cache_dir, args.threads, args.queries, args.batch)))
        return
    runs = []
    with tempfile.TemporaryDirectory(prefix="parley-onnx-bench-") as cache:
        # each ONNX backend twice: a first start exports into the empty cache, the second loads it
        for backend in ("torch", "onnx", "onnx", "onnx-int8", "onnx-int8"):
            out = subprocess.run([sys.executable, "-m", "bench.embedders", "--one", backend, "--cache-dir", cache,
                                  "--threads", str(args.threads), "--queries", str(args.queries),
                                  "--batch", str(args.batch)], capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[-1]), flush=True)
    from bench.answer_quality import RESULTS

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"embedders-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps({"dataset": "embedders", "load_average": os.getloadavg(), "runs": runs}, indent=2))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
