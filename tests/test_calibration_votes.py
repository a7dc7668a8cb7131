"""The desk's votes on answers given at once move the answer threshold (knowledge_base/calibration.py):
only once there are enough, only up, only as far as unhelpful answers just above it outweigh half the
helpful ones, never past the bound; an editor's override still wins, and the content's own threshold
stays readable."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base.calibration import (FEEDBACK_MAX_SHIFT, FEEDBACK_MIN_VOTES, calibrate, feedback_shift)

A = 0.5


def votes(*groups: tuple[int, float, bool]) -> list[tuple[float, bool]]:
    return [(score, helpful) for n, score, helpful in groups for _ in range(n)]


def test_too_few_votes_move_nothing() -> None:
    few = votes((FEEDBACK_MIN_VOTES - 1, A + 0.01, False))
    assert feedback_shift(few, A) == 0.0
    assert feedback_shift(few + [(0.9, True)], A) == pytest.approx(0.0101)


def test_unhelpful_answers_just_above_the_threshold_raise_it_to_just_above_them() -> None:
    v = votes((10, A + 0.02, False), (15, A + 0.3, True))
    assert feedback_shift(v, A) == pytest.approx(0.0201)


def test_helpful_answers_there_keep_it_where_the_content_put_it() -> None:
    v = votes((12, A + 0.005, True), (4, A + 0.01, False), (20, A + 0.3, True))  # 4 wrong < half of 12 right below them
    assert feedback_shift(v, A) == 0.0


def test_the_raise_stops_where_helpful_answers_begin_to_outweigh() -> None:
    v = votes((6, A + 0.01, False), (8, A + 0.03, True), (2, A + 0.05, False), (20, A + 0.4, True))
    assert feedback_shift(v, A) == pytest.approx(0.0101)  # past 0.53 it would turn 8 right answers into offers


def test_votes_below_the_threshold_or_far_above_it_change_nothing() -> None:
    v = votes((30, A - 0.05, False), (30, A + FEEDBACK_MAX_SHIFT + 0.01, False))
    assert feedback_shift(v, A) == 0.0


def test_the_raise_is_bounded() -> None:
    v = votes((40, A + FEEDBACK_MAX_SHIFT - 0.00001, False))
    assert feedback_shift(v, A) == pytest.approx(FEEDBACK_MAX_SHIFT)


def test_votes_apply_to_the_derived_thresholds_and_an_override_still_wins() -> None:
    cal = calibrate(np.linspace(0.1, 0.6, 250), generation=1)
    voted = cal.with_votes(votes((10, cal.answer + 0.01, False), (15, 0.9, True)))
    assert voted.answer == pytest.approx(cal.answer + 0.0101) and voted.offer == cal.offer
    assert voted.record()["feedback"] == {"votes": 25, "helpful": 15, "not_helpful": 10, "shift": 0.0101,
                                          "answer_from_content": round(cal.answer, 4)}
    assert cal.record()["feedback"] is None
    overridden = voted.with_override(0.7, 0.3)
    assert (overridden.answer, overridden.offer) == (0.7, 0.3)
    assert overridden.calibrated().answer == voted.answer  # what the content and the votes derived stays readable
    with pytest.raises(ValueError):
        voted.with_votes([])
