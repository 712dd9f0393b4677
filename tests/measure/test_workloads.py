"""The workload registry and the built-in workloads, driven by the shipped example specs."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest

from carpentry_kit import workloads
from carpentry_kit.data.datasets import load_dataset
from carpentry_kit.errors import UsageError
from carpentry_kit.spec.load import example_spec_path, load_spec
from carpentry_kit.workloads import (
    UnknownWorkloadError,
    Workload,
    WorkloadError,
    get_workload,
    list_workloads,
    register_workload,
    validate_params,
)

torch = pytest.importorskip("torch")
BUILTINS = {"matmul", "mlp-train", "mlp-inference", "heat-surrogate"}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def example_workload(name: str, seed: int | None = None, device: str = "cpu") -> tuple[Workload, object]:
    """The workload of a shipped example spec, built as the runner builds it, and the spec."""
    path = example_spec_path(name)
    spec = load_spec(path)
    seed = spec.task.seed if seed is None else seed
    datasets = {ds.name: load_dataset(ds, path.parent, None, seed) for ds in spec.datasets}
    return get_workload(spec.task.workload)(spec.task.params, datasets, device, seed), spec


def epochs_to_target(workload: Workload, spec) -> tuple[int | None, float]:
    """Epochs a fresh model needs to reach the spec's quality target (None: not within max_steps)."""
    metric = spec.quality_target()
    quality = float("nan")
    for epoch in range(1, workload.max_steps() + 1):
        workload.step()
        quality = workload.evaluate()[metric.name]
        if (quality >= metric.target) if metric.goal == "maximize" else (quality <= metric.target):
            return epoch, quality
    return None, quality


# ---------------------------------------------------------------- registry


