"""codecarbon backend for real: one tracker per process, short windows, honest labels."""

from __future__ import annotations

import time

import pytest

from carpentry_kit.energy import energy_methods, make_meter
from carpentry_kit.energy.codecarbon_meter import CodecarbonMeter

REASON = energy_methods()["codecarbon"]
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"codecarbon unusable here: {REASON}")


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(200))


@pytest.fixture(scope="module")
def meter() -> CodecarbonMeter:
    return make_meter("codecarbon")


def test_short_window_is_labelled_by_what_codecarbon_did(meter: CodecarbonMeter) -> None:
    with meter.window() as window:
        busy(0.3)
    reading = window.reading
    assert reading.method == "codecarbon"
    assert set(reading.components_j) >= {"cpu", "dram"}
    assert reading.components_j["cpu"] > 0 and reading.components_j["dram"] > 0
    assert reading.avg_power_w > 0
    modes = {type(h).__name__: getattr(h, "_mode", None) for h in meter.tracker._hardware}
    cpu_is_counted = modes.get("CPU") in {
        "intel_rapl",
        "intel_power_gadget",
        "apple_powermetrics",
        "windows_emi",
    }
    if not cpu_is_counted:
        assert reading.measured is False
        assert "estimate, not a measurement" in reading.notes and "fell back to a model" in reading.notes
        assert f"(codecarbon's {modes['CPU']} model)" in reading.notes
    assert (
        "RAM: codecarbon's model of the whole machine's installed RAM" in reading.notes
    )  # RAM is always modelled: never "measured"
    assert reading.measured is False


def test_windows_reuse_one_tracker_and_do_not_overlap(meter: CodecarbonMeter) -> None:
    second = CodecarbonMeter()
    assert second.tracker is meter.tracker  # the one-second start is paid once per process
    readings = []
    for _ in range(2):
        with second.window() as window:
            busy(0.1)
        readings.append(window.reading)
    ram_power = [r.components_j["dram"] / r.duration_s for r in readings]
    assert ram_power[0] == pytest.approx(ram_power[1], rel=0.2)  # per-window, not cumulative
    assert all(r.duration_s < 1 for r in readings)


def test_country_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARPENTRY_COUNTRY_ISO_CODE", "fra")
    assert CodecarbonMeter().country == "FRA"
