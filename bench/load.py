"""Load generator for Parley: real websocket clients in this process, servers in others.

    python bench/load.py chat --customers 200 --duration 60     # customer message -> bot reply round trip
    python bench/load.py idle --sessions 5000                   # idle sessions held, server RSS per session
    python bench/load.py notify --rounds 200                    # escalation on process A -> agent on process B

Each subcommand starts the server processes it needs (`parley serve`, like the end-to-end tests),
seeds the demo data, runs, prints a summary and writes JSON to bench/results/<name>-<timestamp>.json.
`--url` points `chat` or `idle` at a server that is already running instead (`--pid` for its RSS).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import pyspy  # noqa: E402
from bench.harness import LiveServer, run_cli, server_env  # noqa: E402

RESULTS = ROOT / "bench" / "results"
QUESTIONS = [
    "how do I reset my password", "how do I cancel my order", "how do I buy a gift card",
    "how do I clean a wool rug", "how do I change my email address", "what bulb does my lamp take",
    "how does click and collect work", "can I send an e-gift card by email", "can I change my order after placing it",
    "how do I know when an item is back in stock",
]


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": round(ordered[-1], 2),
            "mean": round(sum(ordered) / len(ordered), 2)}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1_048_576
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))  # inherited by the servers we start
    return target


def seed(data_dir: Path, **env: str) -> None:
    result = run_cli(["demo"], server_env(data_dir, **env), timeout=900)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "loadavg_at_end": os.getloadavg()}
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def bench_env(args: argparse.Namespace) -> dict[str, str]:
    env = {"PARLEY_MESSAGES_PER_MINUTE": "100000"}
    if args.model:
        env["PARLEY_EMBEDDING_MODEL"] = args.model
    if getattr(args, "gc_probe", None):
        env["PARLEY_BENCH_GC_PROBE"] = str(args.gc_probe)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "bench" / "gcprobe"), os.environ.get("PYTHONPATH")) if p)
    return env


def gc_pauses(probe: Path, pid: int, since: float) -> dict[str, Any]:
    """The server's collections of generations 1 and 2 after `since` (time.monotonic), from the probe."""
    try:
        lines = Path(f"{probe}.{pid}").read_text().splitlines()
    except OSError:
        return {"error": "no probe output (was the server started by this run?)"}
    rows = [(float(t), int(g), float(ms)) for t, g, ms in (line.split() for line in lines) if float(t) >= since]
    full, gen1 = ([ms for _, g, ms in rows if g == gen] for gen in (2, 1))
    return {"full_collections": len(full), "full_ms_max": max(full, default=0.0), "full_ms": full,
            "gen1_collections": len(gen1), "gen1_ms_max": max(gen1, default=0.0)}


def start_sqlite_server(stack: ExitStack, args: argparse.Namespace) -> LiveServer:
    data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="parley-bench-")))
    env = bench_env(args)
    seed(data, **env)
    server = LiveServer(data, **env).start(timeout=300)
    stack.callback(server.stop)
    return server


# ---------------------------------------------------------------------------------------- chat
async def chat_customer(url: str, stop_at: float, think: float, rtts: list[float], errors: list[str],
                        counter: itertools.count) -> None:  # type: ignore[type-arg]
    while time.monotonic() < stop_at:
        try:
            async with websockets.connect(url + "/ws/chat", open_timeout=30, ping_interval=None, max_queue=None) as ws:
                session = json.loads(await ws.recv())
                assert session["type"] == "session"
                while time.monotonic() < stop_at:
                    cmid = f"b{next(counter)}"
                    started = time.perf_counter()
                    await ws.send(json.dumps({"type": "message", "text": random.choice(QUESTIONS), "client_msg_id": cmid}))
                    handed_off = False
                    while True:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                        if frame["type"] == "error":
                            errors.append(frame.get("code", "error"))
                            break
                        if frame["type"] == "message" and frame.get("sender") == "bot":
                            rtts.append((time.perf_counter() - started) * 1000)
                            break
                        if frame["type"] == "handoff":  # escalated: the bot's answer is the handoff
                            rtts.append((time.perf_counter() - started) * 1000)
                            handed_off = True
                            break
                    if handed_off:
                        break  # the bot no longer answers here: start a new conversation
                    await asyncio.sleep(think * (0.5 + random.random()))
        except (OSError, asyncio.TimeoutError, websockets.WebSocketException, AssertionError) as exc:
            errors.append(type(exc).__name__)
            await asyncio.sleep(0.5)


