"""Fresh data: a fresh draw or a reserved split, quality on both, the gap with its interval, the flag."""

from __future__ import annotations

import json

import numpy as np
import pytest

import carpentry_kit as ck
from carpentry_kit.errors import SpecError
from carpentry_kit.measure.fresh import fresh_gap
from carpentry_kit.results.record import upgrade_record
from carpentry_kit.results.summary import format_record
from carpentry_kit.spec.load import load_spec

DIGITS_FRESH = """
spec_version: 1
benchmark: {name: digits-fresh, version: "1"}
datasets:
  - name: digits
    source: builtin:digits
    splits: {train: 0.7, test: 0.15, fresh: 0.15}
task: {workload: mlp-inference, params: {train_epochs: 3}}
metrics:
  - {name: test_accuracy, kind: quality, unit: fraction, goal: maximize, target: 0.5}
  - {name: throughput, kind: performance, unit: samples/s, goal: maximize}
protocol: {scenario: offline, repeats: 1}
"""

HEAT_FRESH = """
spec_version: 1
benchmark: {name: heat-fresh, version: "1"}
datasets:
  - name: heat-1d
    source: builtin:heat-1d
    fresh: {seed: 11, rows: 64}
task: {workload: heat-surrogate, params: {max_epochs: 2}}
metrics:
  - {name: rel_l2_error, kind: quality, unit: fraction, goal: minimize}
  - {name: throughput, kind: performance, unit: samples/s, goal: maximize}
protocol: {scenario: offline, repeats: 1}
"""


def test_a_reserved_split_gives_public_and_fresh_quality_and_the_gap_with_its_interval(tmp_path):
    result = ck.run(load_spec(DIGITS_FRESH), out=tmp_path, energy="estimate", progress=False)
    gap = result.record["fresh"]["metrics"]["test_accuracy"]
    assert gap["n_public"] == 270 and gap["n_fresh"] == 268  # 15% each of 1,797, stratified by class
    assert gap["gap"] == pytest.approx(gap["fresh"] - gap["public"])
    assert gap["gap_ci"][0] <= gap["gap"] <= gap["gap_ci"][1] and gap["gap_ci"][0] < gap["gap_ci"][1]
    assert gap["public"] == pytest.approx(result.metrics["test_accuracy"]["value"])
    assert gap["met_public"] is True and result.record["fresh"]["flagged"] is False
    stored = json.loads((tmp_path / "runs.jsonl").read_text().splitlines()[-1])
    assert stored["fresh"] == result.record["fresh"] and stored["record_version"] == 4
    assert "fresh data: test_accuracy" in format_record(stored)


def test_a_fresh_draw_of_the_heat_simulation_is_new_data_of_the_same_size_asked(tmp_path):
    result = ck.run(load_spec(HEAT_FRESH), out=tmp_path, energy="estimate", progress=False)
    gap = result.record["fresh"]["metrics"]["rel_l2_error"]
    assert gap["n_fresh"] == 64 and gap["n_public"] == 102
    assert gap["target"] is None and gap["met_public"] is None and not result.record["fresh"]["flagged"]


class _Scores:
    """Per-sample quality as a workload reports it: fixed 0/1 outcomes on each split."""

    def __init__(self, test: np.ndarray, fresh: np.ndarray) -> None:
        self.values = {"test": test, "fresh": fresh}

    def sample_quality(self, split: str) -> dict[str, np.ndarray]:
        return {"test_accuracy": self.values[split]}

    def quality_statistic(self, metric: str) -> str:
        return "mean"


def test_a_target_met_on_the_public_split_only_is_flagged_with_a_reason():
    spec = load_spec(DIGITS_FRESH.replace("target: 0.5", "target: 0.9"))
    test, fresh = np.r_[np.ones(190), np.zeros(10)], np.r_[np.ones(160), np.zeros(40)]  # 0.95 and 0.80
    section = fresh_gap(spec, _Scores(test, fresh))
    gap = section["metrics"]["test_accuracy"]
    assert (gap["public"], gap["fresh"]) == pytest.approx((0.95, 0.80))
    assert gap["gap_ci"][1] < 0  # 200 samples a side: a 15-point drop is well outside the noise
    assert section["flagged"] and "meets its target 0.9 on the public test split" in section["reason"]
    assert not fresh_gap(spec, _Scores(test, test))["flagged"]


def test_datasets_that_cannot_be_redrawn_are_refused_at_the_fields_line():
    text = DIGITS_FRESH.replace("splits: {train: 0.7, test: 0.15, fresh: 0.15}", "fresh: {seed: 3}")
    with pytest.raises(SpecError) as error:
        load_spec(text)
    message = str(error.value)
    assert "<text>:7:12:" in message and "datasets[0].fresh: cannot draw fresh data" in message
    assert "reserve a split instead" in message and "\n" not in message


def test_a_fresh_draw_with_the_tasks_own_seed_is_refused(tmp_path):
    spec = load_spec(HEAT_FRESH.replace("seed: 11", "seed: 0"))
    with pytest.raises(SpecError, match=r"<text>:7:19: datasets\[0\].fresh.seed: 0 is the task's seed"):
        ck.run(spec, out=tmp_path, energy="estimate", progress=False)
    assert not (tmp_path / "runs.jsonl").exists()  # bad input: nothing recorded


def test_records_of_version_3_read_as_having_no_fresh_data():
    old = {"record_version": 3, "benchmark": "b", "division": "open", "tuning": None}
    assert upgrade_record(old)["fresh"] is None and upgrade_record(old)["record_version"] == 4
