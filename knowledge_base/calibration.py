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
since they are read off that model's scores).

Votes from the desk then move the answer threshold (`feedback_shift`, `Calibration.with_votes`):
customers' helpful / not helpful votes on answers the bot gave at once are labelled points on this
knowledge base's own score scale. Raising the threshold past an answer turns it into an offer ("I
found these"): a wrong answer offered costs nothing (the customer sees it is not theirs), a right one
costs a click. So the threshold rises to where the unhelpful answers below it outweigh half the
helpful ones, once enough votes say so, and never by more than `FEEDBACK_MAX_SHIFT`. Votes only
raise it: answers the bot did not give have no votes on their own score.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

OFFTOPIC_FILE = Path(__file__).with_name("data") / "offtopic.txt"
ANSWER_QUANTILE = 0.95
OFFER_QUANTILE = 0.50

FEEDBACK_MIN_VOTES = 20  # votes on answers given at once before they move anything
FEEDBACK_MIN_GAIN = 3.0  # net answers a move must win (a couple of stray votes move nothing)
FEEDBACK_MAX_SHIFT = 0.08  # the furthest votes raise the answer threshold
OFFERED_RIGHT = 0.5  # a right article offered instead of answered: worth half (one more click)


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
    # Set by `with_votes`: the answer threshold the content alone gave, and the votes that moved it.
    feedback: dict[str, float] = field(default_factory=dict)

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

    def with_votes(self, votes: "Sequence[tuple[float, bool]]") -> "Calibration":
        """The derived thresholds moved by the desk's votes on answers given at once, (score, helpful)
        each; the content's own answer threshold and the votes stay readable in `feedback`."""
        if self.overridden or self.feedback:
            raise ValueError("votes apply to the thresholds the content derived, once")
        shift = feedback_shift(votes, self.answer)
        helpful = sum(1 for _, h in votes if h)
        feedback = {"votes": len(votes), "helpful": helpful, "not_helpful": len(votes) - helpful,
                    "shift": shift, "answer_from_content": self.answer}
        return replace(self, answer=min(1.0, self.answer + shift), feedback=feedback)

    def record(self) -> dict[str, object]:
        """The derived thresholds and how they were derived (an override is not in it)."""
        cal = self.calibrated()
        return {"answer_threshold": round(cal.answer, 4), "offer_threshold": round(cal.offer, 4),
                "negatives": cal.negatives, "generation": cal.generation,
                "offtopic_score_quantiles": {k: round(v, 4) for k, v in cal.quantiles.items()},
                "answer_quantile": cal.answer_quantile, "offer_quantile": cal.offer_quantile,
                "offtopic_score_summary": {k: round(v, 4) for k, v in cal.summary.items()},
                "offtopic_score_histogram": list(cal.histogram),
                "computed_at": cal.computed_at or None,
                "feedback": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in cal.feedback.items()} or None}


def feedback_shift(votes: Sequence[tuple[float, bool]], answer: float) -> float:
    """How far the desk's votes raise the answer threshold: 0 until `FEEDBACK_MIN_VOTES` votes, then
    the raise (up to `FEEDBACK_MAX_SHIFT`) that gains the most, if it gains `FEEDBACK_MIN_GAIN`.

    Raising it past an answer scored s gains 1 where that answer was voted unhelpful (a wrong answer
    becomes an offer) and loses 1 - OFFERED_RIGHT where it was voted helpful (a right answer becomes
    an offer). Votes below `answer` are offers either way and change nothing."""
    if len(votes) < FEEDBACK_MIN_VOTES:
        return 0.0
    near = sorted((s, h) for s, h in votes if answer <= s < answer + FEEDBACK_MAX_SHIFT)
    gain, best, best_gain = 0.0, 0.0, 0.0
    for i, (score, helpful) in enumerate(near):
        gain += -(1.0 - OFFERED_RIGHT) if helpful else 1.0
        if i + 1 < len(near) and near[i + 1][0] == score:
            continue  # a threshold cannot fall between votes on the same score
        if gain > best_gain:  # the threshold just above this vote's score
            best, best_gain = min(score + 1e-4 - answer, FEEDBACK_MAX_SHIFT), gain
    return best if best_gain >= FEEDBACK_MIN_GAIN else 0.0


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
