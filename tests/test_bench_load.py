"""The load generator (bench/load.py): a tiny run in the default suite, the real benchmarks on demand.

    pytest -m benchmark tests/test_bench_load.py     # the figures in the README (minutes)
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.harness import ROOT, LiveServer

_spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
assert _spec and _spec.loader
load = importlib.util.module_from_spec(_spec)
sys.modules["bench_load"] = load
_spec.loader.exec_module(load)


async def test_the_load_generator_measures_round_trips_and_idle_sessions(live_server: LiveServer) -> None:
    chat = await load.run_chat(live_server.ws_url, customers=3, duration=3, think=0.5, ramp=0.5)
    assert chat["errors"] == 0, chat
    assert chat["replies"] >= 3 and chat["rtt_ms"]["p50"] is not None
    assert chat["rtt_ms"]["p50"] <= chat["rtt_ms"]["p99"] <= chat["rtt_ms"]["max"]
    assert 0 <= chat["cpu_steal_share"] <= 1
    assert live_server.proc is not None
    idle = await load.run_idle(live_server.ws_url, sessions=20, pid=live_server.proc.pid, hold=0.2)
    assert idle["sessions_open"] == 20 and idle["failures"] == 0, idle
    assert idle["ping_probe"] == "20/20" and idle["rss_after_mib"] > 0


def test_steal_is_the_share_of_the_time_that_passed() -> None:
    # user nice system idle iowait irq softirq steal (guest columns are inside user: not counted twice)
    before = [100, 0, 50, 800, 0, 0, 0, 50, 7, 0]
    after = [200, 0, 100, 900, 0, 0, 0, 100, 9, 0]
    assert load.steal_share(before, after) == 0.167  # 50 of the 300 ticks that passed
    assert load.steal_share(before, before) == 0.0


def test_gc_pauses_are_read_from_the_probe_after_the_ramp(tmp_path: Path) -> None:
    (tmp_path / "probe.42").write_text("1.0 2 99.0\n5.0 1 3.0\n6.0 2 20.0\n7.0 1 4.5\n")
    pauses = load.gc_pauses(tmp_path / "probe", 42, since=2.0)  # the 99 ms one was before measuring
    assert pauses == {"full_collections": 1, "full_ms_max": 20.0, "full_ms": [20.0],
                      "gen1_collections": 2, "gen1_ms_max": 4.5}
    assert "error" in load.gc_pauses(tmp_path / "probe", 43, since=0.0)


@pytest.mark.benchmark
@pytest.mark.parametrize("customers", [50, 200, 500])
def test_bench_chat_round_trip(customers: int) -> None:
    result = load.main(["chat", "--customers", str(customers), "--duration", "60"])
    assert result["replies"] > 0


@pytest.mark.benchmark
def test_bench_idle_sessions() -> None:
    result = load.main(["idle", "--sessions", "5000"])
    assert result["sessions_open"] > 0


@pytest.mark.benchmark
@pytest.mark.postgres
@pytest.mark.redis
def test_bench_cross_process_notification() -> None:
    result = load.main(["notify", "--rounds", "200"])
    assert result["errors"] == 0
