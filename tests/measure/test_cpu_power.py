"""The estimate meter's rated CPU power: the OS's own figures, the family table, the fallback, and the notes."""

from __future__ import annotations

import pytest

from carpentry_kit import system
from carpentry_kit.energy import cpu_power, rapl
from carpentry_kit.energy.cpu_power import cpu_power_rows, match_cpu, os_rated_power_w
from carpentry_kit.energy.estimate import IDLE_ENV_VAR, TDP_ENV_VAR, EstimateMeter, rated_cpu_power_w

FAMILIES = {"AMD EPYC", "Intel Xeon", "Intel Core", "AMD Ryzen", "Apple M", "Arm server"}


def test_every_row_of_the_table_parses_and_says_where_its_figure_comes_from():
    rows = cpu_power_rows()
    assert len(rows) > 50
    assert {row.family for row in rows} == FAMILIES
    for row in rows:
        assert row.source and row.part and row.tdp_w > 0 and row.cores >= 1, row.line
        assert row.scale in ("socket", "core"), row.line


def test_a_malformed_row_is_refused_naming_its_line(tmp_path, monkeypatch):
    table = tmp_path / "cpu_power.csv"
    header = "pattern,family,part,tdp_w,cores,scale,source,notes\n"
    table.write_text(
        header + "EPYC 7763,AMD EPYC,EPYC 7763,280,64,core,AMD,\nEPYC,AMD EPYC,x,-5,1,core,AMD,\n"
    )
    monkeypatch.setattr(cpu_power, "TABLE", table)
    cpu_power_rows.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"cpu_power.csv:3: tdp_w -5.0"):
            cpu_power_rows()
    finally:
        cpu_power_rows.cache_clear()


