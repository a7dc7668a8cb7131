"""Where a running server's time goes: py-spy samples it while a benchmark runs (`--profile`).

py-spy (a dev tool, in the `test` extra) records raw stacks of every thread at 100 samples a second;
the summary leaves out threads waiting for work (a queue get or a wait: py-spy cannot always tell
them idle) and counts the event loop's own C code (uvloop's I/O and polling) apart; of the rest it
gives, per thread group, the share of samples and the functions that were running (self time) and
that were on the stack (inclusive time).
"""

from __future__ import annotations

import linecache
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_LOCATION = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::(?P<line>\d+))?\)$")
_TRIM = re.compile(r"^.*?/(site-packages|python3\.\d+)/")


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


def start(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """Sample `pid` for `seconds` into `out` (py-spy's raw, folded format)."""
    exe = py_spy()
    if exe is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy (the test extra has it)")
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "100",
                             "--format", "raw", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _name(frame: str) -> str:
    m = _LOCATION.match(frame.strip())
    if not m:
        return frame.strip()
    where = _TRIM.sub("", m["file"]).removeprefix(str(Path(__file__).resolve().parents[1]) + "/")
    return f"{m['func']} ({where})"


_WAITS = ("get(", "wait(", "select(", "poll(", "sleep(", "acquire(")


def _idle(frame: str) -> str | None:
    """'idle' for a thread waiting for work (the source line py-spy stopped on is a queue get or a
    wait), 'loop' for the event loop's own C code (uvloop: I/O or waiting, py-spy cannot tell),
    None for work."""
    m = _LOCATION.match(frame.strip())
    if not m or not m["line"]:
        return None
    if m["func"] == "Runner.run" or "run_until_complete" in linecache.getline(m["file"], int(m["line"])):
        return "loop"
    source = linecache.getline(m["file"], int(m["line"]))
    return "idle" if any(w in source for w in _WAITS) else None


def _group(stack: list[str]) -> str:
    """Which kind of thread a sample is from: the event loop, a worker thread, aiosqlite's thread."""
    text = ";".join(stack)
    if "aiosqlite" in text and "_connection_worker_thread" in text:
        return "aiosqlite thread"
    if "concurrent/futures/thread.py" in text:
        return "worker threads (bot decisions, to_thread)"
    if "asyncio" in text or "uvicorn" in text or "runpy" in text or "sqlalchemy" in text:  # SQLAlchemy: in its greenlet
        return "event loop thread"
    return "other"


def summarise(raw: Path, top: int = 15) -> dict[str, Any]:
    total = idle = loop = 0
    groups: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not stack_text or not count.isdigit():
            continue
        n = int(count)
        stack = stack_text.split(";")
        kind = _idle(stack[-1])
        if kind == "idle":
            idle += n
            continue
        if kind == "loop":
            loop += n
            continue
        total += n
        groups[_group(stack)] += n
        own[_name(stack[-1])] += n
        for name in {_name(f) for f in stack}:
            inclusive[name] += n

    def share(counter: Counter[str], k: int) -> list[list[Any]]:
        return [[name, round(100 * n / max(total, 1), 1)] for name, n in counter.most_common(k)]

    # shares are of the samples where Python code (or C called from it) was running
    return {"samples_working": total, "samples_idle_threads": idle, "samples_in_event_loop_c_code": loop,
            "rate_hz": 100, "threads_pct": dict(share(groups, 5)),
            "self_pct": share(own, top), "inclusive_pct": share(inclusive, top * 3)}