def test_listing_needs_no_torch():
    code = (
        "import sys, carpentry_kit.workloads as w; infos = w.list_workloads();"
        "assert 'torch' not in sys.modules, 'torch imported'; print(sorted(infos))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert set(ast.literal_eval(done.stdout)) >= BUILTINS


def test_builtin_metadata():
    infos = list_workloads()
    assert infos["matmul"].scenarios == ("offline",)
    assert set(infos["mlp-train"].scenarios) == {"time-to-quality", "offline"}
    assert set(infos["mlp-inference"].scenarios) == {"single-stream", "multi-stream", "server", "offline"}
    assert infos["tiny-lm"].token_metrics and not infos["mlp-inference"].token_metrics
    assert infos["heat-surrogate"].quality_metrics == {"rel_l2_error": "fraction"}
    assert infos["mlp-train"].quality_metrics == {"test_accuracy": "fraction"}
    assert infos["matmul"].defaults == {"size": 256, "dtype": "float32", "multiplies": 8}


def test_unknown_workload_suggests_and_lists():
    with pytest.raises(KeyError) as caught:
        get_workload("mlp-trian")
    message = str(caught.value)
    assert isinstance(caught.value, UnknownWorkloadError)
    assert "did you mean 'mlp-train'" in message
    assert all(name in message for name in BUILTINS)
    assert "\n" not in message


def test_validate_params_unknown_key_and_types():
    problems = dict(
        validate_params("mlp-train", {"hiden": 32, "batch_size": 1.5, "layers": True, "optimizer": "rmsprop"})
    )
    assert "did you mean 'hidden'" in problems["hiden"]
    assert "expected int" in problems["batch_size"]
    assert "expected int" in problems["layers"]  # a bool is not a number
    assert "adam, sgd" in problems["optimizer"]
    assert set(problems) == {"hiden", "batch_size", "layers", "optimizer"}


def test_validate_params_accepts_good_values():
    assert validate_params("mlp-train", {"learning_rate": 1, "hidden": 8, "optimizer": "sgd"}) == []
    assert validate_params("matmul", {"dtype": "bfloat16", "size": 64}) == []
    assert validate_params("matmul", {"size": 0})[0][0] == "size"
    assert "float32, float64, bfloat16" in validate_params("matmul", {"dtype": "float16"})[0][1]


def test_bad_params_stop_construction_with_one_line():
    with pytest.raises(WorkloadError, match=r"^task\.params\.sise: .*did you mean 'size'") as caught:
        get_workload("matmul")({"sise": 3}, {}, "cpu", 0)
    assert isinstance(caught.value, UsageError)


def test_register_workload_rejects_bad_classes():
    with pytest.raises(TypeError, match="not a Workload"):
        register_workload(dict)

    class Weird(get_workload("matmul")):
        scenarios = ("batch",)

    with pytest.raises(TypeError, match="unknown scenario 'batch'"):
        register_workload(Weird)

    class Clash(get_workload("matmul")):
        pass

    with pytest.raises(TypeError, match="name 'matmul' is taken"):
        register_workload(Clash)


PLUGIN = """
import numpy as np
from carpentry_kit.workloads import Workload


class CumulativeSum(Workload):
    name = "cumsum"
    summary = "Cumulative sum of a random vector with numpy"
    scenarios = ("offline",)
    defaults = {"length": 1000}
    quality_metrics = {"last_value_error": "fraction"}

    def setup(self):
        self.reset(self.seed)

    def reset(self, seed):
        self.values = np.random.default_rng(seed).random(self.params["length"])

    def step(self):
        self.total = np.cumsum(self.values)[-1]
        return 1

    def evaluate(self):
        return {"last_value_error": abs(self.total - self.values.sum()) / self.values.sum()}
"""


@pytest.fixture
def plugin_entry_points(tmp_path, monkeypatch):
    """Entry points as an installed plugin would declare them: one good, one broken."""
    (tmp_path / "ck_test_plugin.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    group = workloads.ENTRY_POINT_GROUP
    points = [
        EntryPoint("cumsum", "ck_test_plugin:CumulativeSum", group),
        EntryPoint("broken", "ck_test_no_such_module:Nothing", group),
    ]

    def fake_entry_points(*, group: str):
        return [point for point in points if point.group == group]

    monkeypatch.setattr(workloads, "entry_points", fake_entry_points)


def test_entry_point_workloads_are_added(plugin_entry_points):
    with pytest.warns(UserWarning, match="'broken'.*failed to load"):
        infos = list_workloads()
    assert infos["cumsum"].defaults == {"length": 1000}
    assert set(infos) >= BUILTINS
    cls = get_workload("cumsum")  # the broken plugin was reported once; the scan is cached
    workload = cls({"length": 10}, {}, "cpu", 3)
    workload.setup()
    assert workload.step() == 1
    assert workload.evaluate()["last_value_error"] < 1e-12


# ---------------------------------------------------------------- matmul


def test_matmul_flop_count_and_samples():
    workload = get_workload("matmul")({"size": 32, "multiplies": 3}, {}, "cpu", 0)
    workload.setup()
    assert workload.work_per_sample() == {"flop": 2.0 * 32**3, "bytes": 3.0 * 32**2 * 4}  # float32
    assert workload.step() == 3
    exact = workload.reference[0] @ workload.reference[1]
    assert torch.allclose(workload.product.double(), exact, rtol=1e-4, atol=1e-4)


def test_matmul_precision_shows_in_quality():
    errors = {}
    for dtype in ("float32", "bfloat16"):
        workload = get_workload("matmul")({"size": 64, "dtype": dtype}, {}, "cpu", 0)
        workload.setup()
        errors[dtype] = workload.evaluate()["rel_error"]
    assert errors["float32"] < 1e-5 < 1e-4 < errors["bfloat16"] < 0.1


def test_matmul_deterministic_under_seed():
    def first_entry(seed: int) -> float:
        workload = get_workload("matmul")({"size": 16}, {}, "cpu", seed)
        workload.setup()
        workload.step()
        return float(workload.product[0, 0])

    assert first_entry(1) == first_entry(1)
    assert first_entry(1) != first_entry(2)


# ---------------------------------------------------------------- training workloads


@pytest.mark.parametrize("example", ["digits-mlp", "heat-surrogate"])
def test_example_reaches_its_target_for_every_seed(example):
    workload, spec = example_workload(example)
    workload.setup()
    for seed in spec.protocol.seeds:
        workload.reset(seed)
        epochs, quality = epochs_to_target(workload, spec)
        assert epochs is not None, f"{example} seed {seed}: {quality} after {workload.max_steps()} epochs"
        assert epochs > 1  # a time-to-quality example with a curve to teach, not solved at once


@pytest.mark.parametrize("example", ["digits-mlp", "heat-surrogate"])
def test_same_seed_same_quality(example):
    qualities = []
    for seed in (0, 0, 1):
        workload, spec = example_workload(example, seed=seed)
        workload.setup()
        for _ in range(3):
            workload.step()
        qualities.append(workload.evaluate()[spec.quality_target().name])
    assert qualities[0] == qualities[1]
    assert qualities[0] != qualities[2]


def test_reset_starts_a_fresh_model():
    workload, spec = example_workload("heat-surrogate")
    workload.setup()
    untrained = workload.evaluate()["rel_l2_error"]
    for _ in range(5):
        workload.step()
    assert workload.evaluate()["rel_l2_error"] < untrained
    workload.reset(spec.task.seed)
    assert workload.evaluate()["rel_l2_error"] == untrained


def test_training_reports_epochs_cap_and_flop():
    workload, spec = example_workload("digits-mlp")
    workload.setup()
    assert workload.max_steps() == spec.task.params["max_epochs"]
    train_rows = len(workload.datasets["digits"].splits["train"])
    assert workload.step() == train_rows
    hidden, layers = spec.task.params["hidden"], spec.task.params.get("layers", 1)
    forward = 2 * (64 * hidden + (layers - 1) * hidden * hidden + hidden * 10)  # 64 pixels -> 10 classes
    work = workload.work_per_sample()
    assert work["flop"] == 3.0 * forward
    widths = [64] + [hidden] * layers + [10]
    weights = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:], strict=True))  # weights and biases
    batch = spec.task.params["batch_size"]
    forward_bytes = 4 * (
        weights / batch
        + sum(a + b for a, b in zip(widths[:-1], widths[1:], strict=True))
        + 2 * hidden * layers
    )
    assert work["bytes"] == pytest.approx(
        3 * forward_bytes + 7 * 4 * weights / batch
    )  # Adam: 7 values a weight


