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

import time
from dataclasses import dataclass, field, replace
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


HISTOGRAM_BINS = 20  # of the off-topic scores over 0..1, for the editors' calibration page


@dataclass(frozen=True)
class Calibration:
    answer: float
    offer: float
    generation: int
    negatives: int
    quantiles: dict[str, float] = field(default_factory=dict)
    computed_at: float = 0.0  # Unix time of the computation
    answer_quantile: float = ANSWER_QUANTILE
    offer_quantile: float = OFFER_QUANTILE
    summary: dict[str, float] = field(default_factory=dict)  # min, mean, std, max of the off-topic scores
    histogram: tuple[int, ...] = ()  # off-topic scores per 1/HISTOGRAM_BINS of 0..1
    # Set by an editor's override (`overridden`): `answer` and `offer` are then the editor's and
    # these keep what the knowledge base derived.
    calibrated_answer: float | None = None
    calibrated_offer: float | None = None

    @property
    def overridden(self) -> bool:
        return self.calibrated_answer is not None

    def with_override(self, answer: float, offer: float) -> "Calibration":
        """These thresholds deciding instead of the derived ones, which stay readable."""
        base = self.calibrated()
        return replace(base, answer=answer, offer=min(offer, answer), calibrated_answer=base.answer,
                       calibrated_offer=base.offer)

    def calibrated(self) -> "Calibration":
        """The thresholds as derived, whatever an editor set."""
        if not self.overridden:
            return self
        return replace(self, answer=self.calibrated_answer, offer=self.calibrated_offer,  # type: ignore[arg-type]
                       calibrated_answer=None, calibrated_offer=None)

    def record(self) -> dict[str, object]:
        """The derived thresholds and how they were derived (an override is not in it)."""
        cal = self.calibrated()
        return {"answer_threshold": round(cal.answer, 4), "offer_threshold": round(cal.offer, 4),
                "negatives": cal.negatives, "generation": cal.generation,
                "offtopic_score_quantiles": {k: round(v, 4) for k, v in cal.quantiles.items()},
                "answer_quantile": cal.answer_quantile, "offer_quantile": cal.offer_quantile,
                "offtopic_score_summary": {k: round(v, 4) for k, v in cal.summary.items()},
                "offtopic_score_histogram": list(cal.histogram),
                "computed_at": cal.computed_at or None}


def calibrate(negative_scores: np.ndarray, generation: int, answer_quantile: float = ANSWER_QUANTILE,
              offer_quantile: float = OFFER_QUANTILE) -> Calibration:
    """Thresholds from the top scores of off-topic messages against this knowledge base."""
    scores = np.asarray(negative_scores, dtype=np.float64)
    now = time.time()
    if len(scores) == 0:  # an empty knowledge base answers nothing anyway
        return Calibration(1.0, 1.0, generation, 0, computed_at=now, answer_quantile=answer_quantile,
                           offer_quantile=offer_quantile)
    answer = float(np.quantile(scores, answer_quantile))
    offer = min(float(np.quantile(scores, offer_quantile)), answer)
    marks = {f"q{int(q * 100)}": float(np.quantile(scores, q)) for q in (0.5, 0.8, 0.9, 0.95, 0.98, 1.0)}
    summary = {"min": float(scores.min()), "mean": float(scores.mean()), "std": float(scores.std()),
               "max": float(scores.max())}
    counts, _ = np.histogram(np.clip(scores, 0.0, 1.0), bins=HISTOGRAM_BINS, range=(0.0, 1.0))
    return Calibration(answer, offer, generation, len(scores), marks, now, answer_quantile, offer_quantile,
                       summary, tuple(int(c) for c in counts))
