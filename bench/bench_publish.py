"""Publish → answerable latency on a 1,000-article knowledge base, across two server processes.

Two `parley serve` processes share one database and one Redis. Each trial creates a draft on
server A, publishes it there, then asks server B (the other process) until B's bot answers with
the new article; the figure is the time from sending the publish request to that first answer.
Archiving is measured the same way (until B stops answering with it).

    .venv/bin/python -m bench.bench_publish            # writes bench/results/publish.json
    .venv/bin/python -m pytest bench/bench_publish.py -m benchmark
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.harness import Client, LiveServer, free_port, is_type, run_cli, server_env  # noqa: E402

RESULTS = ROOT / "bench" / "results"
NOUNS = ["kettle", "sofa", "rug", "lamp", "blender", "mattress", "bookcase", "kayak", "tent", "bicycle", "drill",
         "printer", "speaker", "camera", "stroller", "desk", "wardrobe", "oven", "fridge", "heater", "guitar",
         "violin", "piano", "trumpet", "watch", "necklace", "backpack", "suitcase", "scooter", "treadmill"]
TOPICS = ["warranty claim", "spare parts", "assembly help", "cleaning guide", "return window", "delivery slots",
          "installation visit", "size guide", "colour options", "recycling the old one", "financing plan",
          "price match", "gift wrapping", "engraving service", "extended cover", "care plan", "recall notice",
          "safety check", "trade-in offer", "rental option", "repair booking", "user manual", "firmware update",
          "battery replacement", "noise complaint", "discount code", "click and collect", "stock alert",
          "missing screws", "stain removal", "international shipping", "bulk order", "student discount",
          "loyalty points", "express repair"]


def make_articles(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pairs = [(a, b) for a in NOUNS for b in TOPICS]
    random.Random(7).shuffle(pairs)
    for i, (noun, topic) in enumerate(pairs[:n]):
        body = (f"Everything about the {topic} for your {noun}. Our {noun} {topic} is handled by the home team. "
                f"Open your account, choose Orders, pick the {noun} and select {topic}. We reply within two working "
                f"days. Keep your receipt; the {topic} needs the order number. Article {i}.")
        (folder / f"a{i:04d}.md").write_text(
            f"---\nid: bench-{i:04d}\ntitle: {noun.title()} {topic}\ncategory: {noun.title()}\nquestions:\n"
            f"  - how does the {topic} work for a {noun}\n  - {noun} {topic}\n---\n{body}\n", encoding="utf-8")


def run(n_articles: int = 1000, trials: int = 10) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    redis_port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shared = {"PARLEY_DATABASE_URL": f"sqlite+aiosqlite:///{work}/parley.db",
              "PARLEY_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    servers: list[LiveServer] = []
    try:
        env = server_env(work / "cli", **shared)
        make_articles(work / "articles", n_articles)
        t = time.perf_counter()
        out = run_cli(["kb", "import", str(work / "articles")], env, timeout=1800)
        assert out.returncode == 0, out.stderr[-2000:]
        import_s = time.perf_counter() - t
        run_cli(["users", "create", "--email", "editor@bench.local", "--password", "bench-password", "--role", "editor"], env)
        (work / "a").mkdir()
        (work / "b").mkdir()
        a = LiveServer(work / "a", **shared).start(timeout=300)
        servers.append(a)
        b = LiveServer(work / "b", **shared).start(timeout=300)
        servers.append(b)
        api_a = httpx.Client(base_url=a.base_url, headers={"Authorization": f"Bearer {a.login('editor@bench.local', 'bench-password')}"}, timeout=30)
        api_b = httpx.Client(base_url=b.base_url, headers={"Authorization": f"Bearer {b.login('editor@bench.local', 'bench-password')}"}, timeout=30)
        total = len(api_a.get("/api/articles").json())
        publish_ms, answerable_ms, archive_ms = [], [], []
        for i in range(trials):
            aid = f"bench-new-{i}-{uuid.uuid4().hex[:6]}"
            word = ["zither", "ocarina", "sitar", "didgeridoo", "harmonium", "bagpipe", "banjo", "mandolin", "lute",
                    "marimba", "accordion", "kalimba"][i % 12]
            question = f"how do I book a {word} tuning session with a specialist"
            api_a.post("/api/articles", json={"id": aid, "title": f"{word.title()} tuning sessions",
                                              "body": f"Book a {word} tuning session with one of our specialists from the Services page.",
                                              "questions": [question]}).raise_for_status()
            t0 = time.perf_counter()
            api_a.post(f"/api/articles/{aid}/publish").raise_for_status()
            publish_ms.append((time.perf_counter() - t0) * 1000)
            while api_b.post("/api/articles/try", json={"text": question}).json()["article_id"] != aid:
                if time.perf_counter() - t0 > 10:
                    raise AssertionError("not answerable on the other process after 10 s")
            answerable_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            api_a.post(f"/api/articles/{aid}/archive").raise_for_status()
            while api_b.post("/api/articles/try", json={"text": question}).json()["article_id"] == aid:
                if time.perf_counter() - t0 > 10:
                    raise AssertionError("still answered on the other process 10 s after archiving")
            archive_ms.append((time.perf_counter() - t0) * 1000)
        # and the customer's path on the other process: publish on A, ask B over /ws/chat at once
        aid = f"bench-ws-{uuid.uuid4().hex[:6]}"
        q = "how do I book a theremin tuning session with a specialist"
        api_a.post("/api/articles", json={"id": aid, "title": "Theremin tuning sessions", "questions": [q],
                                          "body": "Book a theremin tuning session from the Services page."}).raise_for_status()

        async def ws_check() -> float:
            client = await Client.connect(f"{b.ws_url}/ws/chat")
            await client.wait_for(is_type("session"))
            t0 = time.perf_counter()
            api_a.post(f"/api/articles/{aid}/publish").raise_for_status()
            while True:
                await client.send({"type": "message", "text": q, "client_msg_id": uuid.uuid4().hex})
                reply = await client.wait_for(lambda f: f["type"] == "handoff" or (f["type"] == "message" and f["sender"] == "bot"))
                if reply.get("article") and reply["article"]["id"] == aid:
                    await client.close()
                    return (time.perf_counter() - t0) * 1000
                if reply["type"] == "handoff" or time.perf_counter() - t0 > 10:
                    raise AssertionError(f"/ws/chat on the other process did not answer with it: {reply}")

        ws_ms = asyncio.run(ws_check())
        p = lambda xs, q: round(sorted(xs)[min(len(xs) - 1, int(q * len(xs)))], 1)  # noqa: E731
        result = {
            "articles": total, "processes": 2, "database": "sqlite (shared file)", "broker": "redis",
            "trials": trials, "import_seconds": round(import_s, 1),
            "publish_request_ms": {"median": round(statistics.median(publish_ms), 1), "max": round(max(publish_ms), 1)},
            "publish_to_answerable_other_process_ms": {"median": round(statistics.median(answerable_ms), 1),
                                                       "p90": p(answerable_ms, 0.9), "max": round(max(answerable_ms), 1)},
            "archive_to_unanswerable_other_process_ms": {"median": round(statistics.median(archive_ms), 1),
                                                         "max": round(max(archive_ms), 1)},
            "publish_to_ws_chat_answer_other_process_ms": round(ws_ms, 1),
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "publish.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        return result
    finally:
        for s in servers:
            s.stop()
        redis.terminate()
        redis.wait(timeout=10)


@pytest.mark.benchmark
def test_publish_is_answerable_in_every_process_within_a_second() -> None:
    result = run()
    assert result["articles"] >= 1000
    assert result["publish_to_answerable_other_process_ms"]["max"] <= 1000, result  # type: ignore[index]
    assert result["archive_to_unanswerable_other_process_ms"]["max"] <= 1000, result  # type: ignore[index]
    assert result["publish_to_ws_chat_answer_other_process_ms"] <= 1000, result  # type: ignore[operator]


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