# Real model strings (from /proc/cpuinfo, cloud instances and QEMU's CPU models) -> family, part used.
KNOWN = [
    ("AMD EPYC 7763 64-Core Processor", "AMD EPYC", "EPYC 7763"),
    ("AMD EPYC 7B13", "AMD EPYC", "Milan"),
    ("AMD EPYC 7R32", "AMD EPYC", "Rome"),
    ("AMD EPYC 9654P 96-Core Processor", "AMD EPYC", "EPYC 9654"),
    ("AMD EPYC 9R14 96-Core Processor", "AMD EPYC", "Genoa"),
    ("AMD EPYC 9755 128-Core Processor", "AMD EPYC", "Turin"),
    ("AMD EPYC-Milan Processor", "AMD EPYC", "Milan"),
    ("AMD EPYC Processor (with IBPB)", "AMD EPYC", "generation not named"),
    ("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "Intel Xeon", "3rd generation"),
    ("Intel(R) Xeon(R) Platinum 8488C", "Intel Xeon", "4th generation"),
    ("Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", "Intel Xeon", "2nd generation"),
    ("Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz", "Intel Xeon", "3rd generation"),
    ("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", "Intel Xeon", "E5-2690 v4"),
    ("Intel(R) Xeon(R) 6980P", "Intel Xeon", "Granite Rapids"),
    ("Intel Xeon Processor (Icelake)", "Intel Xeon", "3rd generation"),
    ("Intel(R) Xeon(R) Processor", "Intel Xeon", "generation not named"),  # this KVM machine
    ("Intel(R) Xeon(R) CPU @ 2.20GHz", "Intel Xeon", "generation not named"),
    ("Intel(R) Core(TM) i7-8565U CPU @ 1.80GHz", "Intel Core", "U-series"),
    ("11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz", "Intel Core", "Core i7-1165G7"),
    ("12th Gen Intel(R) Core(TM) i7-12800H", "Intel Core", "H-series"),
    ("13th Gen Intel(R) Core(TM) i9-13900KF", "Intel Core", "unlocked desktop"),
    ("Intel(R) Core(TM) i7-7700 CPU @ 3.60GHz", "Intel Core", "(desktop)"),
    ("Intel(R) Core(TM) Ultra 7 258V", "Intel Core", "Lunar Lake"),
    ("AMD Ryzen 7 PRO 4750U with Radeon Graphics", "AMD Ryzen", "U-series"),
    ("AMD Ryzen 7 7840U w/ Radeon 780M Graphics", "AMD Ryzen", "7040/8040"),
    ("AMD Ryzen 5 3600 6-Core Processor", "AMD Ryzen", "Ryzen 5 3600"),
    ("AMD Ryzen 5 3600X 6-Core Processor", "AMD Ryzen", "X desktop"),
    ("AMD Ryzen 7 7800X3D 8-Core Processor", "AMD Ryzen", "7800X3D"),
    ("AMD Ryzen AI 9 HX 370 w/ Radeon 890M", "AMD Ryzen", "Strix Point"),
    ("AMD Ryzen Threadripper PRO 5995WX 64-Cores", "AMD Ryzen", "Threadripper"),
    ("Apple M1", "Apple M", "Mac mini"),
    ("Apple M2 Pro", "Apple M", "Pro"),
    ("Apple M3 Max", "Apple M", "Max"),
    ("Apple M2 Ultra", "Apple M", "Ultra"),
    ("ARM Neoverse-N1", "Arm server", "Neoverse N1"),
    ("ARM Neoverse-V2", "Arm server", "Grace"),
    ("Ampere Altra Q80-30", "Arm server", "Altra Q80-30"),
    ("Ampere Altra Max M128-30", "Arm server", "Altra Max"),
    ("AWS Graviton2 Processor", "Arm server", "Neoverse N1"),
    ("NVIDIA Grace", "Arm server", "Grace"),
]


@pytest.mark.parametrize(("model", "family", "part"), KNOWN)
def test_known_model_strings_map_to_their_family(model, family, part):
    row = match_cpu(model)
    assert row is not None and row.family == family and part in row.part, (model, row)


@pytest.mark.parametrize("model", ["ARM Cortex-A72", "Zhaoxin KaiXian KX-6640MA@2.2+GHz", "unknown", ""])
def test_an_unknown_cpu_matches_no_row(model):
    assert match_cpu(model) is None


@pytest.fixture
def bare_os(tmp_path, monkeypatch):
    """A machine whose OS exposes no rated power (empty powercap and hwmon), no overrides set."""
    monkeypatch.setattr(rapl, "POWERCAP_ROOT", tmp_path / "powercap")
    monkeypatch.setattr(cpu_power, "HWMON_ROOT", tmp_path / "hwmon")
    monkeypatch.delenv(TDP_ENV_VAR, raising=False)
    monkeypatch.delenv(IDLE_ENV_VAR, raising=False)
    return tmp_path


def _machine(monkeypatch, model: str, sockets: int = 1, cores: int = 4) -> None:
    monkeypatch.setattr(system, "cpu_model_name", lambda: model)
    monkeypatch.setattr(system, "cpu_socket_count", lambda: sockets)
    monkeypatch.setattr(system, "cpu_core_count", lambda: cores)


def test_a_server_family_is_scaled_by_the_cores_the_os_shows(bare_os, monkeypatch):
    _machine(monkeypatch, "AMD EPYC 9R14 96-Core Processor", cores=4)  # a 4-core slice of a Genoa
    watts, source = rated_cpu_power_w()
    assert watts == pytest.approx(360 / 96 * 4)
    assert "3.75 W per core x 4 cores" in source and "AMD EPYC row at cpu_power.csv:" in source
    assert "9R14" in source and "family estimate" in source


def test_a_client_chip_is_scaled_by_sockets(bare_os, monkeypatch):
    _machine(monkeypatch, "AMD Ryzen 7 5800X 8-Core Processor", sockets=1, cores=8)
    watts, source = rated_cpu_power_w()
    assert watts == 105 and "1 x 105 W TDP of Ryzen 7 5800X" in source


def test_an_unknown_cpu_falls_back_and_the_reading_says_so_naming_the_cpu(bare_os, monkeypatch):
    _machine(monkeypatch, "Zhaoxin KaiXian KX-6640MA")
    reading = _one_window()
    assert "FALLBACK" in reading.notes and "'Zhaoxin KaiXian KX-6640MA'" in reading.notes
    assert "codecarbon's default for an unknown CPU" in reading.notes and TDP_ENV_VAR in reading.notes


def test_the_reading_names_the_table_row_it_used(bare_os, monkeypatch):
    _machine(monkeypatch, "AMD EPYC 7763 64-Core Processor", cores=64)
    reading = _one_window()
    assert "280 W" in reading.notes and "AMD product page: Default TDP" in reading.notes
    assert "FALLBACK" not in reading.notes


def test_the_cpus_own_power_limit_comes_before_the_table(bare_os, monkeypatch):
    _machine(monkeypatch, "AMD EPYC 7763 64-Core Processor", cores=64)
    for index, limit_uw in ((0, 165_000_000), (1, 180_000_000)):
        package = bare_os / "powercap" / f"intel-rapl:{index}"
        (package / f"intel-rapl:{index}:0").mkdir(parents=True)  # a sub-zone: not a package
        (package / "constraint_0_name").write_text("long_term\n")
        (package / "constraint_0_power_limit_uw").write_text(f"{limit_uw}\n")
        (package / "constraint_1_name").write_text("short_term\n")
        (package / "constraint_1_power_limit_uw").write_text("400000000\n")
    reading = _one_window()
    assert "345 W (the long-term power limit, PL1, of 2 CPU package(s)" in reading.notes
    assert "cpu_power.csv" not in reading.notes


def test_an_unlimited_power_limit_is_not_a_rated_power(bare_os, monkeypatch):
    _machine(monkeypatch, "AMD Ryzen 7 5800X 8-Core Processor", cores=8)
    package = bare_os / "powercap" / "intel-rapl:0"
    package.mkdir(parents=True)
    (package / "constraint_0_name").write_text("long_term\n")
    (package / "constraint_0_power_limit_uw").write_text("4095875000\n")  # a board's "unlimited"
    assert os_rated_power_w(bare_os / "powercap") is None
    assert rated_cpu_power_w()[0] == 105


def test_amd_fam15h_power_hwmon_gives_the_tdp_and_other_hwmon_caps_do_not(bare_os, monkeypatch):
    gpu = bare_os / "hwmon" / "hwmon0"
    gpu.mkdir(parents=True)
    (gpu / "name").write_text("amdgpu\n")
    (gpu / "power1_cap").write_text("200000000\n")  # a GPU's cap: not the CPU's
    assert os_rated_power_w(bare_os / "powercap") is None
    cpu = bare_os / "hwmon" / "hwmon1"
    cpu.mkdir()
    (cpu / "name").write_text("fam15h_power\n")
    (cpu / "power1_crit").write_text("95000000\n")
    watts, source = os_rated_power_w(bare_os / "powercap")
    assert watts == 95 and "fam15h_power" in source


def test_the_override_wins_over_everything(bare_os, monkeypatch):
    _machine(monkeypatch, "AMD EPYC 7763 64-Core Processor")
    monkeypatch.setenv(TDP_ENV_VAR, "42")
    assert rated_cpu_power_w() == (42.0, f"42 W from {TDP_ENV_VAR}")


def test_an_arm_cpu_is_named_from_its_ids(monkeypatch):
    cpuinfo = ({"processor": "0", "CPU implementer": "0x41", "CPU part": "0xd0c"},)
    monkeypatch.setattr(system, "_proc_cpuinfo", lambda: cpuinfo)
    assert system.cpu_model_name.__wrapped__() == "ARM Neoverse-N1"
    odd = ({"CPU implementer": "0x61", "CPU part": "0x022"},)
    monkeypatch.setattr(system, "_proc_cpuinfo", lambda: odd)
    assert system.cpu_model_name.__wrapped__() == "ARM part 0x022 (implementer 0x61)"


def test_physical_cores_count_each_core_once(monkeypatch):
    cpus = tuple(
        {"physical id": str(s), "core id": str(c)} for s in (0, 1) for c in (0, 1, 2) for _ in (0, 1)
    )
    monkeypatch.setattr(system, "_proc_cpuinfo", lambda: cpus)  # 2 sockets x 3 cores x 2 threads
    assert system.cpu_core_count.__wrapped__() == 6


def _one_window():
    meter = EstimateMeter()
    meter.begin()
    return meter.end()
