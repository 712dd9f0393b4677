"""RAPL energy counters through Linux powercap (``/sys/class/powercap/intel-rapl:*``).

Zones ``intel-rapl:N`` are packages (``name`` = ``package-N``); their sub-zones ``intel-rapl:N:M`` are
``core``, ``uncore`` (already inside the package: not added again) and ``dram`` (outside it: added).
``psys`` (whole platform, includes the packages) is skipped to avoid double counting. AMD CPUs use the
same interface but expose package (and core) zones only, no ``dram``; many client Intel CPUs have no
``dram`` zone either. The meter reports exactly the components whose zones exist (``notes`` lists them).
Counters are microjoules and wrap at ``max_energy_range_uj``; one wrap per window is corrected, so keep
windows shorter than a wrap period (minutes at full load).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from carpentry_kit.energy.base import EnergyError, EnergyMeter, EnergyUnavailable

POWERCAP_ROOT = Path("/sys/class/powercap")
_ZONE = re.compile(r"^intel-rapl:(\d+)(?::(\d+))?$")
PERMISSION_HINT = (
    "RAPL counters are readable by root only since CVE-2020-8694 — run as root or "
    "`sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj /sys/class/powercap/intel-rapl:*:*/energy_uj`"
)


@dataclass(frozen=True)
class RaplDomain:
    """One counter: which component it feeds (``cpu`` or ``dram``), its file and its wrap range."""

    component: str
    label: str
    energy_file: Path
    max_range_uj: int


def _component(name: str, is_subzone: bool) -> str | None:
    """Map a zone's ``name`` to the component it counts, or None when it must not be added."""
    if name.startswith("package") and not is_subzone:
        return "cpu"
    if name == "dram":
        return "dram"
    return None  # core/uncore (inside package), psys (contains package), anything unknown


def _read_text(path: Path) -> str:
    try:
        return path.read_text().strip()
    except PermissionError as exc:
        raise EnergyUnavailable(f"cannot read {path}: permission denied — {PERMISSION_HINT}") from exc
    except OSError as exc:
        raise EnergyUnavailable(
            f"cannot read {path}: {exc.strerror or exc} — is this a RAPL powercap zone?"
        ) from exc


def _read_int(path: Path) -> int:
    text = _read_text(path)
    try:
        return int(text)
    except ValueError as exc:
        raise EnergyUnavailable(f"{path} holds {text!r}, not a whole number of microjoules") from exc


def _zone_dirs(root: Path) -> dict[str, Path]:
    """Every ``intel-rapl:*`` zone under root, flat (sysfs links) or nested, once per zone name."""
    zones: dict[str, Path] = {}
    for path in sorted(root.glob("intel-rapl:*")) + sorted(root.glob("intel-rapl:*/intel-rapl:*")):
        if _ZONE.match(path.name) and path.name not in zones:
            zones[path.name] = path
    return zones


def find_rapl_domains(root: Path | str | None = None) -> list[RaplDomain]:
    """The package counters, and DRAM counters where the machine has them, under ``root`` (default
    ``/sys/class/powercap``).

    Raises EnergyUnavailable saying why when there are none or they cannot be read.
    """
    root = Path(root if root is not None else POWERCAP_ROOT)
    if not root.is_dir():
        raise EnergyUnavailable(
            f"{root} does not exist — no RAPL powercap interface (not Linux, or a VM without it)"
        )
    domains = []
    for zone_name, path in _zone_dirs(root).items():
        is_subzone = _ZONE.match(zone_name).group(2) is not None  # type: ignore[union-attr]
        name = _read_text(path / "name") if (path / "name").exists() else ""
        component = _component(name, is_subzone)
        if component is None:
            continue
        max_range = _read_int(path / "max_energy_range_uj")
        _read_int(path / "energy_uj")  # fail now, with the permission hint, not mid-run
        domains.append(RaplDomain(component, f"{zone_name} ({name})", path / "energy_uj", max_range))
    if not domains:
        raise EnergyUnavailable(
            f"no RAPL package zones under {root} — this CPU or kernel exposes no RAPL counters"
        )
    return domains


def counter_delta_uj(start: int, stop: int, max_range_uj: int) -> int:
    """Microjoules between two readings of a counter that wraps to 0 after ``max_range_uj``."""
    if stop >= start:
        return stop - start
    if start > max_range_uj:
        raise EnergyError(
            f"RAPL counter read {start} µJ, above its max_energy_range_uj {max_range_uj} — the counter is not "
            "what powercap says it is; repeat the measurement"
        )
    return stop + max_range_uj - start


class RaplMeter(EnergyMeter):
    """CPU package energy (and DRAM where a ``dram`` zone exists) from RAPL, summed over sockets. Measured."""

    method = "rapl"
    measured = True

    def __init__(self, root: Path | str | None = None) -> None:
        super().__init__()
        self.domains = find_rapl_domains(root)

    def _snapshot(self) -> list[int]:
        return [_read_int(domain.energy_file) for domain in self.domains]

    def _components(self, start: list[int], stop: list[int], duration_s: float) -> dict[str, float]:
        joules: dict[str, float] = {}
        for domain, first, last in zip(self.domains, start, stop, strict=True):
            delta = counter_delta_uj(first, last, domain.max_range_uj) / 1e6
            joules[domain.component] = joules.get(domain.component, 0.0) + delta
        return joules

    def _notes(self) -> str:
        missing = (
            ""
            if any(d.component == "dram" for d in self.domains)
            else "; no DRAM zone here: DRAM not counted"
        )
        return (
            "measured by the processor's RAPL energy counters: "
            + ", ".join(domain.label for domain in self.domains)
            + missing
        )
