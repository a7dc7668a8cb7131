"""Thresholds a knowledge base derives from its own content, so nobody has to tune them.

An absolute cosine threshold fits one dataset and one model: on CLINC150-shaped articles (about 100
example questions each) covered questions score far above uncovered ones, on prose articles the two
overlap, and more articles raise every score. So the decision thresholds are read off the scores
the knowledge base, as it is now, gives to customer messages it does not answer: a bundled set of
250 off-topic messages (knowledge_base/data/offtopic.txt, CLINC150 train sentences, CC BY 3.0).

- `answer`: the top score needed to answer at once, the `ANSWER_QUANTILE` of those scores (a
  question must look more covered than nearly every off-topic message);
- `offer`: below the `OFFER_QUANTILE`, nothing is offered: the bot says it has no article.

Both quantiles were chosen on doc2dial val (`parley eval doc2dial` reports the sweep); the
thresholds themselves are recomputed from each knowledge base at every change (and per model,
since they are read off that model's scores). Votes from the desk may move the answer threshold
(`feedback_shift`): when customers mark answers near the threshold unhelpful, it rises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

OFFTOPIC_FILE = Path(__file__).with_name("data") / "offtopic.txt"
ANSWER_QUANTILE = 0.95
OFFER_QUANTILE = 0.50


@lru_cache(maxsize=1)
def offtopic_messages() -> tuple[str, ...]:
    lines = OFFTOPIC_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@dataclass(frozen=True)
class Calibration:
    answer: float
    offer: float
    generation: int
    negatives: int
    quantiles: dict[str, float] = field(default_factory=dict)

    def record(self) -> dict[str, object]:
        return {"answer_threshold": round(self.answer, 4), "offer_threshold": round(self.offer, 4),
                "negatives": self.negatives, "generation": self.generation,
                "offtopic_score_quantiles": {k: round(v, 4) for k, v in self.quantiles.items()}}


def calibrate(negative_scores: np.ndarray, generation: int, answer_quantile: float = ANSWER_QUANTILE,
              offer_quantile: float = OFFER_QUANTILE) -> Calibration:
    """Thresholds from the top scores of off-topic messages against this knowledge base."""
    scores = np.asarray(negative_scores, dtype=np.float64)
    if len(scores) == 0:  # an empty knowledge base answers nothing anyway
        return Calibration(1.0, 1.0, generation, 0)
    answer = float(np.quantile(scores, answer_quantile))
    offer = min(float(np.quantile(scores, offer_quantile)), answer)
    marks = {f"q{int(q * 100)}": float(np.quantile(scores, q)) for q in (0.5, 0.8, 0.9, 0.95, 0.98, 1.0)}
    return Calibration(answer, offer, generation, len(scores), marks)
