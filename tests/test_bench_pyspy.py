"""bench/pyspy.py: the profile summary leaves out waiting threads and names where the work was."""

from __future__ import annotations

import concurrent.futures.thread as thread_module
import inspect
from pathlib import Path

from bench import pyspy


def _line_of(func: object, needle: str) -> int:
    lines, start = inspect.getsourcelines(func)  # type: ignore[arg-type]
    return start + next(i for i, line in enumerate(lines) if needle in line)


def test_waiting_threads_are_left_out_and_work_is_ranked(tmp_path: Path) -> None:
    worker_file = thread_module.__file__
    wait_line = _line_of(thread_module._worker, "work_queue.get(block=True)")
    run_line = _line_of(thread_module._worker, "work_item.run()")
    boot = "Thread._bootstrap (threading.py:1002)"
    raw = tmp_path / "raw.txt"
    raw.write_text("\n".join([
        f"{boot};_worker ({worker_file}:{wait_line}) 70",  # an idle executor thread
        f"{boot};_worker ({worker_file}:{run_line});respond (/x/bot/decision.py:152);"
        f"Session.run (/x/site-packages/onnxruntime/capi/onnxruntime_inference_collection.py:406) 20",
        "_run_module_as_main (<frozen runpy>:198);Server.serve (/x/site-packages/uvicorn/server.py:70);"
        "send (/x/site-packages/uvicorn/protocols/websockets/websockets_sansio_impl.py:506) 10",
    ]) + "\n")
    summary = pyspy.summarise(raw)
    assert summary["samples_working"] == 30 and summary["samples_idle_threads"] == 70
    assert summary["self_pct"][0] == ["Session.run (onnxruntime/capi/onnxruntime_inference_collection.py)", 66.7]
    assert summary["threads_pct"] == {"worker threads (bot decisions, to_thread)": 66.7, "event loop thread": 33.3}
