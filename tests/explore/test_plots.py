"""Plots read stored results, label axes with units, and never let an estimate pass for a measurement."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from explore_records import make_record, write_store  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from carpentry_kit.errors import UsageError  # noqa: E402
from carpentry_kit.explore.plots import (  # noqa: E402
    energy_components,
    pareto_front,
    plot_distributions,
    plot_energy_breakdown,
    plot_metric_vs_param,
    plot_tradeoff,
)

SIZE = "task.params.size"
BASE = [1.0, 1.1, 0.9, 1.05, 0.95]


@pytest.fixture
def results_dir(tmp_path):
    records = []
    for size in (64, 128, 256):
        scale = size / 64
        records.append(
            make_record(
                {SIZE: size},
                {
                    "latency_s": [scale * x for x in BASE],
                    "energy_per_sample_j": [0.5 * scale * x for x in BASE],
                    "test_accuracy": [0.8 + 0.05 * (size == 128)],
                },
            )
        )
    write_store(tmp_path, records)
    return tmp_path


def _ax():
    return Figure().add_subplot()


def test_distributions_show_every_sample_with_units(results_dir):
    ax = plot_distributions(results_dir, "latency_s", ax=_ax())
    assert ax.get_ylabel() == "latency_s (s)"
    assert ax.get_xlabel() == "configuration"  # latency is not an energy figure: no estimate note
    assert "latency_s" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["size=64", "size=128", "size=256"]
    plotted = sum(len(c.get_offsets()) for c in ax.collections)
    assert plotted == 3 * len(BASE)


def test_metric_vs_param_plots_medians_with_ci(results_dir):
    ax = plot_metric_vs_param(results_dir, "latency_s", "size", ax=_ax())
    assert ax.get_xlabel() == SIZE
    assert "latency_s (s)" in ax.get_ylabel()
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [64, 128, 256]
    assert np.allclose(line.get_ydata(), [1.0, 2.0, 4.0])
    assert ax.get_xscale() == "linear"  # 64..256 spans less than 8x: no log axis


def test_estimated_energy_is_drawn_hollow_and_said(results_dir):
    ax = plot_metric_vs_param(results_dir, "energy_per_sample_j", SIZE, ax=_ax())
    line = ax.get_lines()[0]
    assert line.get_markerfacecolor() == "white" and line.get_linestyle() == "--"
    assert "estimated energy, not measured (method: estimate)" in _flat(ax.get_xlabel())
    measured = plot_metric_vs_param(results_dir, "latency_s", SIZE, ax=_ax())
    assert "estimated" not in measured.get_xlabel()


def test_pareto_front_is_goal_aware():
    points = [[1.0, 0.9], [2.0, 0.95], [3.0, 0.9], [0.5, 0.5]]
    assert list(pareto_front(points, ["minimize", "maximize"])) == [True, True, False, True]
    assert list(pareto_front(points, ["maximize", "maximize"])) == [False, True, True, False]


def test_tradeoff_highlights_the_front(results_dir):
    ax = plot_tradeoff(results_dir, "energy_per_sample_j", "test_accuracy", ax=_ax())
    assert ax.get_xlabel().startswith("energy_per_sample_j (J, minimize)\nhollow/hatched: estimated")
    assert _flat(ax.get_xlabel()).endswith("estimated energy, not measured (method: estimate)")
    assert ax.get_ylabel() == "test_accuracy (fraction, maximize)"
    labels = {text: len(coll.get_offsets()) for coll in ax.collections if (text := coll.get_label())}
    # size 64 (least energy) and size 128 (best accuracy) are on the front; 256 is dominated by 128
    assert labels == {"Pareto front (estimated energy)": 2, "dominated (estimated energy)": 1}


def test_energy_breakdown_stacks_components_per_repeat(results_dir):
    table = energy_components(results_dir)
    assert set(table["component"]) == {"cpu", "dram"}
    assert table.groupby("run_id")["joules"].sum().round(9).unique().tolist() == [2.0]  # per_repeat_j
    ax = plot_energy_breakdown(results_dir, ax=_ax())
    assert ax.get_ylabel() == "energy per timed repeat (J)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["cpu (node)", "dram (node)", "hatched: estimated"]
    assert _flat(ax.get_xlabel()).endswith("hatched: estimated energy, not measured (method: estimate)")
    assert all(patch.get_hatch() == "//" for patch in ax.patches if patch.get_height() > 0)


def _flat(text: str) -> str:
    """A label with its wrapping undone."""
    return " ".join(text.split())


def test_side_by_side_plots_titles_and_captions_do_not_overlap(results_dir):
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))  # as lesson 3 draws them
    plot_metric_vs_param(results_dir, "energy_per_sample_j", SIZE, ax=left)
    plot_energy_breakdown(results_dir, by=[SIZE], ax=right)
    fig.tight_layout()
    renderer = fig.canvas.get_renderer()
    for kind in ("title", "xaxis.label"):
        a, b = (_text(ax, kind).get_window_extent(renderer) for ax in (left, right))
        assert a.x1 < b.x0, f"the two {kind}s overlap: {a} vs {b}"
    figure = fig.get_window_extent(renderer)
    for ax in (left, right):
        for kind in ("title", "xaxis.label"):
            box = _text(ax, kind).get_window_extent(renderer)
            assert figure.x0 <= box.x0 and box.x1 <= figure.x1, f"{kind} cut off at the figure's edge"
    plt.close(fig)


def _text(ax, kind: str):
    return ax.title if kind == "title" else ax.xaxis.label


def test_unknown_metric_lists_the_valid_ones(results_dir):
    with pytest.raises(UsageError, match="choose one of: energy_per_sample_j, latency_s, test_accuracy"):
        plot_distributions(results_dir, "latency", ax=_ax())


def test_plots_make_their_own_figure_when_no_axes_given(results_dir):
    import matplotlib.pyplot as plt

    ax = plot_distributions(results_dir, "latency_s")
    assert ax.figure is not None
    plt.close(ax.figure)


def test_the_front_staircase_turns_towards_the_worse_x():
    """The line bounds what the front dominates: flat then up when x is minimised, down then flat when
    x is maximised (both with y maximised)."""
    records = [
        make_record({SIZE: 1}, {"latency_s": [1.0, 1.0], "gflops": [1.0, 1.0]}),
        make_record({SIZE: 2}, {"latency_s": [2.0, 2.0], "gflops": [2.0, 2.0]}),
    ]
    frame = _frame(records)
    ax = plot_tradeoff(frame, "latency_s", "gflops", ax=_ax())  # minimise x: both points on the front
    assert ax.get_lines()[0].get_drawstyle() == "steps-post"
    frame.loc[frame["metric"] == "latency_s", "goal"] = "maximize"
    ax = plot_tradeoff(frame, "latency_s", "gflops", ax=_ax())
    assert ax.get_lines()[0].get_drawstyle() == "steps-pre"


def test_seconds_and_joules_get_si_prefixed_ticks(results_dir):
    ax = plot_tradeoff(results_dir, "energy_per_sample_j", "test_accuracy", ax=_ax())
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(text.endswith("J") for text in ticks)
    assert not any("e-" in text for text in ticks)


def test_trade_off_labels_do_not_overlap(tmp_path):
    records = [
        make_record(
            {SIZE: size, "task.params.dtype": dtype},
            {"latency_s": [1 + size / 1e4] * 2, "test_accuracy": [0.9 + size / 1e5]},
        )  # fmt: skip
        for size in (64, 65, 66, 67)
        for dtype in ("float32", "float64")
    ]
    write_store(tmp_path, records)
    ax = plot_tradeoff(tmp_path, "latency_s", "test_accuracy", ax=_ax())
    ax.figure.canvas.draw()
    boxes = [text.get_window_extent() for text in ax.texts]
    assert len(boxes) == 8
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_long_override_values_are_summarised_in_labels(tmp_path):
    metrics = [{"name": name, "kind": "performance", "unit": "s", "goal": "minimize"} for name in "abc"]
    records = [
        make_record({"metrics": metrics[:1]}, {"latency_s": BASE}),
        make_record({"metrics": metrics}, {"latency_s": BASE}),
    ]
    write_store(tmp_path, records)
    ax = plot_distributions(tmp_path, "latency_s", ax=_ax())
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert all(len(label) < 50 for label in labels) and len(set(labels)) == 2
    assert {label.split(" #")[0] for label in labels} == {"metrics=[a]", "metrics=[a, b, c]"}


def test_measured_and_estimated_energy_are_drawn_differently(tmp_path):
    records = [
        make_record({SIZE: 64}, {"energy_per_sample_j": [x / 2 for x in BASE], "test_accuracy": [0.8]}, measured=True,
                    method="rapl"),
        make_record({SIZE: 128}, {"energy_per_sample_j": BASE, "test_accuracy": [0.9]}),
    ]  # fmt: skip
    write_store(tmp_path, records)
    ax = plot_tradeoff(tmp_path, "energy_per_sample_j", "test_accuracy", ax=_ax())
    faces = {coll.get_label(): coll.get_facecolors() for coll in ax.collections}
    assert set(faces) == {"Pareto front", "Pareto front (estimated energy)"}
    assert len(faces["Pareto front"]) == 1 and len(faces["Pareto front (estimated energy)"]) == 0  # hollow
    assert _flat(ax.get_xlabel()).endswith("(method: estimate)")
    bars = plot_energy_breakdown(tmp_path, ax=_ax())
    hatches = [patch.get_hatch() for patch in bars.patches if patch.get_height() > 0]
    assert sorted(hatches, key=str) == ["//", "//", None, None]  # cpu + dram of each run


def _frame(records):
    from carpentry_kit.results.frame import records_frame

    return records_frame(records, samples=True)


def test_points_of_several_runs_get_their_interval_over_the_runs(tmp_path):
    """Three runs a point: the bar is the interval of the runs' medians (75 % at 3), as compare's is."""
    records = [
        make_record({SIZE: size}, {"latency_s": [size / 64 * factor * x for x in BASE]})
        for size in (64, 128)
        for factor in (1.0, 1.2, 0.9)
    ]
    write_store(tmp_path, records)
    ax = plot_metric_vs_param(tmp_path, "latency_s", SIZE, ax=_ax())
    assert "bars: 75.0 % CI" in " ".join(ax.get_title().split())
