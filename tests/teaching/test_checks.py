"""The feedback helpers of the graded exercises: quiet when right, one helpful AssertionError when wrong."""

from __future__ import annotations

import pytest

from carpentry_kit import checks


def test_check_close_accepts_within_tolerance_and_explains_a_miss():
    checks.check_close("x", 1.0 + 1e-9, 1.0)
    with pytest.raises(AssertionError, match=r"`x` is 2 but should be 1 \(2x the expected value\)"):
        checks.check_close("x", 2.0, 1.0)


def test_check_number_rejects_text_and_nan():
    with pytest.raises(AssertionError, match="not a number"):
        checks.check_number("x", "fast")
    with pytest.raises(AssertionError, match="finite number"):
        checks.check_number("x", float("nan"))


def test_check_samples_counts_and_signs():
    assert checks.check_samples("s", [0.1, 0.2], count=2) == [0.1, 0.2]
    with pytest.raises(AssertionError, match="has 1 values but should have 2"):
        checks.check_samples("s", [0.1], count=2)
    with pytest.raises(AssertionError, match="<= 0"):
        checks.check_samples("s", [0.1, -0.2])


def test_check_raises_reports_wrong_or_missing_exception():
    checks.check_raises("f", lambda: int("x"), ValueError)
    with pytest.raises(AssertionError, match="did not raise ValueError"):
        checks.check_raises("f", lambda: 1, ValueError)
    with pytest.raises(AssertionError, match="raised ZeroDivisionError"):
        checks.check_raises("f", lambda: 1 / 0, ValueError)


def test_check_plot_labelled_needs_title_labels_and_units():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    with pytest.raises(AssertionError, match="no title"):
        checks.check_plot_labelled(fig)
    ax.set_title("latency")
    ax.set_xlabel("repeat (-)")
    ax.set_ylabel("latency")
    with pytest.raises(AssertionError, match="y-axis label 'latency' .* has no unit"):
        checks.check_plot_labelled(ax)
    ax.set_ylabel("latency [ms]")
    checks.check_plot_labelled(fig)
    plt.close(fig)


def test_check_spec_valid_lists_each_problem():
    good = {
        "benchmark": {"name": "mm", "domain": "Computer Systems"},
        "task": {"workload": "matmul"},
        "metrics": [{"name": "gflops", "kind": "performance", "unit": "GFLOP/s", "goal": "maximize"}],
    }
    assert checks.check_spec_valid(good).benchmark.name == "mm"
    bad = {**good, "benchmark": {"name": "mm", "domain": "Computer Sistems"}}
    with pytest.raises(AssertionError, match="benchmark.domain: .*did you mean 'Computer Systems'"):
        checks.check_spec_valid(bad)
    with pytest.raises(AssertionError, match="does not exist"):
        checks.check_spec_valid("no-such-spec.yaml")


def test_check_energy_honest_refuses_an_estimate_called_a_measurement():
    estimate = {"method": "estimate", "measured": False, "layer": "device", "total_j": 3.0}
    checks.check_energy_honest(estimate)
    with pytest.raises(AssertionError, match="estimate is marked as measured"):
        checks.check_energy_honest({**estimate, "measured": True})
    with pytest.raises(AssertionError, match="no method"):
        checks.check_energy_honest({**estimate, "method": None})


def test_check_energy_honest_needs_a_known_layer():
    from carpentry_kit.energy import make_meter

    with make_meter("estimate").window() as window:
        sum(range(200_000))
    checks.check_energy_honest(window.reading)  # a real reading names its layer
    reading = {"method": "rapl", "measured": True, "total_j": 3.0}
    with pytest.raises(AssertionError, match="has no layer — say what it covers: one of device, node"):
        checks.check_energy_honest(reading)
    with pytest.raises(AssertionError, match="has the layer 'cpu'"):
        checks.check_energy_honest({**reading, "layer": "cpu"})


RECORD = {
    "spec_hash": "ab12",
    "validity": "VALID",
    "overrides": {"task.params.size": 64},
    "energy": {"method": "estimate", "measured": False},
}
FIELDS = {"spec_hash": "spec_hash", "energy_measured": "energy.measured"}


def test_check_record_fields_names_the_key_and_where_to_read_it():
    checks.check_record_fields("p", {"spec_hash": "ab12", "energy_measured": False}, RECORD, FIELDS)
    with pytest.raises(AssertionError, match=r"`p` has no key 'energy_measured' — .*record\['energy'\]"):
        checks.check_record_fields("p", {"spec_hash": "ab12"}, RECORD, FIELDS)
    with pytest.raises(AssertionError, match=r"`p\['energy_measured'\]` is 0 but the record says False"):
        checks.check_record_fields("p", {"spec_hash": "ab12", "energy_measured": 0}, RECORD, FIELDS)
    with pytest.raises(AssertionError, match="`p` is a list"):
        checks.check_record_fields("p", [], RECORD, FIELDS)


def test_check_run_overrides_says_what_to_pass():
    checks.check_run_overrides(RECORD, {"task.params.size": 64})
    with pytest.raises(AssertionError, match=r"used the overrides \{\} .* pass overrides="):
        checks.check_run_overrides({**RECORD, "overrides": {}}, {"task.params.size": 64})


def test_check_result_valid_gives_the_reasons():
    checks.check_result_valid({"status": "completed", "validity": "VALID", "reasons": []})
    invalid = {"status": "completed", "validity": "INVALID", "reasons": ["time budget exceeded"]}
    with pytest.raises(AssertionError, match="INVALID: time budget exceeded"):
        checks.check_result_valid(invalid)


def test_check_rating_at_least_lists_advice_from_the_real_rubric():
    import carpentry_kit as ck

    rating = ck.rate_spec(ck.load_spec(ck.example_spec_path("matmul")))
    checks.check_rating_at_least(rating, rating.total)
    with pytest.raises(AssertionError, match=rf"rates {rating.total}/30, below the required 30"):
        checks.check_rating_at_least(rating, 30)


def test_cases_give_partial_credit_and_report_every_failure(capsys):
    cases = checks.Cases(2, needs={"f": "task 1"})
    with cases.case("passes"):
        checks.check_close("x", 1.0, 1.0)
    with cases.case("fails"):
        checks.check_close("x", 2.0, 1.0)
    with cases.case("undefined"):
        f()  # noqa: F821 - a learner's task not done yet
    assert cases.score() == 0.667
    out = capsys.readouterr().out
    assert "1 of 3 checks pass: 0.667 of 2 points" in out and "`x` is 2 but should be 1" in out
    assert "`f` is not defined yet: finish task 1" in out


def test_a_failed_required_case_earns_nothing_and_stubs_name_their_task():
    def stub():
        raise NotImplementedError()

    cases = checks.Cases(2, needs={"stub": "task 3"})
    with cases.case("ok"):
        pass
    with cases.case("the point", required=True):
        stub()
    assert cases.earned() == 0.0
    assert (
        cases.results[1].message == "`stub` still raises NotImplementedError: finish task 3 before this test"
    )


def test_a_categorical_axis_needs_a_label_but_no_unit():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.boxplot([[1.0, 2.0], [2.0, 3.0]])
    ax.set_xticks([1, 2], ["A", "B"])
    ax.set(title="latency of A and B", xlabel="version", ylabel="latency")
    with pytest.raises(AssertionError, match="the y-axis label 'latency' of the plot has no unit"):
        checks.check_plot_labelled(fig)
    ax.set_ylabel("latency (ms)")
    checks.check_plot_labelled(fig)
    plt.close(fig)
