"""Contrastive fine-tuning of the embedding model on articles' example questions (the real MiniLM)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge_base.embedder import PACKAGED_MODEL, SentenceTransformerEmbedder
from knowledge_base.tuning import tune_model

GROUPS = {
    "refund": ["how do I get my money back", "I want a refund", "refund my order please"],
    "password": ["I forgot my password", "reset my password", "cannot log in, lost password"],
    "shipping": ["where is my parcel", "when will my order arrive", "track my delivery"],
}


def test_tuning_saves_a_model_that_loads_and_embeds_differently(tmp_path: Path) -> None:
    report = tune_model(PACKAGED_MODEL, GROUPS, tmp_path / "tuned", steps=2, lr=1e-4, batch_articles=3, seed=1)
    assert report.articles == 3 and report.examples == 9 and report.steps == 2
    assert json.loads((tmp_path / "tuned" / "parley_tuning.json").read_text())["steps"] == 2
    texts = ["I want a refund", "track my delivery"]
    base = SentenceTransformerEmbedder(PACKAGED_MODEL).encode(texts)
    tuned = SentenceTransformerEmbedder(str(tmp_path / "tuned")).encode(texts)
    assert tuned.shape == base.shape
    assert np.allclose(np.linalg.norm(tuned, axis=1), 1, atol=1e-4)
    assert float(np.abs(tuned - base).max()) > 1e-4  # the weights really moved


def test_tuning_needs_pairs() -> None:
    with pytest.raises(ValueError):
        tune_model(PACKAGED_MODEL, {"only": ["one question"], "other": ["a", "b"]}, "/nonexistent", steps=1)
