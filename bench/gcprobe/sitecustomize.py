"""`bench/load.py chat --gc-probe`: on the server's path, this records how long each collection of
the older generations (1 and 2) held the interpreter, one line each to PARLEY_BENCH_GC_PROBE.<pid>.
Python imports `sitecustomize` at start-up from its path; nothing of the product is changed."""

import gc
import os
import time

_target = os.environ.get("PARLEY_BENCH_GC_PROBE")
if _target:
    _out = open(f"{_target}.{os.getpid()}", "a", buffering=1)
    _started = [0.0]

    def _probe(phase: str, info: dict) -> None:
        if phase == "start":
            _started[0] = time.perf_counter()
        elif info["generation"] >= 1:
            _out.write(f"{time.monotonic():.3f} {info['generation']} {(time.perf_counter() - _started[0]) * 1000:.2f}\n")

    gc.callbacks.append(_probe)
