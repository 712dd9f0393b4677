"""The CPU's rated power for the estimate meter: from the CPU's own data where the OS exposes it, else from
``cpu_power.csv``, a table of vendor TDPs matched by model family.

``os_rated_power_w()`` tries, in order:

1. **RAPL's long-term power limit** (PL1) of each package: ``/sys/class/powercap/intel-rapl:N/
   constraint_K_power_limit_uw`` where ``constraint_K_name`` is ``long_term`` — the power the firmware lets
   the package sustain, which is its TDP unless someone changed it (Intel; AMD Zen on recent Linux too).
   Limits outside 1–1000 W a package (a board's "unlimited") are not used.
2. **hwmon** ``fam15h_power``'s ``power1_crit``: the TDP of AMD family 15h/16h processors. Other hwmon
   ``power*_cap`` files are not the CPU's (``amdgpu``'s belong to a GPU, the ACPI ``power_meter``'s to the
   whole machine) and are not used; ``cpufreq`` exposes frequencies, not power, and is not used either.

``table_rated_power_w(model)`` uses the first row of ``cpu_power.csv`` whose ``pattern`` (a regular
expression, case-insensitive, matched as a whole token) occurs in the CPU's model string. Rows name
exact parts first, then generations and families (AMD EPYC, Intel Xeon, Intel Core, AMD Ryzen, Apple M, Arm
server parts), each with the part its figures come from, the vendor's TDP of that part per socket, its
cores, the vendor source and notes. A family row is a *typical-TDP family estimate*, not this CPU's figure.
``scale`` says how the row's TDP becomes this machine's: ``socket`` (a client chip the OS sees whole): TDP ×
sockets; ``core`` (a server part, of which a virtual machine may see a few cores): TDP ÷ the part's cores ×
the physical cores the OS shows. Apple publishes no TDP: its rows are whole-computer maximum power at the wall
(an upper bound), or an assumption, as their notes say.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).with_name("cpu_power.csv")
HWMON_ROOT = Path("/sys/class/hwmon")
SCALES = ("socket", "core")
_PL1_RANGE_W = (1.0, 1000.0)  # a package's long-term limit outside this is not a rated power


@dataclass(frozen=True)
class CpuPowerRow:
    """One row of ``cpu_power.csv``."""

    line: int
    pattern: re.Pattern[str]
    family: str
    part: str
    tdp_w: float
    cores: int
    scale: str
    source: str
    notes: str

    def rated_w(self, sockets: int, cores: int) -> float:
        """This machine's rated power by the row: TDP × sockets, or TDP per core × the cores the OS shows."""
        return self.tdp_w * sockets if self.scale == "socket" else self.tdp_w / self.cores * cores

    def explain(self, model: str, sockets: int, cores: int) -> str:
        if self.scale == "socket":
            how = f"{sockets} x {self.tdp_w:g} W TDP of {self.part}"
        else:
            how = f"{self.tdp_w / self.cores:.3g} W per core x {cores} cores: {self.part}, {self.tdp_w:g} W TDP over {self.cores} cores"
        notes = f"; {self.notes}" if self.notes else ""
        return (
            f"{self.rated_w(sockets, cores):.3g} W ({how}; {self.source}{notes}; the {self.family} row at"
            f" {TABLE.name}:{self.line} matched {model!r})"
        )


@functools.lru_cache(maxsize=1)
def cpu_power_rows() -> tuple[CpuPowerRow, ...]:
    """Every row of ``cpu_power.csv``, in order; a malformed row is a ``ValueError`` naming its line."""
    rows = []
    with TABLE.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                rows.append(_parse_row(line, row))
            except (ValueError, TypeError, re.error) as error:
                raise ValueError(f"{TABLE}:{line}: {error}") from None
    return tuple(rows)


def _parse_row(line: int, row: dict[str, str]) -> CpuPowerRow:
    if None in row or any(value is None for value in row.values()):
        raise ValueError("wrong number of fields (quote a field that holds a comma)")
    tdp_w, cores = float(row["tdp_w"]), int(row["cores"])
    if not 0 < tdp_w < 2000 or cores < 1 or row["scale"] not in SCALES:
        raise ValueError(f"tdp_w {tdp_w}, cores {cores}, scale {row['scale']!r}: out of range")
    if not row["family"] or not row["part"] or not row["source"]:
        raise ValueError("family, part and source are required")
    pattern = re.compile(rf"(?<![\w])(?:{row['pattern']})(?![\w+])", re.IGNORECASE)
    return CpuPowerRow(
        line, pattern, row["family"], row["part"], tdp_w, cores, row["scale"], row["source"], row["notes"]
    )


def match_cpu(model: str) -> CpuPowerRow | None:
    """The first row whose pattern occurs in ``model`` as a whole token, or None."""
    return next((row for row in cpu_power_rows() if row.pattern.search(model)), None)


def table_rated_power_w(model: str, sockets: int, cores: int) -> tuple[float, str] | None:
    """The table's rated power for this machine and where it came from, or None when no row matches."""
    row = match_cpu(model)
    if row is None:
        return None
    return row.rated_w(sockets, cores), row.explain(model, sockets, cores)


def os_rated_power_w(powercap: Path, hwmon: Path | None = None) -> tuple[float, str] | None:
    """The rated power of all CPU packages from the OS (RAPL long-term limits under ``powercap``, else
    ``fam15h_power`` under ``hwmon``, by default ``HWMON_ROOT``), or None where it exposes neither."""
    hwmon = HWMON_ROOT if hwmon is None else hwmon
    limits = _rapl_long_term_limits_w(powercap)
    if limits:
        total = sum(limits)
        return total, (
            f"{total:.3g} W (the long-term power limit, PL1, of {len(limits)} CPU package(s) from"
            f" {powercap}/intel-rapl:*: the firmware's sustained power, usually the TDP)"
        )
    crit = _hwmon_fam15h_w(hwmon)
    if crit:
        total = sum(crit)
        return (
            total,
            f"{total:.3g} W (the TDP of {len(crit)} AMD package(s) from hwmon fam15h_power power1_crit)",
        )
    return None


def _read_number(path: Path) -> float | None:
    try:
        return float(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _rapl_long_term_limits_w(powercap: Path) -> list[float]:
    limits = []
    for package in sorted(powercap.glob("intel-rapl:*")):
        if package.name.count(":") != 1:  # a sub-zone (core, uncore, dram) of a package
            continue
        for name_file in sorted(package.glob("constraint_*_name")):
            try:
                name = name_file.read_text().strip()
            except OSError:
                continue
            if name != "long_term":
                continue
            index = name_file.name.split("_")[1]
            microwatts = _read_number(package / f"constraint_{index}_power_limit_uw")
            if microwatts is not None and _PL1_RANGE_W[0] <= microwatts / 1e6 <= _PL1_RANGE_W[1]:
                limits.append(microwatts / 1e6)
    return limits


def _hwmon_fam15h_w(hwmon: Path) -> list[float]:
    found = []
    for device in sorted(hwmon.glob("hwmon*")):
        try:
            name = (device / "name").read_text().strip()
        except OSError:
            continue
        microwatts = _read_number(device / "power1_crit") if name == "fam15h_power" else None
        if microwatts:
            found.append(microwatts / 1e6)
    return found
