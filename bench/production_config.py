"""CLINC150 test figures for the production defaults exactly as configured (no re-tuning).

`parley eval clinc150` chooses k, thresholds and margin on val by its objective; this scores the
settings Parley actually ships with (app/config.py), so the README can show both honestly.

    .venv/bin/python -m bench.production_config
    PARLEY_EMBEDDING_BACKEND=onnx-int8 .venv/bin/python -m bench.production_config
"""

from __future__ import annotations

import json

from app.config import Settings
from bench import answer_quality as aq
from app.runtime import bot_config, make_embedder


def main() -> None:
    s = Settings()
    config = bot_config(s)
    embedder = make_embedder(s)
    data = aq.load_clinc()
    kb = aq.build_kb(embedder, data["train"], aggregate_k=s.aggregate_k, classifier_c=s.classifier_c)
    test = data["test"] + data["oos_test"]
    outcomes, confidences, timings = aq.run_respond(kb, test, config)
    report = {"dataset": "clinc150-production-config", "embedder": embedder.name,
              "model": {"base": s.embedding_model, "backend": s.embedding_backend}, "settings": {
        "aggregate_k": s.aggregate_k, "classifier_c": s.classifier_c, "answer_threshold": s.answer_threshold,
        "clarify_margin": s.clarify_margin,
        "out_of_scope_threshold": s.out_of_scope_threshold},
        "parley": aq.metrics([lbl for _, lbl in test], outcomes, confidences),
        "latency_ms": {k: aq.percentiles(v) for k, v in timings.items()}}
    path = aq.save(report)
    print(json.dumps(report, indent=2))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
