"""RAPL reader against a fake powercap tree: domains, wrap-around, unreadable counters."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from carpentry_kit.energy import EnergyError, EnergyUnavailable
from carpentry_kit.energy.rapl import RaplMeter, counter_delta_uj, find_rapl_domains

MAX_RANGE = 262_143_328_850


def make_zone(root: Path, zone: str, name: str, energy_uj: int, nested_in: str | None = None) -> Path:
    """One powercap zone folder: ``name``, ``energy_uj``, ``max_energy_range_uj``."""
    folder = (root / nested_in / zone) if nested_in else (root / zone)
    folder.mkdir(parents=True)
    (folder / "name").write_text(f"{name}\n")
    (folder / "energy_uj").write_text(f"{energy_uj}\n")
    (folder / "max_energy_range_uj").write_text(f"{MAX_RANGE}\n")
    return folder


def set_energy(zone: Path, energy_uj: int) -> None:
    (zone / "energy_uj").write_text(f"{energy_uj}\n")


@pytest.fixture
def two_socket_tree(tmp_path: Path) -> dict[str, Path]:
    """Two packages, each with core, uncore and dram sub-zones, plus a psys zone (as sysfs nests them)."""
    zones = {}
    for socket in (0, 1):
        package = f"intel-rapl:{socket}"
        zones[f"package-{socket}"] = make_zone(tmp_path, package, f"package-{socket}", 1_000_000)
        for index, name in enumerate(("core", "uncore", "dram")):
            zones[f"{name}-{socket}"] = make_zone(
                tmp_path, f"{package}:{index}", name, 500_000, nested_in=package
            )
    zones["psys"] = make_zone(tmp_path, "intel-rapl:2", "psys", 7_000_000)
    return zones


def test_counts_packages_and_dram_but_not_core_uncore_or_psys(tmp_path: Path, two_socket_tree) -> None:
    domains = find_rapl_domains(tmp_path)
    assert sorted((d.component, d.label) for d in domains) == [
        ("cpu", "intel-rapl:0 (package-0)"),
        ("cpu", "intel-rapl:1 (package-1)"),
        ("dram", "intel-rapl:0:2 (dram)"),
        ("dram", "intel-rapl:1:2 (dram)"),
    ]


def test_window_sums_sockets_and_converts_microjoules(tmp_path: Path, two_socket_tree) -> None:
    zones = two_socket_tree
    meter = RaplMeter(tmp_path)
    meter.begin()
    set_energy(zones["package-0"], 1_000_000 + 3_000_000)  # +3 J
    set_energy(zones["package-1"], 1_000_000 + 2_000_000)  # +2 J
    set_energy(zones["dram-0"], 500_000 + 250_000)  # +0.25 J
    set_energy(zones["core-0"], 99_000_000)  # inside package-0: must not be added
    set_energy(zones["psys"], 99_000_000)
    reading = meter.end()
    assert reading.method == "rapl" and reading.measured
    assert reading.components_j == pytest.approx({"cpu": 5.0, "dram": 0.25})
    assert reading.total_j == pytest.approx(5.25)
    assert "package-0" in reading.notes and "dram" in reading.notes


def test_wrap_around_uses_max_energy_range(tmp_path: Path) -> None:
    zone = make_zone(tmp_path, "intel-rapl:0", "package-0", MAX_RANGE - 1_000_000)
    meter = RaplMeter(tmp_path)
    meter.begin()
    set_energy(zone, 4_000_000)  # wrapped: 1 J before the wrap + 4 J after
    assert meter.end().components_j["cpu"] == pytest.approx(5.0)


def test_counter_delta_plain_and_impossible() -> None:
    assert counter_delta_uj(10, 25, 100) == 15
    assert counter_delta_uj(90, 5, 100) == 15
    with pytest.raises(EnergyError, match="above its max_energy_range_uj"):
        counter_delta_uj(150, 5, 100)


def _assert_permission_message(message: str) -> None:
    assert "permission denied" in message and "CVE-2020-8694" in message and "chmod a+r" in message
    assert "\n" not in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: see the test below for root")
def test_unreadable_counter_explains_permission(tmp_path: Path) -> None:
    zone = make_zone(tmp_path, "intel-rapl:0", "package-0", 1)
    (zone / "energy_uj").chmod(0o000)
    with pytest.raises(EnergyUnavailable) as caught:
        RaplMeter(tmp_path)
    _assert_permission_message(str(caught.value))


def test_kernel_refusal_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel's EACCES on energy_uj (what non-root users get) becomes the one-line hint."""
    make_zone(tmp_path, "intel-rapl:0", "package-0", 1)
    real_read_text = Path.read_text

    def refuse_energy(path: Path, *args, **kwargs) -> str:
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", refuse_energy)
    with pytest.raises(EnergyUnavailable) as caught:
        RaplMeter(tmp_path)
    _assert_permission_message(str(caught.value))
    assert "intel-rapl:0/energy_uj" in str(caught.value)


def test_missing_or_empty_powercap(tmp_path: Path) -> None:
    with pytest.raises(EnergyUnavailable, match="does not exist"):
        RaplMeter(tmp_path / "absent")
    with pytest.raises(EnergyUnavailable, match="no RAPL package zones"):
        RaplMeter(tmp_path)


def test_garbage_counter_is_named(tmp_path: Path) -> None:
    zone = make_zone(tmp_path, "intel-rapl:0", "package-0", 1)
    (zone / "energy_uj").write_text("lots\n")
    with pytest.raises(EnergyUnavailable, match=r"energy_uj holds 'lots'"):
        RaplMeter(tmp_path)
