"""How long an event takes to reach a webhook receiver, and what webhooks cost the chat path.

Starts `parley serve` twice on the demo data (SQLite, in-process broker, default settings but
PARLEY_WEBHOOK_ALLOW_PRIVATE=true for the local receiver): once without any endpoint, once with one
subscribed to every event. Each time a client sends `--messages` customer messages over the REST
channel, one after another, and records the REST round trip (the message stored, the bot's answer
decided); with the endpoint it also records, per message, the time from the REST answer to the
receiver getting that message's `message.created` delivery. Writes JSON to bench/results/.

    python bench/webhook_lag.py --messages 100
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.harness import LiveServer, free_port, run_cli, server_env  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else float("nan")


def receiver() -> tuple[ThreadingHTTPServer, dict[tuple[str, int], float]]:
    arrivals: dict[tuple[str, int], float] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            if body["type"] == "message.created":
                key = (body["data"]["conversation"]["id"], body["data"]["event"]["seq"])
                arrivals.setdefault(key, time.monotonic())
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, arrivals


def run(data: Path, messages: int, with_hook: bool) -> dict[str, Any]:
    server = LiveServer(data, PARLEY_WEBHOOK_ALLOW_PRIVATE="true").start(timeout=300)
    hook_server, arrivals = receiver()
    try:
        admin = httpx.Client(base_url=server.base_url, timeout=30,
                             headers={"Authorization": f"Bearer {server.login('admin@parley.local')}"})
        if with_hook:
            r = admin.post("/api/admin/webhooks", json={"url": f"http://127.0.0.1:{hook_server.server_port}/",
                                                        "events": ["*"]})
            r.raise_for_status()
        token = admin.post("/api/admin/tokens", json={"name": "bench", "scopes": ["conversations:write"]}).json()["token"]
        api = httpx.Client(base_url=server.base_url, timeout=30, headers={"Authorization": f"Bearer {token}"})
        questions = ["How do I reset my password?", "Where is my order?", "Can I return a rug?", "thanks"]
        round_trips: list[float] = []
        sent: list[tuple[tuple[str, int], float]] = []
        conv = ""
        for i in range(messages):
            if i % len(questions) == 0:
                conv = api.post("/api/v1/conversations", json={}).json()["conversation_id"]
            start = time.monotonic()
            r = api.post(f"/api/v1/conversations/{conv}/messages", json={"text": questions[i % len(questions)]})
            done = time.monotonic()
            r.raise_for_status()
            round_trips.append((done - start) * 1000)
            sent.append(((conv, r.json()["message"]["seq"]), done))
        lags: list[float] = []
        if with_hook:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and any(k not in arrivals for k, _ in sent):
                time.sleep(0.1)
            lags = [(arrivals[k] - t) * 1000 for k, t in sent if k in arrivals]
        return {"with_webhook": with_hook, "messages": messages,
                "rest_round_trip_ms": {"p50": pct(round_trips, 0.5), "p95": pct(round_trips, 0.95),
                                       "p99": pct(round_trips, 0.99)},
                "delivered": len(lags),
                "delivery_lag_ms": {"p50": pct(lags, 0.5), "p95": pct(lags, 0.95), "max": round(max(lags), 1)}
                if lags else None}
    finally:
        hook_server.shutdown()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template"
        seeded = run_cli(["demo"], server_env(template), timeout=900)
        if seeded.returncode != 0:
            raise SystemExit(seeded.stderr[-2000:])
        import shutil

        results = []
        for with_hook in (False, True):
            data = Path(tmp) / f"run-{with_hook}"
            shutil.copytree(template, data)
            results.append(run(data, args.messages, with_hook))
    out = {"command": "python bench/webhook_lag.py " + " ".join(sys.argv[1:]), "load_average": os.getloadavg(),
           "results": results}
    path = ROOT / "bench" / "results" / f"webhook-lag-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