def cpu_ticks() -> list[int]:
    """The machine's CPU time by kind since boot (/proc/stat's first line: user nice system idle
    iowait irq softirq steal ...), in clock ticks."""
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def steal_share(before: list[int], after: list[int]) -> float:
    """Of the CPU time that passed, the share the hypervisor gave to other machines (steal): on a
    shared virtual machine the latency tail follows it, whatever the code does."""
    spent = [b - a for a, b in zip(before, after)]
    return round(spent[7] / max(sum(spent[:8]), 1), 3) if len(spent) > 7 else 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all its threads (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_chat(url: str, customers: int, duration: float, think: float, ramp: float, pid: int | None = None,
                   profile: Path | None = None) -> dict[str, Any]:
    rtts: list[float] = []
    errors: list[str] = []
    counter = itertools.count()
    start = time.monotonic()
    stop_at = start + ramp + duration

    async def delayed(i: int) -> None:
        await asyncio.sleep(ramp * i / max(customers, 1))
        await chat_customer(url, stop_at, think, rtts, errors, counter)

    # the ramp spreads the connects; measure only the steady part
    tasks = [asyncio.create_task(delayed(i)) for i in range(customers)]
    await asyncio.sleep(ramp)
    rtts.clear()
    errors.clear()
    measured_from = time.monotonic()
    own_cpu, server_cpu = time.process_time(), cpu_seconds(pid) if pid else None
    ticks = cpu_ticks()
    spy = pyspy.start(pid, duration - 1, profile) if profile and pid else None
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - measured_from
    own_cpu = time.process_time() - own_cpu
    server_used = cpu_seconds(pid) - server_cpu if pid and server_cpu is not None else None
    result: dict[str, Any] = {
        "customers": customers, "duration_s": duration, "think_s": think, "replies": len(rtts),
        "replies_per_s": round(len(rtts) / elapsed, 1), "rtt_ms": percentiles(rtts),
        "errors": len(errors), "error_kinds": sorted(set(errors)),
        # CPU over the measured part, in cores (1.0 = one core busy all the time)
        "cpu_cores": {"load_generator": round(own_cpu / elapsed, 2),
                      "server": round(server_used / elapsed, 2) if server_used is not None else None},
        "cpu_steal_share": steal_share(ticks, cpu_ticks())}
    if server_used is not None and rtts:  # what one reply costs the server, whatever else runs on the box
        result["server_cpu_ms_per_reply"] = round(server_used * 1000 / len(rtts), 2)
    if spy is not None and profile is not None:
        await asyncio.to_thread(spy.wait, 60)
        if profile.exists():
            result["profile"] = {"raw": str(profile.relative_to(ROOT)) if profile.is_relative_to(ROOT) else str(profile),
                                 **pyspy.summarise(profile)}
    return result


def cmd_chat(args: argparse.Namespace) -> dict[str, Any]:
    raise_fd_limit()
    with ExitStack() as stack:
        server = None if args.url else start_sqlite_server(stack, args)
        url = args.url or server.ws_url  # type: ignore[union-attr]
        pid = args.pid or (server.proc.pid if server and server.proc else None)
        profile = (RESULTS / f"{args.name or 'chat'}-{time.strftime('%Y%m%d-%H%M%S')}.pyspy.txt") if args.profile else None
        measuring_from = time.monotonic() + args.ramp  # the probe's clock: the same monotonic one
        result = {"bench": "chat", "server": args.server or ("1 process, SQLite, in-process broker" if server
                                                              else f"already running at {url}"), **run(
            run_chat(url, args.customers, args.duration, args.think, args.ramp, pid, profile))}
        if args.gc_probe and server is not None and pid:
            result["gc_pauses"] = gc_pauses(args.gc_probe, pid, measuring_from)
    return result


def run(main: Any) -> Any:
    """The load generator's own event loop: uvloop when installed (less of the shared CPU for it)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


# ---------------------------------------------------------------------------------------- idle
async def run_idle(url: str, sessions: int, pid: int, hold: float) -> dict[str, Any]:
    before = rss_kib(pid)
    sockets: list[Any] = []
    failures: list[str] = []
    sem = asyncio.Semaphore(100)

    async def open_one() -> None:
        async with sem:
            try:
                ws = await websockets.connect(url + "/ws/chat", open_timeout=60, ping_interval=None)
                frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                assert frame["type"] == "session"
                sockets.append(ws)
            except Exception as exc:  # noqa: BLE001 - every failure counts, whatever its kind
                failures.append(type(exc).__name__)

    started = time.monotonic()
    await asyncio.gather(*(open_one() for _ in range(sessions)))
    opened_in = time.monotonic() - started
    await asyncio.sleep(hold)
    alive = sum(1 for ws in sockets if ws.state == websockets.protocol.State.OPEN)
    # every held session still answers a ping through the server's application code
    probe = random.sample(sockets, min(50, len(sockets)))
    pongs = 0
    for ws in probe:
        try:
            await ws.send(json.dumps({"type": "ping"}))
            if json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "pong":
                pongs += 1
        except Exception:  # noqa: BLE001
            pass
    after = rss_kib(pid)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {"sessions_requested": sessions, "sessions_open": alive, "failures": len(failures),
            "failure_kinds": sorted(set(failures)), "open_seconds": round(opened_in, 1),
            "rss_before_mib": round(before / 1024, 1), "rss_after_mib": round(after / 1024, 1),
            "rss_per_session_kib": round((after - before) / max(alive, 1), 1),
            "ping_probe": f"{pongs}/{len(probe)}"}


def cmd_idle(args: argparse.Namespace) -> dict[str, Any]:
    limit = raise_fd_limit()
    with ExitStack() as stack:
        if args.url:
            url, pid = args.url, args.pid
        else:
            server = start_sqlite_server(stack, args)
            url, pid = server.ws_url, server.proc.pid  # type: ignore[union-attr]
        result = {"bench": "idle", "server": "1 process, SQLite, in-process broker", "fd_limit": limit,
                  **asyncio.run(run_idle(url, args.sessions, pid, args.hold))}
    return result


# ---------------------------------------------------------------------------------------- notify
async def run_notify(a: LiveServer, b: LiveServer, rounds: int) -> dict[str, Any]:
    token = b.login("agent@parley.local")
    case_ms: list[float] = []
    queue_ms: list[float] = []
    errors: list[str] = []
    async with websockets.connect(b.ws_url + f"/ws/agent?token={token}", ping_interval=None, max_queue=None) as agent:
        frames: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()

        async def read_agent() -> None:
            async for raw in agent:
                frames.put_nowait((time.perf_counter(), json.loads(raw)))

        reader = asyncio.create_task(read_agent())
        await asyncio.sleep(1.0)
        for _ in range(rounds):
            while not frames.empty():
                frames.get_nowait()
            try:
                async with websockets.connect(a.ws_url + "/ws/chat", ping_interval=None) as customer:
                    conv_id = json.loads(await customer.recv())["conversation_id"]
                    await asyncio.sleep(0.05)
                    started = time.perf_counter()
                    await customer.send(json.dumps({"type": "request_human"}))
                    got_case = got_queue = None
                    deadline = time.monotonic() + 10
                    while (got_case is None or got_queue is None) and time.monotonic() < deadline:
                        at, frame = await asyncio.wait_for(frames.get(), deadline - time.monotonic())
                        if frame["type"] == "case" and frame["case"]["conversation_id"] == conv_id and got_case is None:
                            got_case = at
                        if frame["type"] == "queue" and got_queue is None and any(
                                c["conversation_id"] == conv_id for c in frame["cases"]):
                            got_queue = at
                    if got_case is None or got_queue is None:
                        errors.append("missing")
                        continue
                    case_ms.append((got_case - started) * 1000)
                    queue_ms.append((got_queue - started) * 1000)
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
                errors.append(type(exc).__name__)
        reader.cancel()
    return {"rounds": rounds, "case_frame_ms": percentiles(case_ms), "queue_snapshot_ms": percentiles(queue_ms),
            "errors": len(errors), "error_kinds": sorted(set(errors))}


def cmd_notify(args: argparse.Namespace) -> dict[str, Any]:
    from bench.services import OwnPostgres, OwnRedis

    with ExitStack() as stack:
        pg, redis = OwnPostgres().init(), OwnRedis()
        stack.callback(pg.destroy)
        stack.callback(redis.destroy)
        pg.start()
        redis.start()
        env = {**bench_env(args), "PARLEY_DATABASE_URL": pg.url, "PARLEY_REDIS_URL": redis.url,
               "PARLEY_REDIS_PREFIX": f"bench-{uuid.uuid4().hex[:6]}:"}
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="parley-bench-")))
        for name in ("seed", "a", "b"):
            (base / name).mkdir()
        seed(base / "seed", **env)
        a, b = LiveServer(base / "a", **env), LiveServer(base / "b", **env)
        stack.callback(a.stop)
        stack.callback(b.stop)
        a.start(timeout=300)
        b.start(timeout=300)
        result = {"bench": "notify", "server": "2 processes, PostgreSQL + Redis (own instances on loopback)",
                  **asyncio.run(run_notify(a, b, args.rounds))}
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="PARLEY_EMBEDDING_MODEL for the servers (default: MiniLM)")
    parser.add_argument("--name", default=None, help="result file name prefix")
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="customer message -> bot reply round trip")
    chat.add_argument("--customers", type=int, default=50)
    chat.add_argument("--duration", type=float, default=30)
    chat.add_argument("--think", type=float, default=1.0, help="mean pause between a reply and the next message")
    chat.add_argument("--ramp", type=float, default=5.0, help="seconds to connect everyone (not measured)")
    chat.add_argument("--url", default=None, help="ws://host:port of a running server")
    chat.add_argument("--server", default=None, help="what that running server is, for the result file")
    chat.add_argument("--pid", type=int, default=None, help="that server's process id (CPU share, --profile)")
    chat.add_argument("--gc-probe", type=Path, default=None, metavar="FILE",
                      help="record the server's garbage-collection pauses (bench/gcprobe) to FILE.<pid>")
    chat.add_argument("--profile", action="store_true", help="sample the server with py-spy while measuring "
                      "(raw stacks next to the result; top functions in it)")
    idle = sub.add_parser("idle", help="idle sessions held by one process, RSS per session")
    idle.add_argument("--sessions", type=int, default=5000)
    idle.add_argument("--hold", type=float, default=5.0)
    idle.add_argument("--url", default=None)
    idle.add_argument("--pid", type=int, default=None)
    notify = sub.add_parser("notify", help="escalation on process A -> agent on process B")
    notify.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    load_at_start = os.getloadavg()
    result = {"chat": cmd_chat, "idle": cmd_idle, "notify": cmd_notify}[args.command](args)
    result["command"] = "python bench/load.py " + " ".join(argv if argv is not None else sys.argv[1:])
    result["loadavg_at_start"] = load_at_start
    path = write_result(args.name or args.command, result)
    print(json.dumps(result, indent=2))
    print(f"written to {path}")
    return result


if __name__ == "__main__":
    main()
