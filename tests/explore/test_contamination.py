"""The contamination demonstrations: a leaked test set and test-set tuning, each caught by fresh data."""

from __future__ import annotations

import pytest

from carpentry_kit.explore.contamination import demonstrate_lm_contamination, demonstrate_test_tuning

pytestmark = pytest.mark.slow  # about 20 s: many small models


def test_a_language_model_trained_on_its_test_text_is_found_out_by_fresh_text():
    demo = demonstrate_lm_contamination(reruns=3)
    for rerun in demo.reruns:
        assert rerun.public < 1.2  # the leaked test text is memorised, random tokens and all
        assert rerun.gap_ci[0] > 0  # fresh perplexity higher than public: the interval excludes 0
        assert rerun.public < rerun.baseline_public  # the clean model cannot predict the test's random tokens
    low, high = demo.mean_gap_ci
    assert 0 < low < demo.mean_gap < high


def test_the_best_of_many_configurations_chosen_on_the_test_split_scores_lower_on_fresh_data():
    demo = demonstrate_test_tuning(reruns=4, configurations=40)
    assert sum(rerun.gap < 0 for rerun in demo.reruns) >= 3
    assert demo.mean_gap < 0
    assert all(rerun.public >= rerun.baseline_public for rerun in demo.reruns)  # the winner of the test split
    assert "chosen on the test split" in demo.summary() and len(demo.rows()) == 4