def test_inference_example():
    workload, spec = example_workload("digits-inference")
    workload.setup()
    assert workload.evaluate()["test_accuracy"] >= spec.quality_target().target
    test_rows = len(workload.datasets["digits"].splits["test"])
    sizes = [workload.step() for _ in range(3)]
    assert sizes[0] == min(256, test_rows) and sum(sizes) <= 3 * 256
    for index in range(test_rows + 2):  # wraps around the test set
        workload.query(index)
    work = workload.work_per_sample()
    assert work["flop"] == 2.0 * (64 * 64 + 64 * 10)
    weights = 64 * 64 + 64 + 64 * 10 + 10
    activations = (64 + 64) + (64 + 10) + 2 * 64
    assert work["bytes"] == pytest.approx(4 * (weights / 256 + activations))
    assert workload.work_per_query()["bytes"] == pytest.approx(4 * (weights + activations))


def test_workload_needs_its_dataset():
    workload = get_workload("mlp-train")({}, {}, "cpu", 0)
    with pytest.raises(WorkloadError, match=r"needs one dataset .*builtin:digits"):
        workload.setup()


def test_classifier_refuses_profile_targets():
    _, spec = example_workload("heat-surrogate")
    heat = {"heat-1d": load_dataset(spec.datasets[0], example_spec_path("heat-surrogate").parent, None, 0)}
    workload = get_workload("mlp-train")({}, heat, "cpu", 0)
    with pytest.raises(WorkloadError, match="one class label per row"):
        workload.setup()


def test_single_stream_refused_where_unsupported():
    workload = get_workload("matmul")({"size": 8}, {}, "cpu", 0)
    with pytest.raises(WorkloadError, match="no single-stream"):
        workload.query(0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("example", ["matmul", "digits-mlp", "digits-inference", "heat-surrogate"])
def test_examples_run_on_cuda(example):
    workload, _ = example_workload(example, device="cuda")
    workload.setup()
    assert workload.step() > 0
    workload.sync()
    assert all(value == value for value in workload.evaluate().values())  # no NaN
