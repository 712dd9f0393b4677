"""Energy readings, windows, the estimate meter, auto selection, carbon, and NVML where a GPU exists."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import pytest

from carpentry_kit.energy import (
    CombinedMeter,
    EnergyError,
    EnergyReading,
    EnergyUnavailable,
    carbon_estimate,
    energy_methods,
    make_meter,
    rapl,
)
from carpentry_kit.energy.cpu_power import match_cpu
from carpentry_kit.energy.estimate import IDLE_ENV_VAR, TDP_ENV_VAR, EstimateMeter
from carpentry_kit.energy.nvml import NvmlMeter, PowerIntegrator, nvml_indices
from carpentry_kit.errors import UsageError

METHODS_HERE = energy_methods()


def busy(seconds: float) -> int:
    """Keep one core busy for about ``seconds``."""
    end, count = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        count += sum(range(200))
    return count


# ------------------------------------------------------------------ readings and windows


def test_reading_units_and_average_power() -> None:
    reading = EnergyReading("rapl", True, {"cpu": 30.0, "dram": 6.0}, 36.0, 2.0)
    assert reading.avg_power_w == pytest.approx(18.0)
    assert reading.as_dict()["avg_power_w"] == pytest.approx(18.0)


def test_zero_length_reading_has_no_average_power() -> None:
    reading = EnergyReading("estimate", False, {"cpu": 0.0}, 0.0, 0.0)
    assert math.isnan(reading.avg_power_w)
    assert reading.as_dict()["avg_power_w"] is None


def test_negative_energy_is_refused_with_a_reason() -> None:
    with pytest.raises(EnergyError, match="counter went backwards"):
        EnergyReading("nvml", True, {"gpu": -1.0}, -1.0, 1.0)
    with pytest.raises(UsageError, match="negative window duration"):
        EnergyReading("nvml", True, {"gpu": 1.0}, 1.0, -0.5)


def test_window_order_is_checked() -> None:
    meter = EstimateMeter()
    with pytest.raises(EnergyError, match="without begin"):
        meter.end()
    meter.begin()
    with pytest.raises(EnergyError, match="begin\\(\\) called twice"):
        meter.begin()
    assert meter.end().duration_s >= 0


# ------------------------------------------------------------------ estimate


def test_estimate_meter_for_real() -> None:
    meter = make_meter("estimate")
    with meter.window() as window:
        busy(0.2)
    reading = window.reading
    assert reading.method == "estimate" and reading.measured is False
    assert reading.components_j["cpu"] > 0 and reading.components_j["dram"] > 0
    assert reading.total_j == pytest.approx(sum(reading.components_j.values()))
    assert 0.15 < reading.duration_s < 5
    assert "estimate, not a measurement" in reading.notes and "W" in reading.notes
    assert meter.rated_source in reading.notes


def test_estimate_is_idle_power_for_the_window_plus_the_share_above_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TDP_ENV_VAR, "100")
    monkeypatch.setenv(IDLE_ENV_VAR, "20")
    meter = EstimateMeter()
    assert meter.rated_source.startswith("100 W from CARPENTRY_CPU_TDP_W")
    cpu_before = time.process_time()
    meter.begin()
    busy(0.2)
    reading = meter.end()
    cpu_seconds = time.process_time() - cpu_before
    assert reading.components_j["cpu"] == pytest.approx(80 * cpu_seconds / (os.cpu_count() or 1), rel=0.1)
    assert reading.components_j["cpu_static"] == pytest.approx(20 * reading.duration_s)
    assert reading.static_j == pytest.approx(
        reading.components_j["cpu_static"] + reading.components_j["dram"]
    )
    assert reading.dynamic_j == pytest.approx(reading.components_j["cpu"])
    assert "the CPU's idle power (20 W from CARPENTRY_CPU_IDLE_W)" in reading.notes


def test_an_idle_window_costs_the_idle_power_not_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TDP_ENV_VAR, "100")
    monkeypatch.delenv(IDLE_ENV_VAR, raising=False)
    meter = EstimateMeter()
    meter.begin()
    time.sleep(0.2)  # no CPU work: the dynamic CPU part is near 0, the static part is not
    reading = meter.end()
    assert reading.components_j["cpu_static"] == pytest.approx(30 * reading.duration_s)  # declared 30%
    assert reading.dynamic_j < 0.1 * reading.static_j
    assert "assumed (30% of rated; not measured here" in reading.notes


@pytest.mark.parametrize("value", ["abc", "-1", "150"])
def test_bad_idle_power_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(TDP_ENV_VAR, "100")
    monkeypatch.setenv(IDLE_ENV_VAR, value)
    with pytest.raises(EnergyError, match=f"{IDLE_ENV_VAR}='{value}' is not a number of watts between 0"):
        EstimateMeter()


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "inf", "-inf"])
def test_bad_rated_power_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(TDP_ENV_VAR, value)
    with pytest.raises(
        EnergyError, match=f"{TDP_ENV_VAR}='{value}' is not a positive, finite number of watts"
    ):
        EstimateMeter()


def test_known_cpu_table_matches_whole_model_names() -> None:
    assert match_cpu("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz").part == "Xeon Gold 6248"
    assert match_cpu("AMD EPYC 7763 64-Core Processor").tdp_w == 280.0
    assert match_cpu("AMD Ryzen 5 3600X 6-Core Processor").part != "Ryzen 5 3600"  # not the 3600
    assert match_cpu("AMD EPYC").part == "EPYC 7763 (generation not named)"  # the family, not a part


# ------------------------------------------------------------------ combining and choosing


def test_combined_meter_adds_components_and_labels_honestly(tmp_path: Path) -> None:
    package = tmp_path / "intel-rapl:0"
    package.mkdir()
    (package / "name").write_text("package-0")
    (package / "energy_uj").write_text("0")
    (package / "max_energy_range_uj").write_text("1000000000")
    meter = CombinedMeter([rapl.RaplMeter(tmp_path), EstimateMeter()])
    assert meter.method == "rapl+estimate" and meter.measured is False
    meter.begin()
    (package / "energy_uj").write_text("2000000")
    busy(0.05)
    reading = meter.end()
    assert reading.components_j["cpu"] > 2.0  # 2 J from RAPL plus the estimate's CPU share
    assert "rapl: measured by the processor's RAPL energy counters" in reading.notes
    assert "estimate: estimate, not a measurement" in reading.notes


def test_energy_methods_gives_a_reason_for_every_unusable_method() -> None:
    assert set(METHODS_HERE) == {"rapl", "nvml", "codecarbon", "estimate"}
    assert METHODS_HERE["estimate"] is None
    for method, reason in METHODS_HERE.items():
        assert reason is None or (isinstance(reason, str) and len(reason) > 10), method


def test_auto_picks_rapl_when_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "intel-rapl:0"
    package.mkdir()
    for name, text in (("name", "package-0"), ("energy_uj", "5"), ("max_energy_range_uj", "100")):
        (package / name).write_text(text)
    monkeypatch.setattr(rapl, "POWERCAP_ROOT", tmp_path)
    assert make_meter("auto").method == "rapl"


def test_auto_on_this_machine_follows_the_documented_order() -> None:
    usable = [m for m in ("rapl", "estimate") if METHODS_HERE[m] is None]  # never codecarbon's models
    meter = make_meter("auto", device="cpu")
    assert meter.method == usable[0]
    meter.close()


@pytest.mark.skipif(METHODS_HERE["nvml"] is None, reason="a GPU is present: auto uses NVML")
def test_auto_on_cuda_without_nvml_explains() -> None:
    with pytest.raises(EnergyUnavailable, match="NVML|nvidia-ml-py"):
        make_meter("auto", device="cuda")


def test_unknown_method_lists_the_valid_ones() -> None:
    with pytest.raises(EnergyError, match="unknown energy method 'joulemeter' — use one of: auto, rapl"):
        make_meter("joulemeter")


# ------------------------------------------------------------------ carbon


def test_carbon_estimate_uses_the_country_grid() -> None:
    kg_fra, method_fra = carbon_estimate(3.6e6, "FRA")  # 1 kWh
    kg_usa, method_usa = carbon_estimate(3.6e6, "usa")
    assert 0 < kg_fra < kg_usa < 2
    assert method_fra.startswith("estimate:") and "France" in method_fra and "gCO2e/kWh" in method_fra
    assert carbon_estimate(0.0, "FRA")[0] == 0.0


def test_carbon_estimate_bad_country() -> None:
    with pytest.raises(EnergyError, match="unknown country code 'XX' — use a 3-letter ISO code such as USA"):
        carbon_estimate(1.0, "XX")


# ------------------------------------------------------------------ NVML


def test_power_integrator_trapezoid_of_a_known_power() -> None:
    integrator = PowerIntegrator(lambda: 50.0, interval_s=0.01)
    started = time.perf_counter()
    first = integrator.energy_j()
    time.sleep(0.2)
    second = integrator.energy_j()
    elapsed = time.perf_counter() - started
    integrator.close()
    assert integrator.samples >= 10  # well above 10 Hz
    assert second - first == pytest.approx(50.0 * elapsed, rel=0.05)


def test_visible_devices_map_to_nvml_indices() -> None:
    uuids = ["GPU-aaaa", "GPU-bbbb", "GPU-cccc"]
    assert nvml_indices("cuda", None, uuids) == [0, 1, 2]
    assert nvml_indices("cuda", "2,0", uuids) == [2, 0]
    assert nvml_indices("cuda:1", "2,0", uuids) == [0]
    assert nvml_indices("cuda:0", "GPU-bbbb", uuids) == [1]
    with pytest.raises(EnergyUnavailable, match="only 2 GPU\\(s\\) are visible"):
        nvml_indices("cuda:2", "0,1", uuids)
    with pytest.raises(EnergyUnavailable, match="NVML sees 3"):
        nvml_indices("cuda", "7", uuids)


@pytest.mark.gpu
@pytest.mark.skipif(METHODS_HERE["nvml"] is not None, reason=f"NVML unusable here: {METHODS_HERE['nvml']}")
def test_nvml_meter_on_a_real_gpu() -> None:
    meter = NvmlMeter("cuda:0")
    with meter.window() as window:
        time.sleep(0.3)
    meter.close()
    reading = window.reading
    assert reading.method == "nvml" and reading.measured
    assert reading.components_j["gpu"] > 0  # an idle GPU still draws tens of watts
    assert 1 < reading.avg_power_w < 2000


def test_nvml_meters_the_gpu_the_run_uses() -> None:
    from carpentry_kit.energy.select import nvml_device

    assert nvml_device("cpu") == "cuda"  # a CPU run: every GPU of the node
    assert nvml_device("cuda:1") == "cuda:1"
    assert nvml_device("cuda") == "cuda:0"  # torch's current device (0 here: no CUDA, or none set)


def test_a_power_sampler_that_died_is_never_read_as_measured() -> None:
    calls = {"n": 0}

    def flaky_power_w() -> float:
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("NVML_ERROR_GPU_IS_LOST")
        return 100.0

    integrator = PowerIntegrator(flaky_power_w, interval_s=0.001)
    deadline = time.perf_counter() + 5
    while integrator.failure is None and time.perf_counter() < deadline:
        time.sleep(0.005)
    assert integrator.failure == "RuntimeError: NVML_ERROR_GPU_IS_LOST"
    with pytest.raises(EnergyError, match="power sampler stopped .*GPU_IS_LOST"):
        integrator.energy_j()
    integrator.close()


class _FakeNvml:
    """Just enough of pynvml for NvmlMeter's start-up: init works, then the device count fails."""

    class NVMLError(Exception):
        pass

    def __init__(self) -> None:
        self.shutdowns = 0

    def nvmlInit(self) -> None:
        pass

    def nvmlDeviceGetCount(self) -> int:
        raise self.NVMLError("driver gone")

    def nvmlShutdown(self) -> None:
        self.shutdowns += 1


def test_nvml_is_shut_down_once_when_the_meter_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from carpentry_kit.energy import nvml

    fake = _FakeNvml()
    monkeypatch.setattr(nvml, "_import_nvml", lambda: fake)
    with pytest.raises(fake.NVMLError):
        nvml.NvmlMeter("cuda")
    assert fake.shutdowns == 1
